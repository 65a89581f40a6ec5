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

from .store import StoredIndex
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

    Stage 1 takes the union of the dense top-``candidates`` (FAISS) and the BM25
    top-``candidates`` and scores each by ``alpha * cosine + (1 - alpha) * bm25 / max bm25``.
    Stage 2 (``rerank=True``, the default; ``RAG_RERANK=0`` turns it off) rescores them with
    :class:`rag.rerank.FeatureReranker` (a softmax relevance probability over the candidates); the
    first stage's top ``keep_first`` stay within the top ``keep_within`` (:meth:`keep_first_stage`). Near-duplicates (chunk
    vectors with cosine >= ``dup_cos`` to a better-ranked passage) are dropped.

    Example::

        r = HybridRetriever(stored, stored.bm25)
        passages = r.retrieve("Who is Meng Hongwei?", embedder.encode([q])[0], k=5)

    Returns at most ``k`` :class:`Passage` objects, best first, each with its score (stage 2:
    probability in (0, 1); stage 1 only: fused score in [-1, 1]) and its cosine similarity
    (``dense``). Thread-safe: it keeps no per-query state.
    """

    def __init__(self, stored: StoredIndex, bm25, *, alpha: float = 0.8, candidates: int = 30,
                 rerank: bool = True, dup_cos: float = 0.98, keep_first: int = 2, keep_within: int = 3):
        from .rerank import FeatureReranker
        from .text import TermStats

        self.stored = stored
        self.bm25 = bm25
        self.alpha = alpha
        self.candidates = candidates
        self.dup_cos = dup_cos
        self.keep_first = keep_first
        self.keep_within = keep_within
        self.vocab = set(bm25.vocab_dict) if hasattr(bm25, "vocab_dict") else None
        self.row_of = stored.row_of
        self.reranker = FeatureReranker(stored, TermStats.from_bm25(bm25)) if rerank else None

    def bm25_scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk for ``question``: ``(n_chunks,)`` float32 (0 for no match)."""
        q = [t for t in terms(question) if self.vocab is None or t in self.vocab]
        if not q:
            return np.zeros(len(self.stored.chunks), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(q), dtype=np.float32)

    def candidates_for(self, question: str, qvec: np.ndarray, k: int, exclude: np.ndarray | None = None):
        """Stage 1: ``(rows, vectors, dense, bm25_norm, fused)`` for the union of the dense and
        BM25 top lists; ``vectors`` are the candidates' chunk vectors ``(n, dim)``. Rows in
        ``exclude`` are never candidates (evaluation: an index without those chunks)."""
        n = len(self.stored.chunks)
        m = min(n, max(self.candidates, k))
        extra = 0 if exclude is None else len(exclude)
        _, ids = self.stored.vectors.search(qvec[None, :], min(n, m + extra))
        lex = self.bm25_scores(question)
        by_dense = ids[0][ids[0] >= 0].astype(np.int64)
        if extra:
            lex[exclude] = 0.0
            by_dense = by_dense[~np.isin(by_dense, exclude)][:m]
        top = np.argpartition(-lex, m - 1)[:m] if m < n else np.arange(n)  # O(n), not a full sort
        top = top[np.lexsort((top, -lex[top]))]
        top = top[(lex[top] > 0) & ~np.isin(top, by_dense)]
        rows_arr = np.concatenate([by_dense, top.astype(np.int64)])
        rows = rows_arr.tolist()
        vecs = self.stored.vectors.reconstruct(rows_arr)
        dense = vecs @ qvec
        top = float(lex.max()) if n else 0.0
        bm25n = lex[rows_arr] / top if top > 0 else np.zeros(len(rows), dtype=np.float32)
        fused = self.alpha * dense + (1 - self.alpha) * bm25n
        return rows, vecs, dense, bm25n, fused

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
        written (:meth:`rag.store.StoredIndex.verify_chunks`)."""
        if not self.stored.chunks:
            return []
        rows, vecs, dense, bm25n, fused = self.candidates_for(question, qvec, k, exclude)
        if self.reranker is not None:
            score = self.reranker.score(self.reranker.features(question, qvec, rows, dense, bm25n))
        else:
            score = fused
        order = sorted(range(len(rows)), key=lambda i: (-score[i], rows[i]))
        if self.reranker is not None and self.keep_first:
            order = self.keep_first_stage(order, fused, rows)
        picked: list[int] = []
        for i in order:
            if picked and (vecs[picked] @ vecs[i]).max() >= self.dup_cos:
                continue  # near-duplicate of a better passage
            picked.append(i)
            if len(picked) == k:
                break
        verify = getattr(self.stored, "verify_chunks", None)
        if verify is not None:  # a chunk whose text was altered on disk is an error, never an answer
            verify([rows[i] for i in picked])
        return [Passage(self.stored.chunks[rows[i]], float(score[i]), r + 1, dense=float(dense[i]))
                for r, i in enumerate(picked)]
