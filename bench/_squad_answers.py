"""Shared by bench/fit_answerer.py and bench/answers_squad.py: the SQuAD closed corpus as a
question-answering set for the offline answerer.

- **answerable**: each SQuAD question asked of the whole index (its gold paragraph is there);
- **near-topic unanswerable**: the same question asked as if the index lacked its gold paragraph
  (the retriever's ``exclude``: every chunk of that paragraph is left out, so the other paragraphs
  of the same article come up), kept only when none of its accepted answers occurs anywhere else
  in the corpus (SQuAD-normalised text).

Articles 00-23 are the fitting split, 24-47 the held-out split (``split(q)``).
"""
from __future__ import annotations

import re
import string
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval_squad import CACHE, DATA, load, question_vectors, squad_index  # noqa: E402,F401  (re-exported)


def normalize_answer(s: str) -> str:
    """SQuAD v1.1's official answer normalisation: lower case, no punctuation, no articles,
    single spaces."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation) | {"‘", "’", "“", "”", "–", "—"})
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def holds_answer(text: str, answers: list[str]) -> bool:
    """True when an accepted answer occurs in ``text`` (both SQuAD-normalised, whole words)."""
    t = f" {normalize_answer(text)} "
    return any(f" {a} " in t for a in (normalize_answer(x) for x in answers) if a)


def f1_score(prediction: str, truth: str) -> float:
    """SQuAD token F1."""
    p, t = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = Counter(p) & Counter(t)
    same = sum(common.values())
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(t)
    return 2 * prec * rec / (prec + rec)


def split(q: dict) -> str:
    return "fit" if int(q["gold_pid"][:2]) < 24 else "heldout"


def near_topic_ok(paras: list[dict], questions: list[dict]) -> list[bool]:
    """For each question: True when none of its answers occurs in any paragraph but its gold one
    (so the question is unanswerable from an index without that paragraph)."""
    norm = {p["pid"]: f" {normalize_answer(p['context'])} " for p in paras}
    big = "\x00".join(norm.values())
    out = []
    for q in questions:
        gold = norm[q["gold_pid"]]
        ok = True
        for a in {normalize_answer(x) for x in q["answers"]}:
            if not a:
                continue
            needle = f" {a} "
            if big.count(needle) > gold.count(needle):
                ok = False
                break
        out.append(ok)
    return out


def gold_rows(stored) -> dict[str, np.ndarray]:
    """Paragraph id -> the chunk rows it was split into."""
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(stored.chunks):
        rows.setdefault(c.source, []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in rows.items()}
