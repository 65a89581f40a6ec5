"""Collect the fit split's (articles 00-23) retrieved passages and candidates once, pickled in
bench/.cache/cv_fit.pkl, for the cross-validation experiments of bench/cv_answerer.py."""
from __future__ import annotations

import pickle
import sys
import time

from _squad_answers import CACHE, DATA, gold_rows, holds_answer, load, near_topic_ok, question_vectors, split, squad_index
from rag.answerer import ExtractiveAnswerer
from rag.embedder import Embedder
from rag.retriever import HybridRetriever

K = 5


def main() -> None:
    paras, questions = load(DATA)
    emb = Embedder()
    stored = squad_index(paras, emb)
    qvecs_all = question_vectors(questions, emb)
    idx = [i for i, q in enumerate(questions) if split(q) == "fit"]
    qs = [questions[i] for i in idx]
    qv = qvecs_all[idx]
    retriever = HybridRetriever(stored)
    answerer = ExtractiveAnswerer(stored)
    ok = near_topic_ok(paras, qs)
    rows = gold_rows(stored)
    out = []
    t = time.perf_counter()
    for i, (q, v) in enumerate(zip(qs, qv)):
        for kind in ("ans", "near"):
            if kind == "near" and not ok[i]:
                continue
            ex = rows[q["gold_pid"]] if kind == "near" else None
            passages = retriever.retrieve(q["question"], v, K, exclude=ex)
            cands = answerer.candidates(q["question"], v, passages)
            y = [holds_answer(c.text, q["answers"]) for c in cands]
            out.append(dict(i=i, kind=kind, article=int(q["gold_pid"][:2]), question=q["question"],
                            answers=q["answers"], qvec=v, passages=passages, cands=cands, y=y))
        if i % 500 == 0:
            print(i, f"{time.perf_counter() - t:.0f}s", file=sys.stderr, flush=True)
    with open(CACHE / "cv_fit.pkl", "wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    print("done", len(out), file=sys.stderr)


if __name__ == "__main__":
    main()
