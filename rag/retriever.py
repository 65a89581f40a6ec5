"""Hybrid retrieval: dense search in FAISS plus BM25 (bm25s), fused, then rescored.

For a question with embedding ``q``: take the dense top-``candidates`` and the BM25
top-``candidates``, compute both scores for their union, normalise BM25 by the best BM25 score
of the question (so it lies in [0, 1]) and fuse as ``alpha * cosine + (1 - alpha) * bm25_norm``;
then rescore the candidates with :mod:`rag.rerank`.
Convex combination of normalised scores: Bruch, Gai & Ingber, "An Analysis of Fusion Functions
for Hybrid Retrieval" (TOIS 2023). BM25: Robertson & Zaragoza (2009), via the bm25s library, over
the folded, stemmed terms of :func:`rag.text.terms` of the title and text of each chunk.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .rerank import FeatureReranker
from .store import as_store
from .text import terms
from .types import Chunk, Passage


def chunk_terms(chunk: Chunk) -> list[str]:
    """The terms BM25 indexes for a chunk: its article title and its text."""
    return terms(f"{chunk.title}\n{chunk.text}")


def build_bm25(chunks: list[Chunk]):
    """A ``bm25s.BM25`` index over the chunks, in row order."""
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([chunk_terms(c) or ["<empty>"] for c in chunks], show_progress=False)
    return bm25


def load_bm25(path: str | Path):
    """Load a BM25 index saved with ``bm25s.BM25.save``."""
    import bm25s

    return bm25s.BM25.load(str(path), show_progress=False, verbosity=0)


class HybridRetriever:
    """Top-k passages for a question: hybrid first stage, feature-weighted second stage.

    Stage 1 takes the union of the dense top-``candidates`` and the BM25 top-``candidates`` of
    the store (:class:`rag.store.Store`: FAISS + bm25s, or Milvus) and scores each by
    ``alpha * cosine + (1 - alpha) * bm25 / max bm25``.
    Stage 2 (``rerank=True``, the default; ``RAG_RERANK=0`` turns it off) rescores them with
    :class:`rag.rerank.FeatureReranker` (a softmax relevance probability over the candidates); the
    first stage's top ``keep_first`` stay within the top ``keep_within`` (:meth:`keep_first_stage`). Near-duplicates (chunk
    vectors with cosine >= ``dup_cos`` to a better-ranked passage) are dropped.

    Example::

        r = HybridRetriever(store)
        passages = r.retrieve("Who is Meng Hongwei?", embedder.encode([q])[0], k=5)

    ``store``: a :class:`rag.store.Store`, or a loaded :class:`rag.store.StoredIndex` (wrapped
    in :class:`rag.store.EmbeddedStore`). Returns at most ``k`` :class:`Passage` objects, best
    first, each with its score (stage 2: probability in (0, 1); stage 1 only: fused score in
    [-1, 1]) and its cosine similarity (``dense``). Thread-safe: it keeps no per-query state.
    """

    def __init__(self, store, *, alpha: float = 0.8, candidates: int = 30,
                 rerank: bool = True, dup_cos: float = 0.98, keep_first: int = 2, keep_within: int = 3):
        self.store = as_store(store)
        self.alpha = alpha
        self.candidates = candidates
        self.dup_cos = dup_cos
        self.keep_first = keep_first
        self.keep_within = keep_within
        self.reranker = FeatureReranker(self.store, self.store.term_stats()) if rerank else None

    def candidates_for(self, question: str, qvec: np.ndarray, k: int, exclude: np.ndarray | None = None):
        """Stage 1: ``(ids, block, vectors, dense, bm25_norm, fused)`` for the union of the dense
        and BM25 top lists; ``block`` is the store's :class:`rag.store.Block` holding them and
        ``vectors`` their chunk vectors ``(n, dim)``. Ids in ``exclude`` are never candidates
        (evaluation: an index without those chunks)."""
        store = self.store
        n = len(store)
        m = min(n, max(self.candidates, k))
        extra = 0 if exclude is None else len(exclude)
        by_dense, _ = store.dense_topk(qvec, min(n, m + extra))
        if extra:
            by_dense = by_dense[~np.isin(by_dense, exclude)][:m]
        top, top_scores, also = store.lexical_topk(terms(question), min(n, m + extra), also=by_dense)
        if extra:
            keep = ~np.isin(top, exclude)
            top, top_scores = top[keep][:m], top_scores[keep][:m]
        best = float(top_scores[0]) if len(top_scores) else 0.0
        new = ~np.isin(top, by_dense)
        ids_arr = np.concatenate([by_dense, top[new]]).astype(np.int64)
        lex = np.concatenate([also, top_scores[new]]).astype(np.float32)
        ids = ids_arr.tolist()
        block = store.fetch(ids_arr)
        vecs = block.vectors_at(block.position(ids_arr))
        dense = vecs @ qvec
        bm25n = lex / best if best > 0 else np.zeros(len(ids), dtype=np.float32)
        fused = self.alpha * dense + (1 - self.alpha) * bm25n
        return ids, block, vecs, dense, bm25n, fused

    def keep_first_stage(self, order: list[int], fused: np.ndarray, rows: list[int]) -> list[int]:
        """The second stage's ``order`` with the first stage's top ``keep_first`` candidates
        placed within the top ``keep_within`` when it ranked them lower (right after its own
        best, in first-stage order). The second stage is fitted on short factoid questions; a
        passage both first-stage signals put on top is not dropped from view on its word alone."""
        first = sorted(range(len(rows)), key=lambda i: (-fused[i], rows[i]))[: self.keep_first]
        pos = {i: p for p, i in enumerate(order)}
        missing = [i for i in first if pos[i] >= self.keep_within]
        if not missing:
            return order
        rest = [i for i in order if i not in missing]
        at = self.keep_within - len(missing)
        return rest[:at] + missing + rest[at:]

    def retrieve(self, question: str, qvec: np.ndarray, k: int = 5, *,
                 exclude: np.ndarray | None = None) -> list[Passage]:
        """Top-``k`` passages for ``question`` with embedding ``qvec`` (``(384,)`` float32).
        ``exclude``: chunk rows never returned (for evaluation: asks as if the index lacked them).
        Raises :class:`rag.store.IndexCorruptError` when a picked chunk's text is not the text
        written (:meth:`rag.store.Block.verify_chunks`)."""
        if not len(self.store):
            return []
        ids, block, vecs, dense, bm25n, fused = self.candidates_for(question, qvec, k, exclude)
        if self.reranker is not None:
            score = self.reranker.score(self.reranker.features(question, qvec, ids, dense, bm25n, block))
        else:
            score = fused
        order = sorted(range(len(ids)), key=lambda i: (-score[i], ids[i]))
        if self.reranker is not None and self.keep_first:
            order = self.keep_first_stage(order, fused, ids)
        picked: list[int] = []
        for i in order:
            if picked and (vecs[picked] @ vecs[i]).max() >= self.dup_cos:
                continue  # near-duplicate of a better passage
            picked.append(i)
            if len(picked) == k:
                break
        pos = block.position([ids[i] for i in picked])
        block.verify_chunks(pos)  # a chunk whose text was altered in storage is an error, never an answer
        return [Passage(block.chunks[int(pos[r])], float(score[i]), r + 1, dense=float(dense[i]))
                for r, i in enumerate(picked)]
