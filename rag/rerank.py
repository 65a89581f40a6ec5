"""Second-stage retrieval: a feature-weighted rescoring of the first stage's candidates.

No cross-encoder ships offline here, so the second stage combines cheap signals that the first
stage's two scores miss, in a logistic model (a learning-to-rank baseline in the spirit of
Metzler & Croft, "Linear feature-based models for information retrieval", 2007):

=============  ==================================================================================
feature        meaning (q = question, p = candidate passage)
=============  ==================================================================================
dense          cos(q, p) (title + text embedding)
dense_gap      dense minus the best dense score among the candidates
bm25           BM25 of p divided by the best BM25 score of the question
sent_max       max over the sentences s of p of cos(q, s)
sent_gap       sent_max minus the best sent_max among the candidates
coverage       IDF-weighted share of the question's terms found in p (title included)
sent_cov       max over sentences of that share, on the sentence's terms plus the title's
bigram         share of the question's adjacent term pairs that occur adjacent in p
title_cov      IDF-weighted share of the question's terms found in the title
rare_cov       like coverage, weighted by IDF squared (rare terms count more)
proximity      matched terms / length of the shortest window of p holding them all
rr_dense       1 / (1 + rank of p by dense score among the candidates)
rr_bm25        1 / (1 + rank of p by BM25 among the candidates)
pair_max       max over adjacent sentence pairs of p of cos(q, mean of the two sentence vectors)
sent_bigram    max over sentences of the share of the question's adjacent term pairs in it
best_sent_cov  sent_cov of the sentence most similar to q (dense and lexical evidence agree)
num_match      share of the question's numbers found in p
sent_x_cov     sent_max * sent_cov
dense_x_bm25   dense * bm25
=============  ==================================================================================

The weights were fitted by ``bench/tune_retrieval.py`` on the SQuAD v1.1 dev questions of articles
00-23 only (articles 24-47 held out) with the listwise softmax loss (ListNet top-1, Cao et al.
2007) and are fixed constants here. :meth:`FeatureReranker.score` gives the softmax over the
candidate list: the estimated probability that each candidate is the passage holding the answer.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .text import TermStats, terms

FEATURES = ("dense", "dense_gap", "bm25", "sent_max", "sent_gap", "coverage", "sent_cov", "bigram", "title_cov",
            "rare_cov", "proximity", "rr_dense", "rr_bm25", "pair_max", "sent_bigram", "best_sent_cov",
            "num_match", "sent_x_cov", "dense_x_bm25")

#: Fitted by bench/tune_retrieval.py (listwise softmax loss, articles 00-23 of SQuAD v1.1 dev).
WEIGHTS = np.array([3.8749, 4.3216, 1.0630, 4.3210, 4.0969, 0.2506, 4.4047, 0.0708, -2.4966, 1.9160, -0.1219, 0.3659, 0.8245, -1.1222, 1.4447, 0.9716, 1.0637, -4.1454, -0.8657], dtype=np.float64)
BIAS = -1.4566


def _is_question(sentence: str) -> bool:
    return sentence.rstrip("’”\"')").endswith("?")


def _proximity(position_lists: list[list[int]]) -> float:
    """Matched terms over the length of the shortest window holding one position of each."""
    if not position_lists:
        return 0.0
    if len(position_lists) == 1:
        return 1.0
    events = sorted((p, i) for i, ps in enumerate(position_lists) for p in ps)
    need, count, have = len(position_lists), {}, 0
    best = None
    lo = 0
    for hi, (p, i) in enumerate(events):
        count[i] = count.get(i, 0) + 1
        if count[i] == 1:
            have += 1
        while have == need:
            width = p - events[lo][0] + 1
            best = width if best is None or width < best else best
            j = events[lo][1]
            count[j] -= 1
            if count[j] == 0:
                have -= 1
            lo += 1
    return need / best if best else 0.0


class FeatureReranker:
    """Rescore candidate chunk rows for a question; see the module docstring for the features.

    Example::

        rr = FeatureReranker(stored, TermStats.from_bm25(stored.bm25))
        rows, probs = rr.rerank(question, qvec, rows, dense, bm25_norm)   # best first
    """

    def __init__(self, stored, stats: TermStats, weights: np.ndarray | None = None, bias: float | None = None):
        self.stored = stored
        self.stats = stats
        self.weights = WEIGHTS if weights is None else np.asarray(weights, dtype=np.float64)
        self.bias = BIAS if bias is None else float(bias)
        self._chunk_terms = lru_cache(maxsize=200_000)(self._terms_of)

    def _terms_of(self, row: int):
        c = self.stored.chunks[row]
        title = terms(c.title)
        body = terms(c.text)
        lo, hi = self.stored.sentence_range(row)
        # a sentence that is itself a question restates, it is not evidence: it gets no terms
        sent_seqs = [[] if _is_question(c.text[int(s):int(e)]) else terms(c.text[int(s):int(e)])
                     for _, s, e in self.stored.sentences[lo:hi]]
        sents = [frozenset(x) for x in sent_seqs]
        sent_pairs = [frozenset(zip(x, x[1:])) for x in sent_seqs]
        seq = title + body
        positions: dict[str, list[int]] = {}
        for i, t in enumerate(body):
            positions.setdefault(t, []).append(i)
        asks = np.array([not x for x in sent_seqs], dtype=bool)
        return frozenset(seq), frozenset(zip(seq, seq[1:])), frozenset(title), sents, positions, sent_pairs, asks

    def features(self, question: str, qvec: np.ndarray, rows: list[int], dense: np.ndarray,
                 bm25_norm: np.ndarray) -> np.ndarray:
        """``(len(rows), len(FEATURES))`` float64 feature matrix for the candidate rows."""
        q_terms = terms(question)
        q_set = set(q_terms)
        q_pairs = set(zip(q_terms, q_terms[1:]))
        idf = {t: self.stats.idf(t) for t in q_set}
        total = sum(idf.values()) or 1.0
        total2 = sum(v * v for v in idf.values()) or 1.0
        out = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
        sv = self.stored.sent_vectors
        for i, row in enumerate(rows):
            all_terms, pairs, title_terms, sents, positions, sent_pairs, asks = self._chunk_terms(int(row))
            lo, hi = self.stored.sentence_range(row)
            s_sims = sv[lo:hi] @ qvec if hi > lo else np.asarray([dense[i]])
            if hi > lo and asks.any() and not asks.all():
                s_sims = np.where(asks, -1.0, s_sims)
            s_max = float(s_sims.max())
            pair = float(((s_sims[:-1] + s_sims[1:]) / 2).max()) if len(s_sims) > 1 else s_max
            cov = sum(idf[t] for t in q_set if t in all_terms) / total
            s_covs = [sum(idf[t] for t in q_set if t in s or t in title_terms) / total for s in sents]
            s_cov = max(s_covs, default=cov)
            best_cov = s_covs[int(np.argmax(s_sims))] if s_covs and len(s_sims) == len(s_covs) else s_cov
            s_big = max((len(q_pairs & sp) / len(q_pairs) for sp in sent_pairs), default=0.0) if q_pairs else 0.0
            nums = [t for t in q_set if t.isdigit()]
            num = sum(t in all_terms for t in nums) / len(nums) if nums else 0.0
            out[i] = (dense[i], 0.0, bm25_norm[i], s_max, 0.0, cov, s_cov,
                      len(q_pairs & pairs) / len(q_pairs) if q_pairs else 0.0,
                      sum(idf[t] for t in q_set if t in title_terms) / total,
                      sum(idf[t] ** 2 for t in q_set if t in all_terms) / total2,
                      _proximity([positions[t] for t in q_set if t in positions]),
                      0.0, 0.0, pair, s_big, best_cov, num, s_max * s_cov, float(dense[i]) * float(bm25_norm[i]))
        if len(rows):
            out[:, 1] = out[:, 0] - out[:, 0].max()
            out[:, 4] = out[:, 3] - out[:, 3].max()
            out[np.argsort(-out[:, 0], kind="stable"), 11] = 1.0 / (1.0 + np.arange(len(rows)))
            out[np.argsort(-np.asarray(bm25_norm, dtype=np.float64), kind="stable"), 12] = 1.0 / (1.0 + np.arange(len(rows)))
        return out

    def score(self, feats: np.ndarray) -> np.ndarray:
        """Softmax of the linear scores over the candidate list: ``(n,)`` probabilities summing
        to 1 (the share of the evidence each candidate holds)."""
        s = feats @ self.weights + self.bias
        e = np.exp(s - s.max()) if len(s) else s
        return e / e.sum() if len(s) else e
