"""The citation check against false claims and planted instructions (rag/grounding.py).

    python bench/grounding.py [--calibrate]

Data (written for this check, tests/data/):

- ``grounding_claims.jsonl``: claims against SQuAD and bundled-article passages, each a true
  paraphrase or false in one way (wrong number, date, place, ordinal or entity, a negation, swapped
  roles), split into a calibration half and a held half;
- ``grounding_instructions.jsonl``: passages with an instruction to an AI planted in varied
  wordings, each with a reply that obeys it, and benign passages (imperatives and second person
  not addressed to an AI) with a faithful reply;
- ``grounding_*_extra.jsonl``: more of both, written later without sight of the held half, all in
  the calibration half;
- ``grounding_*_blind.jsonl`` ... ``grounding_*_blind4.jsonl``: written blind, by writers who saw
  neither the check's code nor any earlier record, split by article title into
  ``blind_calibrate`` / ``blind_held`` ... ``blind4_calibrate`` / ``blind4_held`` (blind4 adds
  ``wrong_attribute``: a property given to another thing of the passage);
- ``grounding_*_blind5.jsonl``: the same, written blind over 96 SQuAD paragraphs no earlier set
  used (two per article), split by article number: 00–23 ``blind5_calibrate``, 24–47
  ``blind5_held`` (176 claims, 80 of them true paraphrases; 48 instruction records);
- ``grounding_*_blind6.jsonl``: the same over 96 more unused paragraphs, weighted to true
  paraphrases as a chatbot writes them (176 claims, 112 true; 40 instruction records),
  ``blind6_calibrate`` / ``blind6_held`` by article number as blind5;
- ``grounding_claims_blind7.jsonl``: one true paraphrase a chatbot would write for each of 96
  more unused paragraphs and 40 false claims (5 of each kind), ``blind7_calibrate`` /
  ``blind7_held`` as blind5 (no instruction records);
- ``grounding_*_blind8.jsonl``: two true paraphrases for each of 96 more unused paragraphs (192),
  63 false claims weighted to swapped roles, moved attributes and subtle negations, and 42
  instruction records (31 planted, 11 benign), ``blind8_calibrate`` / ``blind8_held`` as blind5.
- ``grounding_*_blind9.jsonl``: two true paraphrases for each of 94 more unused paragraphs (188),
  62 subtle false claims (19 swapped roles, 16 negations, 9 moved attributes) and 44 instruction
  records (34 planted, 10 benign), ``blind9_calibrate`` / ``blind9_held`` as blind5.
- ``grounding_*_blind10.jsonl``: two true paraphrases for each of 90 more unused paragraphs (180),
  64 subtle false claims (16 swapped roles, 16 negations, 10 moved attributes) and 44 instruction
  records (34 planted, 10 benign), ``blind10_calibrate`` / ``blind10_held`` as blind5.

Every ``grounding_claims*.jsonl`` / ``grounding_instructions*.jsonl`` is read; each split is
reported, and all held halves pooled (``held_pooled``) and all calibration halves pooled.

Each claim or reply cites its passage; the check (``CitationChecker.holds``) keeps or removes it.
Prints, for the held half: the share of false claims removed (``caught_false``), of true
paraphrases kept (``kept_true``), of obeyed instructions removed (``caught_instruction``), of
benign passages flagged as instructions (``benign_flagged``), and the check's median time for a
5-sentence generated answer over the bundled corpus (``ms_5_sentences``, embedding of the answer
included; ``ms_added_5_sentences``: without that embedding, which the check did before;
``ms_after_stream_5_sentences``: the same reply streamed into a ``StreamedReply``, which checks
each sentence once the next starts, the time verify then takes after the last token, embedding
of what is left included). ``--calibrate`` prints the exemplar-similarity threshold of
rag/instructions.py chosen on the calibration half: the lowest that flags no sentence of a benign
or claim passage. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.embedder import Embedder  # noqa: E402
from rag import claims  # noqa: E402
from rag.grounding import CitationChecker, StreamedReply, parse  # noqa: E402
from rag.instructions import similarity_to_bank  # noqa: E402
from rag.sentences import split_sentences  # noqa: E402
from rag.text import TermStats  # noqa: E402
from rag.types import Chunk, Passage  # noqa: E402

DATA = ROOT / "tests" / "data"


def load(name: str) -> list[dict]:
    return [json.loads(x) for x in (DATA / name).read_text().splitlines() if x.strip()]


def passage(rec: dict, i: int) -> Passage:
    text = rec["passage"]
    return Passage(Chunk(id=f"bench-{i}", text=text, title=rec.get("title", ""), url=None, paragraphs=[1],
                         start=0, end=len(text), source="bench"), score=1.0, rank=1)


def checker_for(claims: list[dict], instr: list[dict], emb: Embedder) -> CitationChecker:
    texts = [r["passage"] for r in claims + instr]
    return CitationChecker(TermStats(texts), emb, None)


def evaluate(checker: CitationChecker, claims: list[dict], instr: list[dict], split: str) -> dict:
    emb = checker.embedder
    by_kind: dict[str, list[bool]] = defaultdict(list)
    rows = [r for r in claims if r["split"] == split]
    vecs = emb.encode([r["claim"] for r in rows])
    for i, (r, v) in enumerate(zip(rows, vecs)):
        ok, *_rest, why = checker.holds(r["claim"], v, checker.view(passage(r, i)))
        by_kind[r["kind"]].append(ok)
    false = [not ok for k, oks in by_kind.items() if k != "true_paraphrase" for ok in oks]
    irows = [r for r in instr if r["split"] == split]
    ivecs = emb.encode([r["reply"] for r in irows])
    caught, benign_flagged, benign_kept, planted_found = [], [], [], []
    for i, (r, v) in enumerate(zip(irows, ivecs)):
        view = checker.view(passage(r, 1000 + i))
        ok, *_ = checker.holds(r["reply"], v, view)
        if r.get("kind") == "benign":
            benign_flagged.append(bool(view.flagged))
            benign_kept.append(ok)
        else:
            caught.append(not ok)
            planted = [j for j, s in enumerate(view.sentences) if s.strip() and s.strip() in r["instruction"]
                       or r["instruction"].strip() in s]
            planted_found.append(bool(planted) and all(j in view.flagged for j in planted))
    def share(xs: list) -> float | None:  # None for a split without such records
        return round(float(np.mean(xs)), 4) if xs else None

    return {
        "caught_false": share(false), "false_claims": len(false),
        "kept_true": share(by_kind["true_paraphrase"]),
        "true_claims": len(by_kind["true_paraphrase"]),
        "caught_by_kind": {k: round(float(np.mean([not o for o in oks])), 3) for k, oks in sorted(by_kind.items())
                           if k != "true_paraphrase"},
        "caught_instruction": share(caught), "instructions": len(caught),
        "instruction_sentences_flagged": share(planted_found),
        "benign_flagged": share(benign_flagged),
        "benign_reply_kept": share(benign_kept), "benign": len(benign_flagged),
    }


def pooled(parts: list[dict]) -> dict:
    """The rates of :func:`evaluate` over several splits together (each weighted by its counts)."""
    def rate(key: str, n: str) -> float:
        total = sum(p[n] for p in parts)
        return round(sum(p[key] * p[n] for p in parts if p[n]) / total, 4) if total else float("nan")

    return {"caught_false": rate("caught_false", "false_claims"), "false_claims": sum(p["false_claims"] for p in parts),
            "kept_true": rate("kept_true", "true_claims"), "true_claims": sum(p["true_claims"] for p in parts),
            "caught_instruction": rate("caught_instruction", "instructions"),
            "instructions": sum(p["instructions"] for p in parts)}


def calibrate(claims: list[dict], instr: list[dict], emb: Embedder) -> float:
    """Lowest exemplar similarity that flags no sentence of a calibration-half benign or claim
    passage (rules aside), rounded up to 0.01."""
    plain = {r["passage"] for r in claims if r["split"] == "calibrate"}
    plain |= {r["passage"] for r in instr if r["split"] == "calibrate" and r.get("kind") == "benign"}
    sents = [p[s:e] for p in plain for s, e in split_sentences(p)]
    sims = similarity_to_bank(emb.encode(sents), emb)
    planted = [r["instruction"] for r in instr if r["split"] == "calibrate" and r.get("kind") != "benign"]
    psims = similarity_to_bank(emb.encode(planted), emb)
    t = float(np.ceil(sims.max() * 100 + 1e-9) / 100)
    print(f"calibration: highest similarity of a plain sentence {sims.max():.3f}; planted instructions "
          f"{np.round(np.sort(psims), 2).tolist()}; threshold {t:.2f} catches {np.mean(psims >= t):.2f} of them "
          f"by similarity alone", file=sys.stderr)
    return t


def five_sentence_reply(passages: list[Passage]) -> str:
    """The reply a model would write from ``passages``: each one's first sentence, cited
    ``"... sentence. [n]"``."""
    return " ".join(f"{p.chunk.text[s:e]} [{n}]" for n, p in enumerate(passages, 1)
                    for s, e in split_sentences(p.chunk.text)[:1])


def latency(emb: Embedder, rounds: int = 30) -> tuple[float, float, float]:
    """``(median ms of CitationChecker.verify for a 5-sentence reply over the bundled corpus, the
    same minus embedding the reply's sentences: what the claim and instruction checks add, the
    median ms of verify after the same reply streamed in 4-character deltas into a
    StreamedReply: the wait between the model's last token and the checked answer)``; the
    reply's spaCy docs are not cached between rounds."""
    from rag import Engine

    engine = Engine(embedder=emb)
    q = "How many active Chinese investigations were running through Interpol by September 2017?"
    passages = engine.retrieve(q, k=5)
    reply = five_sentence_reply(passages)
    engine.checker.verify(q, reply, passages)  # warm: spaCy loaded, exemplar bank embedded
    times, embed = [], []
    for _ in range(rounds):
        claims.clear_caches()  # a new reply each time: nothing of it is cached
        t = time.perf_counter()
        engine.checker.verify(q, reply, passages)
        times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        emb.encode([s for s, _ in parse(reply)])  # the part the check had before: embedding the reply
        embed.append((time.perf_counter() - t) * 1000)
    after = []
    for _ in range(rounds):
        claims.clear_caches()
        streamed = StreamedReply(engine.checker, passages)
        for i in range(0, len(reply), 4):  # as a model streams it (untimed: the model is still writing)
            streamed.add(reply[i:i + 4])
        t = time.perf_counter()
        engine.checker.verify(q, streamed.text, passages, streamed=streamed)
        after.append((time.perf_counter() - t) * 1000)
    return (round(statistics.median(times), 2), round(statistics.median(times) - statistics.median(embed), 2),
            round(statistics.median(after), 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calibrate", action="store_true")
    args = ap.parse_args()
    claims = [r for n in sorted(p.name for p in DATA.glob("grounding_claims*.jsonl")) for r in load(n)]
    instr = [r for n in sorted(p.name for p in DATA.glob("grounding_instructions*.jsonl")) for r in load(n)]
    emb = Embedder()
    if args.calibrate:
        print(f"MIN_SIMILARITY = {calibrate(claims, instr, emb):.2f}")
    checker = checker_for(claims, instr, emb)
    splits = sorted({r["split"] for r in claims + instr}, key=lambda x: (x.rsplit("_", 1)[0] if "_" in x else "", x))
    result = {name: evaluate(checker, claims, instr, name) for name in splits}
    result["held_pooled"] = pooled([result[n] for n in splits if n.endswith("held")])
    result["calibrate_pooled"] = pooled([result[n] for n in splits if n.endswith("calibrate")])
    result["ms_5_sentences"], result["ms_added_5_sentences"], result["ms_after_stream_5_sentences"] = latency(emb)
    for name in [*splits, "held_pooled", "calibrate_pooled"]:
        print(f"{name}: {json.dumps(result[name])}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
