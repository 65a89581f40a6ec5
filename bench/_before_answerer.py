"""FROZEN BASELINE for bench/answers_squad.py ("before"): the offline answerer as it was at d85e2ce, before the learned
answer-sentence selection. Not used by the product.

The offline answerer: extractive, grounded by construction, with calibrated refusal.

Every sentence of the answer is a sentence of a retrieved passage, copied verbatim and followed by
the citation marker of that passage. A sentence's evidence score is

    score = W_SENTENCE * cos(question, sentence)
          + W_TERMS    * IDF-weighted share of the question's terms found in the sentence
          + W_PASSAGE  * cos(question, passage)

Sentences that are themselves questions are skipped. The answer takes the two best sentences of
the top-ranked passage (the hybrid ranking is more reliable than one sentence's similarity), the
best sentence of any passage tied with it, and the best sentence overall: at most four. When the best score is below ``refuse_below`` the answer is a refusal:
:data:`rag.prompts.CANNOT_ANSWER`, no citations, and a ``reason`` giving the scores.
The weights and the threshold are calibrated on ``seed_dev.jsonl`` (see ``docs/calibration.md``
and ``bench/calibrate_refusal.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.answerer import _LETTER, _MD_HEADING, _is_heading_line, cite_spans  # unchanged since d85e2ce
from rag.prompts import CANNOT_ANSWER
from rag.sentences import is_question
from rag.store import StoredIndex
from rag.text import TermStats, terms
from rag.types import Answer, Passage

W_SENTENCE = 0.5
W_TERMS = 0.3
W_PASSAGE = 0.2
#: Calibrated on seed_dev.jsonl: midway between the best-scoring unanswerable question and the
#: worst-scoring answerable one (docs/calibration.md).
REFUSE_BELOW = 0.46


@dataclass
class Evidence:
    """A candidate sentence: its passage, span in the chunk text, and its score parts."""

    passage: Passage
    start: int
    end: int
    cos: float
    coverage: float
    score: float

    @property
    def text(self) -> str:
        return self.passage.chunk.text[self.start:self.end]


class ExtractiveAnswerer:
    """Builds an :class:`~rag.types.Answer` from retrieved passages without a language model.

    Example::

        answerer = ExtractiveAnswerer(stored)
        answer = answerer.run(question, qvec, passages)   # Answer with [n] markers, or a refusal
    """

    def __init__(self, stored: StoredIndex, *, refuse_below: float = REFUSE_BELOW,
                 max_sentences: int = 4, tie: float = 0.8, min_words: int = 4):
        self.stored = stored
        self.refuse_below = refuse_below
        self.max_sentences = max_sentences
        self.tie = tie
        self.min_words = min_words
        self.stats = TermStats.from_bm25(stored.bm25)

    def evidence(self, question: str, qvec: np.ndarray, passages: list[Passage]) -> list[Evidence]:
        """Scored candidate sentences of ``passages``, best first."""
        q_terms = terms(question)
        out: list[Evidence] = []
        for p in passages:
            lo, hi = self.stored.sentence_range(self.stored.row_of[p.chunk.id])
            if hi <= lo:
                continue
            cos = self.stored.sent_vectors[lo:hi] @ qvec
            p_cos = p.dense if p.dense is not None else p.score
            for j in range(lo, hi):
                _, s, e = (int(x) for x in self.stored.sentences[j])
                text = p.chunk.text[s:e]
                if len(text.split()) < self.min_words and not any(ch.isdigit() for ch in text):
                    continue
                if is_question(text):
                    continue  # a question in the text restates, it does not answer
                if _MD_HEADING.match(text) or _is_heading_line(p.chunk.text, s, e) or not _LETTER.search(text):
                    continue  # a heading names a topic, a bare number ("2.") says nothing
                cov = self.stats.coverage(q_terms, set(terms(text)))
                c = float(cos[j - lo])
                score = W_SENTENCE * c + W_TERMS * cov + W_PASSAGE * p_cos
                out.append(Evidence(p, s, e, c, cov, score))
        out.sort(key=lambda ev: (-ev.score, ev.passage.rank, ev.start))
        return out

    def run(self, question: str, qvec: np.ndarray, passages: list[Passage]) -> Answer:
        """Answer ``question`` from ``passages`` (best first). Never raises for weak evidence:
        returns a refusal with its reason instead."""
        ev = self.evidence(question, qvec, passages)
        if not ev or ev[0].score < self.refuse_below:
            best = ev[0] if ev else None
            reason = (f"Best evidence score {best.score:.3f} is below the refusal threshold "
                      f"{self.refuse_below:.2f} (sentence similarity {best.cos:.3f}, question-term "
                      f"coverage {best.coverage:.2f}, passage similarity "
                      f"{best.passage.dense if best.passage.dense is not None else best.passage.score:.3f})."
                      if best else "No passage was retrieved.")
            unknown = sorted({w for w in re.findall(r"[\w’'-]+", question)
                              if terms(w) and all(t in self.stats.unknown(terms(w)) for t in terms(w))})
            if unknown:
                reason += f" Terms absent from every article: {', '.join(unknown)}."
            return Answer(question=question, text=CANNOT_ANSWER, passages=passages,
                          refused=True, reason=reason)
        picked = self.select(ev, passages)
        answer = compose(question, picked, passages)
        best = ev[0]
        answer.reason = (f"Best evidence score {best.score:.3f} ≥ refusal threshold {self.refuse_below:.2f} "
                         f"(sentence similarity {best.cos:.3f}, question-term coverage {best.coverage:.2f}).")
        return answer


    def select(self, ev: list[Evidence], passages: list[Passage]) -> list[Evidence]:
        """Passage-first selection: the two best sentences of the top-ranked passage, the best
        sentence of any passage whose cosine similarity to the question is within ``tie`` of the
        top one's (the retrieval score is not comparable across passages in the same way: the
        second stage's is a softmax share), and the best sentence overall; at most
        ``max_sentences``, in passage order, then text order."""
        by_rank: dict[int, list[Evidence]] = {}
        for e in ev:
            by_rank.setdefault(e.passage.rank, []).append(e)
        picked: list[Evidence] = []
        ranks = sorted(by_rank)
        if ranks:
            picked += by_rank[ranks[0]][:2]
            def sim(p: Passage) -> float:
                return p.dense if p.dense is not None else p.score

            top = sim(by_rank[ranks[0]][0].passage)
            for r in ranks[1:]:
                if sim(by_rank[r][0].passage) >= self.tie * top:
                    picked.append(by_rank[r][0])
        if ev[0] not in picked:
            picked.append(ev[0])
        return sorted(picked[: self.max_sentences], key=lambda e: (e.passage.rank, e.start))


def compose(question: str, picked: list[Evidence], passages: list[Passage]) -> Answer:
    """Join picked sentences into answer text with ``[n]`` markers (rag.answerer.cite_spans)."""
    return cite_spans(question, [(ev.passage, ev.start, ev.end) for ev in picked], passages)
