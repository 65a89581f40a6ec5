"""Cross-validated comparison of answerability models on the fitting split only (articles 00-23).

    python bench/cv_answerer.py VARIANT [VARIANT ...]

Needs bench/.cache/cv_fit.pkl (bench/_cv_collect.py). Four folds of whole articles (00-05, 06-11,
12-17, 18-23): per fold, the sentence scorer and the answerability model are fitted on the other
three folds, the threshold is read off their answerable questions at the false-refusal budget, and
the held fold is scored (refusals include the type gate and questions without candidates, as in the
product). Reports pooled held-fold false refusal and near-topic refusal per budget, and the
out-of-fold curve (threshold on the pooled out-of-fold probabilities). Articles 24-47 are never read.

A variant is MODEL:FEATURES, e.g. ``logit:base``, ``gbt3-150-0.1:base+new``; FEATURES is ``base`` (the
18 product features), or ``base+NAME+NAME`` with names from :data:`EXTRA`, or ``base+new`` for all.
"""
from __future__ import annotations

import json
import math
import pickle
import re
import sys
import time

import numpy as np

from _squad_answers import CACHE  # noqa: F401  (sets sys.path)
from fit_answerer import fit_scorer, logistic
from rag.answerer import ExtractiveAnswerer, _context, _terms
from rag.embedder import Embedder
from rag.qtypes import expected_type
from rag.store import load_index
from scipy.optimize import minimize

_CAP = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][\w'’-]*|\d[\d,.]*)")

EXTRA = ("lead_margin", "lead_prob", "rare3_ctx", "rare3_sent", "win_cov", "miss_top_n", "miss_top_w",
         "proper_ctx", "proper_any", "has_proper", "same_top", "lead_rank", "nontitle_cov",
         "nontopic_cov", "n_articles", "lead_cos_gap2", "sent_cov",
         "miss2", "miss_sum", "miss_rare_n", "num_miss", "miss_any_n", "q_len", "run_lead", "run_best",
         "cos_z", "p5_share_miss", "p5_miss_lead", "p5_rare_lead", "p5_nontitle_cov", "max_nontitle_sent",
         "density", "p5_miss_any", "wh_who", "wh_when", "wh_where", "wh_howmany", "wh_what", "wh_why")
_WH = {"wh_who": r"\bwho(m|se)?\b", "wh_when": r"\bwhen\b|what year|which year", "wh_where": r"\bwhere\b",
       "wh_howmany": r"\bhow (many|much)\b", "wh_what": r"\bwhat\b", "wh_why": r"\bwhy\b"}


def _run(q_seq, s_seq) -> int:
    """Longest run of consecutive question terms that occurs consecutively in the sentence."""
    best = 0
    pos = {}
    for j, t in enumerate(s_seq):
        pos.setdefault(t, []).append(j)
    for i in range(len(q_seq)):
        for j in pos.get(q_seq[i], ()):
            k = 0
            while i + k < len(q_seq) and j + k < len(s_seq) and q_seq[i + k] == s_seq[j + k]:
                k += 1
            best = max(best, k)
    return best


def extra_features(a: ExtractiveAnswerer, question, cands, passages) -> dict:
    stats = a.stats
    logits = np.array([c.logit for c in cands])
    order = np.argsort(-logits)
    lead = cands[int(order[0])]
    second = logits[order[1]] if len(cands) > 1 else logits[order[0]] - 10
    ez = np.exp(logits - logits.max())
    q = set(_terms(question))
    idf = {t: stats.idf(t) for t in q}
    text = lead.passage.chunk.text
    cs = _context(lead, a.stored)
    sent = set(_terms(text[lead.start:lead.end]))
    ctx = set(_terms(text[cs:lead.end])) | set(_terms(lead.passage.chunk.title))
    title = set(_terms(lead.passage.chunk.title))
    rare = sorted((t for t in q if t not in title), key=lambda t: -idf[t])[:3]
    rw = sum(idf[t] for t in rare)
    rare3_ctx = sum(idf[t] for t in rare if t in ctx) / rw if rw else 1.0
    rare3_sent = sum(idf[t] for t in rare if t in sent) / rw if rw else 1.0
    # coverage of the question's terms within 60 characters around the lead's typed entity
    win_cov = 0.0
    if lead.typed:
        tot = sum(idf.values()) or 1.0
        for s, e, _ in lead.typed:
            w = set(_terms(text[max(lead.start, s - 60):min(lead.end, e + 60)]))
            win_cov = max(win_cov, sum(idf[t] for t in q if t in w) / tot)
    top = passages[0]
    top_terms = set(_terms(top.chunk.text)) | set(_terms(top.chunk.title))
    miss_top = [t for t in q if t not in top_terms]
    tot = sum(idf.values()) or 1.0
    proper = set()
    for m in _CAP.finditer(question):
        proper.update(_terms(m.group(1)))
    all_terms = set().union(*(set(_terms(p.chunk.text)) | set(_terms(p.chunk.title)) for p in passages))
    nontitle = [t for t in q if t not in title]
    ntw = sum(idf[t] for t in nontitle)
    # topic terms: in 3+ of the retrieved passages
    counts = {t: sum(t in (set(_terms(p.chunk.text)) | set(_terms(p.chunk.title))) for p in passages) for t in q}
    nontopic = [t for t in q if counts[t] < 3]
    ntp = sum(idf[t] for t in nontopic)
    cos_sorted = np.sort(np.array([c.cos for c in cands]))[::-1]
    top_idf = max(idf.values(), default=1.0) or 1.0
    missing = sorted((idf[t] for t in q if t not in ctx), reverse=True)
    q_seq = list(_terms(question))
    ql = max(len(q_seq), 1)
    best_run = 0
    for c in sorted(cands, key=lambda c: -c.logit)[:10]:
        best_run = max(best_run, _run(q_seq, list(_terms(c.text))))
    coss = np.array([c.cos for c in cands])
    ql_low = question.lower()
    wh = {k: float(bool(re.search(v, ql_low))) for k, v in _WH.items()}
    extra2 = {
        "miss2": missing[1] / top_idf if len(missing) > 1 else 0.0,
        "miss_sum": sum(missing),
        "miss_rare_n": float(sum(v > 4.0 for v in missing)),
        "num_miss": float(any(t.isdigit() and t not in ctx for t in q)),
        "miss_any_n": float(sum(t not in all_terms for t in q)),
        "q_len": float(len(q)),
        "run_lead": _run(q_seq, list(_terms(text[cs:lead.end]))) / ql,
        "run_best": best_run / ql,
        "cos_z": float((lead.cos - coss.mean()) / (coss.std() + 1e-6)),
        **wh,
    }
    def p5(ts):
        return {t[:5] for t in ts}
    ctx5, all5 = p5(ctx), p5(all_terms)
    miss5 = [t for t in q if t[:5] not in ctx5]
    sq = sum(v * v for v in idf.values()) or 1.0
    best_nt = 0.0
    for c in cands:
        st = set(_terms(c.text)) | set(_terms(c.passage.chunk.title))
        nt = [t for t in q if t not in set(_terms(c.passage.chunk.title))]
        w_ = sum(idf[t] for t in nt)
        if w_:
            best_nt = max(best_nt, sum(idf[t] for t in nt if t in st) / w_)
    # density: matched question terms (not in the title) / span of terms they occupy in the lead sentence
    seq = list(_terms(text[lead.start:lead.end]))
    hit_pos = [j for j, t in enumerate(seq) if t in q and t not in title]
    density = len(set(seq[j] for j in hit_pos)) / (hit_pos[-1] - hit_pos[0] + 1) if hit_pos else 0.0
    extra2.update({
        "p5_share_miss": len(miss5) / len(q) if q else 0.0,
        "p5_miss_lead": max((idf[t] for t in miss5), default=0.0) / top_idf,
        "p5_rare_lead": sum(idf[t] ** 2 for t in q if t[:5] in ctx5) / sq,
        "p5_nontitle_cov": sum(idf[t] for t in nontitle if t[:5] in ctx5) / ntw if ntw else 1.0,
        "max_nontitle_sent": best_nt,
        "density": density,
        "p5_miss_any": max((idf[t] for t in q if t[:5] not in all5), default=0.0) / top_idf,
    })
    return {**extra2,
        "lead_margin": float(logits[order[0]] - second),
        "lead_prob": float(ez.max() / ez.sum()),
        "rare3_ctx": rare3_ctx,
        "rare3_sent": rare3_sent,
        "win_cov": win_cov,
        "miss_top_n": float(len(miss_top)),
        "miss_top_w": sum(idf[t] for t in miss_top) / tot,
        "proper_ctx": sum(t in ctx for t in proper) / len(proper) if proper else 1.0,
        "proper_any": sum(t in all_terms for t in proper) / len(proper) if proper else 1.0,
        "has_proper": float(bool(proper)),
        "same_top": float(lead.passage.rank == 1),
        "lead_rank": 1.0 / lead.passage.rank,
        "nontitle_cov": sum(idf[t] for t in nontitle if t in ctx) / ntw if ntw else 1.0,
        "nontopic_cov": sum(idf[t] for t in nontopic if t in ctx) / ntp if ntp else 1.0,
        "n_articles": float(len({p.chunk.title for p in passages})),
        "lead_cos_gap2": float(cos_sorted[0] - cos_sorted[1]) if len(cos_sorted) > 1 else 0.0,
        "sent_cov": stats.coverage(list(q), sent),
    }


def gated(a: ExtractiveAnswerer, question, cands, f) -> bool:
    qt = expected_type(question)
    return bool(qt is not None and qt.labels and not f[8] and len(a.named_articles(question, cands)) < 2)


def fit_model(kind: str, X, t):
    n_pos = t.sum()
    sw = np.where(t == 1, 0.5 / n_pos, 0.5 / (len(t) - n_pos))
    if kind.startswith("logit"):
        import fit_answerer
        fit_answerer.L2 = float(kind.split("_")[1]) if "_" in kind else 1e-4
        mu, sd = X.mean(0), X.std(0) + 1e-9
        Z = (X - mu) / sd
        res = minimize(logistic, np.zeros(X.shape[1] + 1), args=(Z, t, sw), jac=True, method="L-BFGS-B")
        w, b = res.x[:-1], res.x[-1]
        return lambda A: 1 / (1 + np.exp(-(((A - mu) / sd) @ w + b)))
    if kind.startswith("gbt"):
        from sklearn.ensemble import GradientBoostingClassifier
        _, depth, n, lr, *rest = kind.split("-")
        sub = float(rest[0]) if rest else 1.0
        m = GradientBoostingClassifier(max_depth=int(depth), n_estimators=int(n), learning_rate=float(lr),
                                       subsample=sub, min_samples_leaf=20, random_state=0)
        m.fit(X, t, sample_weight=sw * len(t))
        return lambda A: m.predict_proba(A)[:, 1]
    if kind.startswith("hgb"):
        from sklearn.ensemble import HistGradientBoostingClassifier
        _, depth, n, lr = kind.split("-")
        m = HistGradientBoostingClassifier(max_depth=int(depth), max_iter=int(n), learning_rate=float(lr),
                                           min_samples_leaf=20, random_state=0, early_stopping=False)
        m.fit(X, t, sample_weight=sw * len(t))
        return lambda A: m.predict_proba(A)[:, 1]
    if kind.startswith("mlp"):
        from sklearn.neural_network import MLPClassifier
        _, h, alpha = kind.split("-")
        mu, sd = X.mean(0), X.std(0) + 1e-9
        # balance by duplicating negatives (MLPClassifier takes no sample weights in older versions)
        ms = [MLPClassifier(hidden_layer_sizes=(int(h),), alpha=float(alpha), max_iter=500, random_state=s)
              for s in range(3)]
        pos, neg = np.where(t == 1)[0], np.where(t == 0)[0]
        rep = np.concatenate([pos, np.resize(neg, len(pos))])
        for m in ms:
            m.fit((X[rep] - mu) / sd, t[rep])
        return lambda A: np.mean([m.predict_proba((A - mu) / sd)[:, 1] for m in ms], axis=0)
    raise ValueError(kind)


INNER = False


def main() -> None:
    global INNER
    args = sys.argv[1:]
    if "--inner" in args:
        INNER = True
        args.remove("--inner")
    variants = args or ["logit:base"]
    t0 = time.perf_counter()
    data = pickle.load(open(CACHE / "cv_fit.pkl", "rb"))
    emb = Embedder()
    stored = load_index(CACHE / "squad_index", embedder_name=emb.name, dim=emb.dim)
    a = ExtractiveAnswerer(stored)
    fold_of = lambda d: d["article"] // 6  # noqa: E731
    # per fold: scorer weights, and per item (base features, extra features, gate)
    per_fold = []
    for f in range(4):
        train = [(np.stack([c.feats for c in d["cands"]]), np.array(d["y"], float), None)
                 for d in data if d["kind"] == "ans" and fold_of(d) != f and d["cands"]]
        w = fit_scorer(train)
        rows = []
        for d in data:
            if not d["cands"]:
                rows.append(None)
                continue
            for c in d["cands"]:
                c.logit = float(c.feats @ w)
            base = a.answerability_features(d["question"], d["cands"], d["passages"])
            ex = extra_features(a, d["question"], d["cands"], d["passages"])
            lead_c = max(d["cands"], key=lambda c: c.logit)
            ex["emb"] = d["qvec"] * stored.sent_vectors[lead_c.sent]
            lead = max(range(len(d["cands"])), key=lambda i: d["cands"][i].logit)
            rows.append((base, ex, gated(a, d["question"], d["cands"], base), bool(d["y"][lead])))
        per_fold.append(rows)
    print(f"features in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    is_ans = np.array([d["kind"] == "ans" for d in data])
    folds = np.array([fold_of(d) for d in data])
    lead_hit = np.mean([per_fold[folds[i]][i] is not None and per_fold[folds[i]][i][3]
                        for i in range(len(data)) if is_ans[i]])
    print(f"cv lead_hit {lead_hit:.4f}  answerable {is_ans.sum()} near-topic {(~is_ans).sum()}", file=sys.stderr)
    budgets = (0.01, 0.015, 0.02, 0.025, 0.03)
    for v in variants:
        kind, feats = v.split(":")
        names = feats.split("+")[1:]
        groups = {"new": list(EXTRA), "new1": list(EXTRA[:17]), "new2": list(EXTRA[17:26]), "new3": list(EXTRA[26:33]),
                  "wh": list(EXTRA[33:])}
        names = [m for n in names for m in groups.get(n, [n])]
        oof = np.full(len(data), -1.0)
        res = {b: [0, 0] for b in budgets}  # refused answerable, refused near
        for f in range(4):
            rows = per_fold[f]
            def mat(ix):
                return np.array([np.concatenate([rows[i][0], [rows[i][1][n] for n in names if n != "emb"]]
                                                + ([rows[i][1]["emb"]] if "emb" in names else [])) for i in ix])
            tr = [i for i in range(len(data)) if folds[i] != f and rows[i] is not None]
            te = [i for i in range(len(data)) if folds[i] == f]
            model = fit_model(kind, mat(tr), is_ans[tr].astype(float))
            if INNER:  # threshold from inner out-of-fold probabilities of the three training folds
                ptr = np.zeros(len(tr))
                trf = folds[tr]
                for g in set(trf.tolist()):
                    m_in = fit_model(kind, mat([i for i, h in zip(tr, trf) if h != g]),
                                     is_ans[[i for i, h in zip(tr, trf) if h != g]].astype(float))
                    ptr[trf == g] = m_in(mat([i for i, h in zip(tr, trf) if h == g]))
            else:
                ptr = model(mat(tr))
            pos = np.sort(ptr[is_ans[tr]])
            te_ok = [i for i in te if rows[i] is not None]
            pte = model(mat(te_ok))
            for i, p in zip(te_ok, pte):
                oof[i] = -1.0 if rows[i][2] else p
            for b in budgets:
                thr = pos[int(np.floor(b * len(pos)))]
                for i in te:
                    refused = oof[i] < thr
                    res[b][0 if is_ans[i] else 1] += refused
        n_a, n_n = is_ans.sum(), (~is_ans).sum()
        out = {"variant": v, "per_fold_threshold": {f"{b}": [round(res[b][0] / n_a, 4), round(res[b][1] / n_n, 4)]
                                                     for b in budgets}}
        pa = np.sort(oof[is_ans])
        curve = {}
        for b in budgets:
            thr = pa[int(np.floor(b * len(pa)))]
            curve[f"{b}"] = round(float(np.mean(oof[~is_ans] < thr)), 4)
        out["oof_curve_nt_at_total_fr"] = curve
        print(json.dumps(out), flush=True)
    print(f"done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
