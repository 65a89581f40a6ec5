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

from typing import NamedTuple

import numpy as np

from .cache import BoundedCache
from .sentences import is_question
from .store import as_store
from .text import TermStats, terms

FEATURES = ("dense", "dense_gap", "bm25", "sent_max", "sent_gap", "coverage", "sent_cov", "bigram", "title_cov",
            "rare_cov", "proximity", "rr_dense", "rr_bm25", "pair_max", "sent_bigram", "best_sent_cov",
            "num_match", "sent_x_cov", "dense_x_bm25")

#: Fitted by bench/tune_retrieval.py (listwise softmax loss, articles 00-23 of SQuAD v1.1 dev).
WEIGHTS = np.array([3.8749, 4.3216, 1.0630, 4.3210, 4.0969, 0.2506, 4.4047, 0.0708, -2.4966, 1.9160, -0.1219, 0.3659, 0.8245, -1.1222, 1.4447, 0.9716, 1.0637, -4.1454, -0.8657], dtype=np.float64)
BIAS = -1.4566

#: chunks whose terms are kept in memory (about 2 KiB each)
ROW_CACHE_SIZE = 200_000


def _segment_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Max of each segment ``values[starts[i]:starts[i + 1]]`` (segments non-empty)."""
    return np.maximum.reduceat(values, starts) if len(starts) else values[:0]


class _RowTerms(NamedTuple):
    """One chunk's terms, cached per row: its title terms, then its body terms, then its
    sentences' terms (``kind`` 0, 1, 2), so title + body is the chunk's term sequence."""
    terms: np.ndarray   # (3, n) int64: term id (-1: not in the vocabulary), kind, and local: the
    #                     position in the body (kind 1) or the sentence's index in the chunk (kind 2)
    blank: np.ndarray   # (n_sentences,) bool: the sentence has no terms (a question, or stopwords only)


class FeatureReranker:
    """Rescore candidate chunk rows for a question; see the module docstring for the features.

    Each chunk's terms are read once (as term ids of ``stats.vocab``, cached per row); a question's
    features for all its candidates are then whole-array operations (set membership by
    ``np.searchsorted`` on the question's term ids, per-chunk maxima by ``np.maximum.reduceat``).

    Example::

        rr = FeatureReranker(store, store.term_stats())
        probs = rr.score(rr.features(question, qvec, rows, dense, bm25_norm))   # (len(rows),)
    """

    def __init__(self, store, stats: TermStats, weights: np.ndarray | None = None, bias: float | None = None):
        self.store = as_store(store)
        self.stats = stats
        self.weights = WEIGHTS if weights is None else np.asarray(weights, dtype=np.float64)
        self.bias = BIAS if bias is None else float(bias)
        self._row_terms = BoundedCache(ROW_CACHE_SIZE)  # store id -> its terms (a chunk never changes under its id)

    def _cached_terms(self, ids: list[int], block) -> list[_RowTerms]:
        out = []
        positions = block.position(ids)
        for cid, pos in zip(ids, positions.tolist()):
            t = self._row_terms.get(cid)
            if t is None:
                t = self._terms_of(block, pos)
                self._row_terms.put(cid, t)
            out.append(t)
        return out

    def _ids(self, words: list[str]) -> np.ndarray:
        vocab = self.stats.vocab
        return np.fromiter((vocab.get(w, -1) for w in words), dtype=np.int64, count=len(words))

    def _terms_of(self, block, pos: int) -> _RowTerms:
        c = block.chunks[pos]
        title, body = terms(c.title), terms(c.text)
        lo, hi = block.sentence_range(pos)
        texts = [c.text[int(s):int(e)] for _, s, e in block.sentences[lo:hi]]
        # a sentence that is itself a question restates, it is not evidence: it gets no terms
        seqs = [[] if is_question(t) else terms(t) for t in texts]
        sent = [w for x in seqs for w in x]
        local = np.concatenate([np.zeros(len(title), dtype=np.int64), np.arange(len(body), dtype=np.int64),
                                np.repeat(np.arange(len(seqs), dtype=np.int64), [len(x) for x in seqs])])
        kind = np.repeat(np.array([0, 1, 2], dtype=np.int64), [len(title), len(body), len(sent)])
        return _RowTerms(np.stack([self._ids(title + body + sent), kind, local]),
                         np.array([not x for x in seqs], dtype=bool))

    def features(self, question: str, qvec: np.ndarray, rows: list[int], dense: np.ndarray,
                 bm25_norm: np.ndarray, block=None) -> np.ndarray:
        """``(len(rows), len(FEATURES))`` float64 feature matrix for the candidates with store
        ids ``rows``; ``block``: the :class:`rag.store.Block` holding them (fetched when None)."""
        nc = len(rows)
        out = np.zeros((nc, len(FEATURES)), dtype=np.float64)
        if not nc:
            return out
        dense = np.asarray(dense, dtype=np.float64)
        bm25_norm = np.asarray(bm25_norm, dtype=np.float64)
        # the question's distinct terms as ids, sorted (unknown terms get ids no chunk term has)
        q_terms = terms(question)
        uniq = list(dict.fromkeys(q_terms))
        vocab = self.stats.vocab
        ids = np.array([vocab.get(t, -2 - i) for i, t in enumerate(uniq)], dtype=np.int64)
        order = np.argsort(ids)
        qids, uniq = ids[order], [uniq[i] for i in order]
        nq = len(uniq)
        self.stats.prefetch(uniq)
        idf = np.array([self.stats.idf(t) for t in uniq], dtype=np.float64)
        total, total2 = float(idf.sum()) or 1.0, float((idf * idf).sum()) or 1.0
        col = {t: j for j, t in enumerate(uniq)}
        pair_no = np.full((max(nq, 1), max(nq, 1)), -1, dtype=np.int64)  # q term pair -> its number
        for x, y in dict.fromkeys((col[x], col[y]) for x, y in zip(q_terms, q_terms[1:])):
            pair_no[x, y] = pair_no.max() + 1
        n_pairs = int(pair_no.max()) + 1
        digits = np.array([t.isdigit() for t in uniq], dtype=bool)

        def presence(cols: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
            """``(n, nq)`` bool: ``[s, j]`` when question term ``j`` occurs in segment ``s``."""
            P = np.zeros((n, nq), dtype=bool)
            hit = cols >= 0
            P[seg[hit], cols[hit]] = True
            return P

        def pair_share(cols: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
            """Per segment: share of the question's adjacent term pairs found adjacent in it."""
            share = np.zeros(n, dtype=np.float64)
            if not n_pairs or len(cols) < 2:
                return share
            a, b, same = cols[:-1], cols[1:], seg[:-1] == seg[1:]
            both = (a >= 0) & (b >= 0) & same
            no = pair_no[a[both], b[both]]
            found = np.zeros((n, n_pairs), dtype=bool)
            found[seg[:-1][both][no >= 0], no[no >= 0]] = True
            return found.sum(axis=1) / n_pairs

        # all candidates' terms in one array; each term's question-term column (-1: none)
        if block is None:
            block = self.store.fetch(rows)
        cache = self._cached_terms([int(r) for r in rows], block)
        row_idx = np.arange(nc)
        tok_row = np.repeat(row_idx, [t.terms.shape[1] for t in cache])
        tok_ids, kind, local = np.concatenate([t.terms for t in cache], axis=1)
        if nq:
            j = np.minimum(np.searchsorted(qids, tok_ids), nq - 1)
            cols = np.where(qids[j] == tok_ids, j, -1)
        else:
            cols = np.full(len(tok_ids), -1, dtype=np.int64)
        is_title, is_body, is_seq, is_sent = kind == 0, kind == 1, kind <= 1, kind == 2
        title_P = presence(cols[is_title], tok_row[is_title], nc)
        body_cols, body_seg, body_pos = cols[is_body], tok_row[is_body], local[is_body]
        body_P = presence(body_cols, body_seg, nc)
        all_P = title_P | body_P

        # sentences of the candidates: similarities to the question; blank sentences (no terms)
        # masked, unless all of a chunk's sentences are blank
        lo, hi = block.sentence_ranges(block.position(rows))
        n_sent = hi - lo
        has = n_sent > 0
        first = np.cumsum(n_sent) - n_sent   # each candidate's first sentence in the arrays below
        seg_start = first[has]
        sent_idx = np.repeat(lo - first, n_sent) + np.arange(int(n_sent.sum()))
        sent_row = np.repeat(row_idx, n_sent)
        sims = block.sent_vectors[sent_idx] @ qvec
        blank = np.concatenate([t.blank for t in cache])
        if has.any():
            n_blank = np.zeros(nc, dtype=np.int64)
            n_blank[has] = np.add.reduceat(blank.astype(np.int64), seg_start)
            mixed = (n_blank > 0) & (n_blank < n_sent)
            sims = np.where(blank & mixed[sent_row], -1.0, sims)
        s_max = dense.copy()
        s_max[has] = _segment_max(sims, seg_start)
        pair = s_max.copy()
        if len(sims) > 1:
            pm = np.append((sims[:-1] + sims[1:]) / 2, -np.inf)   # mean of each adjacent pair
            pm[np.append(sent_row[:-1] != sent_row[1:], True)] = -np.inf
            pair_seg = _segment_max(pm, seg_start)
            pair[has] = np.where(np.isfinite(pair_seg), pair_seg, s_max[has])

        # coverage of the question's terms: chunk, title, each sentence (with the title's terms)
        sent_cols = cols[is_sent]
        sent_seg = local[is_sent] + first[tok_row[is_sent]]
        sent_P = presence(sent_cols, sent_seg, len(sims))
        cov = all_P @ idf / total
        s_covs = (sent_P | title_P[sent_row]) @ idf / total
        s_cov = cov.copy()
        best_cov = cov.copy()
        s_big = np.zeros(nc, dtype=np.float64)
        if has.any():
            s_cov[has] = _segment_max(s_covs, seg_start)
            first_max = np.flatnonzero(sims == s_max[sent_row])
            first_max = first_max[np.r_[True, sent_row[first_max][1:] != sent_row[first_max][:-1]]]
            best_cov[has] = s_covs[first_max]
            s_big[has] = _segment_max(pair_share(sent_cols, sent_seg, len(sims)), seg_start)

        # proximity: matched terms over the shortest window of body positions holding them all
        need = body_P.sum(axis=1)
        prox = np.where(need == 1, 1.0, 0.0)
        hit = body_cols >= 0
        if hit.any() and (need > 1).any():
            pos, seg, hit_cols = body_pos[hit], body_seg[hit], body_cols[hit]
            big = int(body_pos.max()) + 1
            gpos = seg * big + pos
            last = np.full((len(gpos), nq), -1, dtype=np.int64)
            last[np.arange(len(gpos)), hit_cols] = gpos
            last = np.maximum.accumulate(last, axis=0)
            last = np.where(body_P[seg], last, np.iinfo(np.int64).max)   # only terms the chunk has
            start = last.min(axis=1)
            width = np.where(start >= seg * big, gpos - start + 1, np.iinfo(np.int64).max)
            best = np.full(nc, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(best, seg, width)
            many = need > 1
            prox[many] = need[many] / best[many]

        nums = int(digits.sum())
        out[:, 0] = dense
        out[:, 1] = dense - dense.max()
        out[:, 2] = bm25_norm
        out[:, 3] = s_max
        out[:, 4] = s_max - s_max.max()
        out[:, 5] = cov
        out[:, 6] = s_cov
        out[:, 7] = pair_share(cols[is_seq], tok_row[is_seq], nc)
        out[:, 8] = title_P @ idf / total
        out[:, 9] = all_P @ (idf * idf) / total2
        out[:, 10] = prox
        out[np.argsort(-dense, kind="stable"), 11] = 1.0 / (1.0 + np.arange(nc))
        out[np.argsort(-bm25_norm, kind="stable"), 12] = 1.0 / (1.0 + np.arange(nc))
        out[:, 13] = pair
        out[:, 14] = s_big
        out[:, 15] = best_cov
        out[:, 16] = all_P[:, digits].sum(axis=1) / nums if nums else 0.0
        out[:, 17] = s_max * s_cov
        out[:, 18] = dense * bm25_norm
        return out

    def score(self, feats: np.ndarray) -> np.ndarray:
        """Softmax of the linear scores over the candidate list: ``(n,)`` probabilities summing
        to 1 (the share of the evidence each candidate holds)."""
        s = feats @ self.weights + self.bias
        e = np.exp(s - s.max()) if len(s) else s
        return e / e.sum() if len(s) else e
