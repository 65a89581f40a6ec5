"""Fit the linear probe that reads a sentence as addressed to an AI (rag/instructions.py).

    python bench/fit_instructions.py [--write]

A logistic regression over the MiniLM sentence vector (384 weights and a bias), fitted on
calibration data only:

- **instructions**: every sentence of the planted instructions of the calibration halves
  (``split`` ``calibrate``, ``blind_calibrate``, ``blind2_calibrate`` or ``blind3_calibrate`` of
  ``tests/data/grounding_instructions*.jsonl``),
  the exemplar bank of rag/instructions.py, and ``tests/data/instruction_probe_written.jsonl``'s
  50 instructions (written for the probe, in other wordings);
- **ordinary sentences**: the other sentences of those passages and of the calibration-half claim
  passages, the same file's 40 imperatives and second-person sentences that address people, the
  bundled Interpol articles, and every sentence of SQuAD articles 00–23 (``../shared``; the
  product never reads it).

The threshold is the lowest score that flags at most 1 in 1,000 of the SQuAD 00–23 sentences and
none of the written ordinary sentences. Reported, never fitted on: the held halves (``held``,
``blind_held``, ``blind2_held``, ``blind3_held``): the share of planted instruction sentences and of benign-passage sentences
flagged, by the probe alone and by the whole detector (rules, exemplar bank and probe), and the
share of SQuAD 24–47 sentences the probe flags (alone, and with the form of an address it also
needs in the product: :data:`rag.instructions.ADDRESSED`). ``--write`` saves ``rag/data/instruction_probe.json``.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag import instructions  # noqa: E402
from rag.embedder import Embedder  # noqa: E402
from rag.sentences import split_sentences  # noqa: E402

DATA = ROOT / "tests" / "data"
SQUAD = ROOT.parent / "shared" / "eval" / "squad_v1.1_dev" / "paragraphs.jsonl"
OUT = ROOT / "rag" / "data" / "instruction_probe.json"
#: Share of SQuAD 00-23 sentences the threshold may flag.
MAX_FLAGGED = 0.001
CALIBRATE = ("calibrate", "blind_calibrate", "blind2_calibrate", "blind3_calibrate")
HELD = ("held", "blind_held", "blind2_held", "blind3_held")


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def load(pattern: str) -> list[dict]:
    return [json.loads(x) for f in sorted(DATA.glob(pattern)) for x in f.read_text().splitlines() if x.strip()]


def planted_and_plain(records: list[dict], splits: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """(sentences of planted instructions, other sentences of their passages, sentences of
    benign passages) for the records of ``splits``."""
    planted, plain, benign = [], [], []
    for r in records:
        if r["split"] not in splits:
            continue
        if r.get("kind") == "benign":
            benign += sentences(r["passage"])
            continue
        inst = sentences(r["instruction"])
        planted += inst
        plain += [s for s in sentences(r["passage"]) if not any(s.strip() in i or i.strip() in s for i in inst)]
    return planted, plain, benign


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    emb = Embedder()
    instr = load("grounding_instructions*.jsonl")
    claims = load("grounding_claims*.jsonl")
    written = load("instruction_probe_written.jsonl")
    squad = [json.loads(x) for x in SQUAD.read_text().splitlines() if x.strip()]
    fit_squad = [s for p in squad if int(p["pid"][:2]) < 24 for s in sentences(p["context"])]
    held_squad = [s for p in squad if int(p["pid"][:2]) >= 24 for s in sentences(p["context"])]
    bundled = sentences((ROOT / "rag" / "data" / "interpol.txt").read_text())

    planted, plain, benign = planted_and_plain(instr, CALIBRATE)
    claim_plain = sorted({s for r in claims if r["split"] in CALIBRATE for s in sentences(r["passage"])})
    w_pos = [r["text"] for r in written if r["instruction"]]
    w_neg = [r["text"] for r in written if not r["instruction"]]
    pos = planted + list(instructions.EXEMPLARS) + w_pos
    strict_neg = plain + benign + claim_plain + w_neg + bundled  # none of these may be flagged
    x_pos, x_neg, x_sq = emb.encode(pos), emb.encode(strict_neg), emb.encode(fit_squad)
    x = np.vstack([x_pos, x_neg, x_sq])
    y = np.r_[np.ones(len(pos)), np.zeros(len(strict_neg) + len(fit_squad))]
    model = LogisticRegression(C=8.0, class_weight="balanced", max_iter=2000).fit(x, y)
    w, b = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    s_sq, s_neg = x_sq @ w + b, x_neg @ w + b
    threshold = float(np.quantile(s_sq, 1 - MAX_FLAGGED))

    def rate(texts: list[str], whole: bool = False) -> float:
        if not texts:
            return float("nan")
        v = emb.encode(texts)
        if whole:  # the product's detector, one sentence at a time: rules, exemplar bank, probe
            return float(np.mean([bool(instructions.find_instructions([t], vi[None, :], emb, probe=(w, b, threshold)))
                                  for t, vi in zip(texts, v)]))
        return float(np.mean(v @ w + b >= threshold))

    report = {"positives": len(pos), "negatives": len(strict_neg) + len(fit_squad), "threshold": round(threshold, 4),
              "fit": {"planted_flagged": rate(planted), "squad_00_23_flagged": float(np.mean(s_sq >= threshold))}}
    for split in HELD:
        h_planted, _, h_benign = planted_and_plain(instr, (split,))
        report[split] = {"planted_flagged_probe": round(rate(h_planted), 4),
                         "planted_flagged_before": round(float(np.mean([instructions.by_rule(t) for t in h_planted]
                                                                       or [np.nan])), 4),
                         "planted_flagged_whole": round(rate(h_planted, whole=True), 4),
                         "benign_sentences_flagged_probe": round(rate(h_benign), 4),
                         "benign_sentences_flagged_whole": round(rate(h_benign, whole=True), 4)}
    v_held = emb.encode(held_squad)
    addressed = np.array([bool(instructions.ADDRESSED.search(t)) for t in held_squad])
    report["squad_24_47_flagged_probe"] = round(float(np.mean(v_held @ w + b >= threshold)), 5)
    report["squad_24_47_flagged_probe_addressed"] = round(float(np.mean((v_held @ w + b >= threshold) & addressed)), 5)
    report["squad_24_47_sentences"] = len(held_squad)
    if args.write:
        OUT.write_text(json.dumps({"source": "bench/fit_instructions.py", "threshold": threshold, "bias": b,
                                   "weights": [round(float(v), 6) for v in w]}) + "\n")
        print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
