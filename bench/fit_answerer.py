"""Fit the offline answerer's two models (rag/answer_model.py) on SQuAD articles 00-23.

    python bench/fit_answerer.py [--limit N]

1. For every question of articles 00-23: retrieve the top 5 passages with the product retriever,
   build the answerer's candidate sentences and their features (rag.answerer.ExtractiveAnswerer
   .candidates), label each sentence by whether it holds a gold answer (SQuAD-normalised).
2. Sentence scorer: listwise softmax (ListNet top-1) over each question's candidates, L2 1e-4,
   L-BFGS (scipy).
3. Answerability: binary logistic regression, classes balanced, L2 1e-4, on the answerable
   questions vs. the near-topic unanswerable ones (bench/_squad_answers.py).
4. Threshold: the largest answerability probability that refuses at most 2 % of the answerable
   fitting questions.

Prints the constants to paste into rag/answer_model.py (``--write`` replaces them there) and the
fitting split's figures. Articles 24-47 are never read.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time

import numpy as np
from scipy.optimize import minimize

from _squad_answers import (CACHE, DATA, ROOT, gold_rows, holds_answer, load, near_topic_ok,  # noqa: F401
                            question_vectors, split, squad_index)
from rag.answer_model import A_FEATURES, FEATURES
from rag.answerer import ExtractiveAnswerer
from rag.embedder import Embedder
from rag.retriever import HybridRetriever

K = 5
L2 = 1e-4
MAX_FALSE_REFUSAL = 0.02


def collect(questions, qvecs, stored, *, exclude_rows=None):
    """Per question: (X (n, F), y (n,), top passage (dense, score)) or None when no candidate."""
    retriever = HybridRetriever(stored)
    answerer = ExtractiveAnswerer(stored)
    out = []
    for i, (q, qv) in enumerate(zip(questions, qvecs)):
        ex = exclude_rows[i] if exclude_rows is not None else None
        passages = retriever.retrieve(q["question"], qv, K, exclude=ex)
        cands = answerer.candidates(q["question"], qv, passages)
        if not cands:
            out.append(None)
            continue
        X = np.stack([c.feats for c in cands])
        y = np.array([holds_answer(c.text, q["answers"]) for c in cands], dtype=np.float64)
        out.append((X, y, (q["question"], cands, passages)))
    return out, answerer


def listwise_loss(w, X, y, starts, gid):
    z = X @ w
    m = np.maximum.reduceat(z, starts)
    ez = np.exp(z - m[gid])
    Z = np.add.reduceat(ez, starts)
    P = np.add.reduceat(ez * y, starts)
    loss = -np.sum(np.log(P / Z)) / len(starts) + L2 * w @ w
    gz = (ez / Z[gid] - y * ez / P[gid]) / len(starts)
    return loss, X.T @ gz + 2 * L2 * w


def fit_scorer(data):
    groups = [(X, y) for X, y, _ in data if y.sum() > 0 and len(y) > 1]
    X = np.concatenate([g[0] for g in groups])
    y = np.concatenate([g[1] for g in groups])
    sizes = np.array([len(g[1]) for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    gid = np.repeat(np.arange(len(groups)), sizes)
    res = minimize(listwise_loss, np.zeros(X.shape[1]), args=(X, y, starts, gid), jac=True, method="L-BFGS-B")
    return res.x


def a_features(answerer, d, w):
    """The product's answerability features with the candidates rescored by weights ``w``."""
    X, _, (question, cands, passages) = d
    for c, z in zip(cands, X @ w):
        c.logit = float(z)
    return answerer.answerability_features(question, cands, passages)


def logistic(w_b, A, t, sw):
    w, b = w_b[:-1], w_b[-1]
    z = A @ w + b
    p = 1 / (1 + np.exp(-z))
    eps = 1e-12
    loss = -np.sum(sw * (t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps))) / sw.sum() + L2 * w @ w
    g = sw * (p - t) / sw.sum()
    return loss, np.concatenate([A.T @ g + 2 * L2 * w, [g.sum()]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="use every N-th question only (quick runs)")
    ap.add_argument("--write", action="store_true", help="write the constants into rag/answer_model.py")
    args = ap.parse_args()
    paras, questions = load(DATA)
    emb = Embedder()
    stored = squad_index(paras, emb)
    qvecs_all = question_vectors(questions, emb)
    idx = [i for i, q in enumerate(questions) if split(q) == "fit"]
    if args.limit:
        idx = idx[:: args.limit]
    qs = [questions[i] for i in idx]
    qv = qvecs_all[idx]
    t = time.perf_counter()
    ans, answerer = collect(qs, qv, stored)
    ok = near_topic_ok(paras, qs)
    rows = gold_rows(stored)
    un_idx = [i for i, o in enumerate(ok) if o]
    un, _ = collect([qs[i] for i in un_idx], qv[un_idx], stored, exclude_rows=[rows[qs[i]["gold_pid"]] for i in un_idx])
    print(f"features of {len(qs)} answerable and {len(un_idx)} near-topic questions in "
          f"{time.perf_counter() - t:.0f} s", file=sys.stderr)

    w = fit_scorer([d for d in ans if d is not None])
    lead_hit = np.mean([d is not None and d[1][int(np.argmax(d[0] @ w))] > 0 for d in ans])
    print(f"fit: lead sentence holds an answer {lead_hit:.3f}", file=sys.stderr)

    A = np.array([a_features(answerer, d, w) for d in ans if d is not None]
                 + [a_features(answerer, d, w) for d in un if d is not None])
    n_pos = sum(d is not None for d in ans)
    t_lab = np.concatenate([np.ones(n_pos), np.zeros(len(A) - n_pos)])
    sw = np.where(t_lab == 1, 0.5 / n_pos, 0.5 / (len(A) - n_pos))
    res = minimize(logistic, np.zeros(A.shape[1] + 1), args=(A, t_lab, sw), jac=True, method="L-BFGS-B")
    aw, ab = res.x[:-1], res.x[-1]
    p = 1 / (1 + np.exp(-(A @ aw + ab)))
    pos = np.sort(p[:n_pos])
    thr = float(pos[int(np.floor(MAX_FALSE_REFUSAL * n_pos))])  # refuse below: at most 2 % of answerables
    thr = float(np.floor(thr * 1000) / 1000)
    fr = float(np.mean(p[:n_pos] < thr))
    nt = float(np.mean(p[n_pos:] < thr))
    print(f"fit: threshold {thr:.3f}: false refusal {fr:.3f}, near-topic refusal {nt:.3f}", file=sys.stderr)

    curve = {}
    for budget in (0.01, 0.015, 0.02, 0.03, 0.05):
        t_b = float(pos[int(np.floor(budget * n_pos))])
        curve[f"{budget:.3f}"] = round(float(np.mean(p[n_pos:] < t_b)), 4)
    print(f"fit: near-topic refusal at a false-refusal budget of {curve}", file=sys.stderr)

    fmt = lambda v: ", ".join(f"{x:.4f}" for x in v)  # noqa: E731
    consts = {
        "WEIGHTS": f"np.array([{fmt(w)}], dtype=np.float64)",
        "A_WEIGHTS": f"np.array([{fmt(aw)}], dtype=np.float64)",
        "A_BIAS": f"{ab:.4f}",
        "REFUSE_BELOW": f"{thr:.3f}",
    }
    for name, value in consts.items():
        print(f"{name} = {value}")
    if args.write:
        path = ROOT / "rag" / "answer_model.py"
        text = path.read_text()
        for name, value in consts.items():
            text, n = re.subn(rf"^{name} = (?:np\.array\(\[[^\]]*\], dtype=np\.float64\)|[-0-9.]+)$",
                              f"{name} = {value}", text, flags=re.M | re.S)
            assert n == 1, name
        path.write_text(text)
    print(json.dumps({"fit": {"lead_hit": round(float(lead_hit), 4), "false_refusal": round(fr, 4),
                              "near_topic_refusal": round(nt, 4), "threshold": thr,
                              "answerable": len(qs), "near_topic": len(un_idx),
                              "near_topic_refusal_by_false_refusal": curve},
                      "features": list(FEATURES), "a_features": list(A_FEATURES)}))


if __name__ == "__main__":
    main()
