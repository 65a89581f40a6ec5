"""Fit the second-stage weights (rag/rerank.py) on SQuAD v1.1 dev, articles 00-23 only.

    python bench/tune_retrieval.py            # needs the index bench/retrieval_squad.py builds

For each tuning question, the stage-1 candidates of the product retriever get their feature rows
(label 1 for chunks of the gold paragraph); a linear scorer is fitted with the listwise softmax loss
(:func:`fit_listwise`); the script prints the weights to paste into ``rag/rerank.py`` and the MRR@10 of
stage 1 alone and of the fitted model on the tuning articles. Articles 24-47 are never read here.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval_squad import CACHE, DATA, question_vectors  # noqa: E402

from rag.embedder import Embedder  # noqa: E402
from rag.rerank import FEATURES  # noqa: E402
from rag.retriever import HybridRetriever  # noqa: E402
from rag.store import load_index  # noqa: E402


def fit_listwise(groups, l2: float = 1e-3, iters: int = 600, lr: float = 0.05) -> np.ndarray:
    """Weights of a linear scorer trained with the listwise softmax loss (ListNet top-1, Cao et
    al. 2007): maximise the softmax probability of the gold candidates in each question's list.
    Full-batch Adam on padded arrays."""
    q, c, f = len(groups), max(len(g[0]) for g in groups), groups[0][0].shape[1]
    X = np.zeros((q, c, f))
    Y = np.zeros((q, c))
    M = np.zeros((q, c), dtype=bool)
    for i, g in enumerate(groups):
        n = len(g[0])
        X[i, :n], Y[i, :n], M[i, :n] = g[0], g[1], True
    keep = Y.any(axis=1)
    X, Y, M = X[keep], Y[keep], M[keep]
    Y = Y / Y.sum(axis=1, keepdims=True)
    mu, sd = X[M].mean(axis=0), X[M].std(axis=0) + 1e-9
    Z = np.where(M[..., None], (X - mu) / sd, 0.0)
    w = np.zeros(f)
    m1, m2 = np.zeros(f), np.zeros(f)
    for t in range(1, iters + 1):
        s = np.where(M, Z @ w, -1e9)
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s) * M
        p /= p.sum(axis=1, keepdims=True)
        grad = np.einsum("qc,qcf->f", p - Y, Z) / len(Z) + l2 * w
        m1 = 0.9 * m1 + 0.1 * grad
        m2 = 0.999 * m2 + 0.001 * grad ** 2
        w -= lr * (m1 / (1 - 0.9 ** t)) / (np.sqrt(m2 / (1 - 0.999 ** t)) + 1e-8)
    # back to raw feature units: s = w·(x - mu)/sd  ==  (w/sd)·x - w·mu/sd
    return np.append(w / sd, -float(w @ (mu / sd)))


def mrr(groups, scores_of) -> float:
    total = 0.0
    for feats, labels, pids in groups:
        s = scores_of(feats)
        seen: list[str] = []
        for i in np.argsort(-s, kind="stable"):
            if pids[i] not in seen:
                seen.append(pids[i])
            if labels[i]:
                r = len(seen)
                total += 1 / r if r <= 10 else 0.0
                break
    return total / len(groups)


def main() -> None:
    emb = Embedder()
    stored = load_index(CACHE / "squad_index", embedder_name=emb.name, dim=emb.dim)
    questions = [json.loads(x) for x in (DATA / "questions.jsonl").read_text().splitlines() if x.strip()]
    qvecs = question_vectors(questions, emb)
    keep = [i for i, q in enumerate(questions) if int(q["gold_pid"][:2]) < 24]
    r = HybridRetriever(stored, rerank=True)  # the reranker's features, any weights
    groups = []
    for i in keep:
        q, qv = questions[i], qvecs[i]
        rows, _, _, dense, bm25n, fused = r.candidates_for(q["question"], qv, 10)
        feats = r.reranker.features(q["question"], qv, rows, dense, bm25n)
        pids = [stored.chunks[x].source for x in rows]
        labels = np.array([p == q["gold_pid"] for p in pids], dtype=np.float64)
        groups.append((feats, labels, pids, fused))
    w = fit_listwise([(g[0], g[1]) for g in groups])
    recall = sum(g[1].any() for g in groups) / len(groups)
    stage2 = mrr([(g[0], g[1], g[2]) for g in groups], lambda f: f @ w[:-1] + w[-1])
    stage1 = mrr([(g[3][:, None], g[1], g[2]) for g in groups], lambda f: f[:, 0])
    print(f"{len(groups)} tuning questions (articles 00-23); candidates hold the gold paragraph for {recall:.3f}")
    print(f"stage 1 fused MRR@10 {stage1:.4f}; fitted stage 2 MRR@10 {stage2:.4f}")
    print("WEIGHTS = np.array([" + ", ".join(f"{x:.4f}" for x in w[:-1]) + "], dtype=np.float64)")
    print(f"BIAS = {w[-1]:.4f}")
    print("features:", ", ".join(f"{n}={x:+.3f}" for n, x in zip(FEATURES, w)))


if __name__ == "__main__":
    main()
