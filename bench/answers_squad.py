"""The offline answer built from retrieved passages, measured: SQuAD closed corpus and HotpotQA.

    python bench/answers_squad.py [--limit N] [--latency-sample 300]

Uses the retrieval benchmark's cached SQuAD index (bench/retrieval_squad.py, bench/.cache) and
asks through the product's engine (``rag.Engine`` on that index, default settings, k=5):

- ``lead_hit``: the answer's lead (its text up to the first citation marker: the lead sentence,
  with the sentence it refers back to when it needs one) holds an accepted answer (SQuAD-normalised);
  ``first_sentence_hit``: the same for the first sentence alone;
- ``answer_hit``: an accepted answer anywhere in the answer text;
- ``short_answer_em`` / ``short_answer_f1``: SQuAD exact match and token F1 of
  ``Answer.short_answer`` over the questions that expect an answer type (no short answer scores 0);
  ``short_answer_given``: share of those with one;
- ``median_words``: median words of the answer text, citation markers excluded;
- ``false_refusal``: answerable questions refused;
- ``near_topic_refusal``: the same questions asked as if the index lacked their gold paragraph,
  kept when their answer occurs nowhere else (bench/_squad_answers.py), refused;
- ``ms_per_question``: median ``Engine.ask`` time over a sample, embedding included.

``fit`` is articles 00-23 (what bench/fit_answerer.py fitted on), ``heldout`` articles 24-47;
``before`` is the answerer of d85e2ce (bench/_before_answerer.py) on the same held-out passages.
``hotpot``: the 100 HotpotQA questions over their 991 paragraphs as one closed corpus (one
document per paragraph, titled by its article), k=10: ``both_gold_cited`` (every gold article
cited) and ``refused``, for comparisons and bridges, now and before. The last line is one JSON
object.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time

import numpy as np

from _before_answerer import ExtractiveAnswerer as BeforeAnswerer
from _squad_answers import (CACHE, DATA, ROOT, f1_score, gold_rows, holds_answer, load, near_topic_ok,
                            question_vectors, split, squad_index)
from rag import Engine
from rag.documents import Document
from rag.embedder import Embedder
from rag.indexes import index_is_fresh
from rag.ingest import build_index
from rag.qtypes import expected_type

HOTPOT = ROOT.parent / "shared" / "eval" / "hotpotqa_dev100"
_MARK = re.compile(r"\s*\[\d+\]")


def lead_of(text: str) -> str:
    m = re.search(r"\[\d+\]", text)
    return text[: m.start()] if m else text


def first_sentence(text: str) -> str:
    from rag.sentences import split_sentences

    plain = _MARK.sub("", text)
    spans = split_sentences(plain)
    return plain[spans[0][0]:spans[0][1]] if spans else plain


def words(text: str) -> int:
    return len(_MARK.sub("", text).split())


def score_answers(rows: list[tuple[dict, object]]) -> dict:
    """Figures of ``(question row, Answer)`` pairs of answerable questions."""
    n = max(len(rows), 1)
    typed = [(q, a) for q, a in rows if expected_type(q["question"]) is not None]
    em = [max((float(a.short_answer is not None and f1_score(a.short_answer.text, t) == 1.0
                     and normalize(a.short_answer.text) == normalize(t)) for t in q["answers"]), default=0.0)
          for q, a in typed]
    f1 = [max((f1_score(a.short_answer.text, t) if a.short_answer is not None else 0.0 for t in q["answers"]),
              default=0.0) for q, a in typed]
    answered = [(q, a) for q, a in rows if not a.refused]
    return {
        "lead_hit": round(sum(not a.refused and holds_answer(lead_of(a.text), q["answers"]) for q, a in rows) / n, 4),
        "first_sentence_hit": round(sum(not a.refused and holds_answer(first_sentence(a.text), q["answers"])
                                        for q, a in rows) / n, 4),
        "answer_hit": round(sum(not a.refused and holds_answer(a.text, q["answers"]) for q, a in rows) / n, 4),
        "short_answer_em": round(float(np.mean(em)) if em else 0.0, 4),
        "short_answer_f1": round(float(np.mean(f1)) if f1 else 0.0, 4),
        "short_answer_given": round(sum(a.short_answer is not None for _, a in typed) / max(len(typed), 1), 4),
        "median_words": statistics.median([words(a.text) for _, a in answered]) if answered else 0,
        "false_refusal": round(sum(a.refused for _, a in rows) / n, 4),
        "questions": len(rows),
    }


def normalize(s: str) -> str:
    from _squad_answers import normalize_answer

    return normalize_answer(s)


def run_split(engine, before, qs, qvecs, paras, rows_of, *, near: bool = True) -> tuple[dict, dict]:
    """(now, before) figures of one split."""
    now_rows, before_rows = [], []
    for q, qv in zip(qs, qvecs):
        passages = engine.retriever.retrieve(q["question"], qv, engine.settings.k)
        now_rows.append((q, engine.answerer.run(q["question"], qv, passages)))
        before_rows.append((q, before.run(q["question"], qv, passages)))
    now, was = score_answers(now_rows), score_answers(before_rows)
    if near:
        ok = near_topic_ok(paras, qs)
        refused_now, refused_before, n = 0, 0, 0
        for q, qv, o in zip(qs, qvecs, ok):
            if not o:
                continue
            passages = engine.retriever.retrieve(q["question"], qv, engine.settings.k, exclude=rows_of[q["gold_pid"]])
            refused_now += engine.answerer.run(q["question"], qv, passages).refused
            refused_before += before.run(q["question"], qv, passages).refused
            n += 1
        now["near_topic_refusal"] = round(refused_now / max(n, 1), 4)
        was["near_topic_refusal"] = round(refused_before / max(n, 1), 4)
        now["near_topic_questions"] = was["near_topic_questions"] = n
    return now, was


def hotpot(emb: Embedder, *, k: int = 10) -> dict:
    paras = [json.loads(x) for x in (HOTPOT / "paragraphs.jsonl").read_text().splitlines() if x.strip()]
    questions = [json.loads(x) for x in (HOTPOT / "questions.jsonl").read_text().splitlines() if x.strip()]
    docs = [Document(text=p.get("text") or "".join(p["sentences"]), source=p["pid"], title=p["title"])
            for p in paras]
    index_dir = CACHE / "hotpot_index"
    if not index_is_fresh(index_dir, docs, emb):
        build_index(docs, index_dir, embedder=emb)
    engine = Engine(index_dir, embedder=emb)
    before = BeforeAnswerer(engine.stored)
    out: dict = {"now": {}, "before": {}}
    for kind in ("comparison", "bridge"):
        qs = [q for q in questions if q["type"] == kind]
        for name in ("now", "before"):
            cited, refused = 0, 0
            for q in qs:
                qv = emb.encode([q["question"]])[0]
                passages = engine.retriever.retrieve(q["question"], qv, k)
                a = (engine.answerer if name == "now" else before).run(q["question"], qv, passages)
                gold = {s["title"] for s in q["supporting"]}
                cited += gold <= {c.title for c in a.citations}
                refused += a.refused
            out[name][kind] = {"both_gold_cited": round(cited / len(qs), 4), "refused": round(refused / len(qs), 4),
                               "questions": len(qs)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="every N-th question only (quick runs)")
    ap.add_argument("--latency-sample", type=int, default=300)
    args = ap.parse_args()
    paras, questions = load(DATA)
    emb = Embedder()
    stored = squad_index(paras, emb)
    qvecs = question_vectors(questions, emb)
    engine = Engine(CACHE / "squad_index", embedder=emb)
    before = BeforeAnswerer(engine.stored)
    rows_of = gold_rows(engine.stored)
    result: dict = {}
    for name in ("heldout", "fit"):
        idx = [i for i, q in enumerate(questions) if split(q) == name]
        if args.limit:
            idx = idx[:: args.limit]
        now, was = run_split(engine, before, [questions[i] for i in idx], qvecs[idx], paras, rows_of)
        result[name] = now
        if name == "heldout":
            result["before"] = was
        print(f"{name}: {json.dumps(now)}", file=sys.stderr)
    # latency: Engine.ask end to end (clean, embed, retrieve, answer), held-out sample
    sample = [q for q in questions if split(q) == "heldout"][: args.latency_sample]
    for q in sample[:20]:
        engine.ask(q["question"])
    times = []
    for q in sample:
        t = time.perf_counter()
        engine.ask(q["question"])
        times.append((time.perf_counter() - t) * 1000)
    result["heldout"]["ms_per_question"] = round(statistics.median(times), 2)
    hp = hotpot(emb)
    result["hotpot"] = hp["now"]
    result["hotpot_before"] = hp["before"]
    del stored
    print(json.dumps(result))


if __name__ == "__main__":
    main()
