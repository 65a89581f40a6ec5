"""Greedy forward selection of extra answerability features by cross-validation on articles 00-23
(bench/cv_answerer.py's folds and features); criterion: mean out-of-fold near-topic refusal at total
false-refusal rates of 1.5, 2, 2.5 and 3 %."""
from __future__ import annotations

import pickle
import sys

import numpy as np

import cv_answerer as cv
from cv_answerer import CACHE, EXTRA, ExtractiveAnswerer, Embedder, extra_features, fit_model, fit_scorer, gated, load_index

BUDGETS = (0.015, 0.02, 0.025, 0.03)


def main() -> None:
    data = pickle.load(open(CACHE / "cv_fit.pkl", "rb"))
    emb = Embedder()
    stored = load_index(CACHE / "squad_index", embedder_name=emb.name, dim=emb.dim)
    a = ExtractiveAnswerer(stored)
    folds = np.array([d["article"] // 6 for d in data])
    is_ans = np.array([d["kind"] == "ans" for d in data])
    F, G, ok = [], [], np.array([bool(d["cands"]) for d in data])
    for f in range(4):
        w = fit_scorer([(np.stack([c.feats for c in d["cands"]]), np.array(d["y"], float), None)
                        for d in data if d["kind"] == "ans" and d["article"] // 6 != f and d["cands"]])
        M, g = [], []
        for d in data:
            if not d["cands"]:
                M.append(np.zeros(18 + len(EXTRA)))
                g.append(True)
                continue
            for c in d["cands"]:
                c.logit = float(c.feats @ w)
            base = a.answerability_features(d["question"], d["cands"], d["passages"])
            ex = extra_features(a, d["question"], d["cands"], d["passages"])
            M.append(np.concatenate([base, [ex[n] for n in EXTRA]]))
            g.append(gated(a, d["question"], d["cands"], base))
        F.append(np.array(M))
        G.append(np.array(g))

    def score(cols):
        oof = np.full(len(data), -1.0)
        for f in range(4):
            tr = (folds != f) & ok
            te = (folds == f) & ok & ~G[f]
            m = fit_model("logit", F[f][tr][:, cols], is_ans[tr].astype(float))
            oof[te] = m(F[f][te][:, cols])
        pa = np.sort(oof[is_ans])
        return [float(np.mean(oof[~is_ans] < pa[int(np.floor(b * len(pa)))])) for b in BUDGETS]

    cols = list(range(18))
    cur = score(cols)
    print("base", [round(x, 4) for x in cur], flush=True)
    left = list(range(18, 18 + len(EXTRA)))
    while left:
        best = max(((np.mean(s := score(cols + [j])), j, s) for j in left))
        if best[0] <= np.mean(cur) + 0.002:
            break
        cols.append(best[1])
        left.remove(best[1])
        cur = best[2]
        print("+", EXTRA[best[1] - 18], [round(x, 4) for x in cur], flush=True)
    print("selected", [EXTRA[j - 18] for j in cols[18:]])


if __name__ == "__main__":
    sys.exit(main())
