"""Calibrate the offline answerer's refusal threshold on a QA file (default: seed_dev.jsonl).

Prints each row's best evidence score (see rag/answerer.py), then the largest score of an
unanswerable row, the smallest of an answerable row, and their midpoint: the threshold to use.

    python bench/calibrate_refusal.py [../shared/eval/seed_dev.jsonl]
"""
import json
import sys
from pathlib import Path

from rag import Engine


def main(path: str) -> None:
    engine = Engine()
    rows = [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]
    scores = {True: [], False: []}
    for row in rows:
        q = row["question"]
        qvec = engine.embedder.encode([q])[0]
        ev = engine.answerer.evidence(q, qvec, engine.retriever.retrieve(q, qvec, engine.settings.k))
        best = ev[0].score if ev else 0.0
        scores[bool(row["answerable"])].append(best)
        print(f"{row['id']}  answerable={row['answerable']!s:<5}  best={best:.3f}  {q}")
    hi_neg, lo_pos = max(scores[False]), min(scores[True])
    print(f"\nmax unanswerable {hi_neg:.3f}  min answerable {lo_pos:.3f}  "
          f"midpoint {(hi_neg + lo_pos) / 2:.3f}  separable={hi_neg < lo_pos}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "shared/eval/seed_dev.jsonl"))
