"""Hybrid retrieval: dense search in FAISS plus BM25 (bm25s), fused by a convex combination.

For a question with embedding ``q``: take the dense top-``candidates`` and the BM25
top-``candidates``, compute both scores for their union, normalise BM25 by the best BM25 score
of the question (so it lies in [0, 1]) and rank by ``alpha * cosine + (1 - alpha) * bm25_norm``.
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
    """Top-k passages for a question by fused dense + BM25 score.

    Example::

        r = HybridRetriever(stored, bm25)
        passages = r.retrieve("Who is Meng Hongwei?", embedder.encode([q])[0], k=5)

    ``retrieve`` returns at most ``k`` :class:`Passage` objects, best first, each with its fused
    score and its cosine similarity (``dense``). Thread-safe: it keeps no per-query state.
    """

    def __init__(self, stored: StoredIndex, bm25, *, alpha: float = 0.8, candidates: int = 100):
        self.stored = stored
        self.bm25 = bm25
        self.alpha = alpha
        self.candidates = candidates
        self.vocab = set(bm25.vocab_dict) if hasattr(bm25, "vocab_dict") else None
        self.row_of = {c.id: i for i, c in enumerate(stored.chunks)}

    def bm25_scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk for ``question``: ``(n_chunks,)`` float32 (0 for no match)."""
        q = [t for t in terms(question) if self.vocab is None or t in self.vocab]
        if not q:
            return np.zeros(len(self.stored.chunks), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(q), dtype=np.float32)

    def retrieve(self, question: str, qvec: np.ndarray, k: int = 5) -> list[Passage]:
        """Fused top-``k`` for ``question`` with embedding ``qvec`` (``(384,)`` float32)."""
        n = len(self.stored.chunks)
        if n == 0:
            return []
        m = min(n, max(self.candidates, k))
        dense, ids = self.stored.vectors.search(qvec[None, :], m)
        cos = {int(i): float(s) for s, i in zip(dense[0], ids[0]) if i >= 0}
        lex = self.bm25_scores(question)
        lex_top = np.argsort(-lex)[:m]
        missing = [int(i) for i in lex_top if lex[i] > 0 and int(i) not in cos]
        if missing:
            vecs = self.stored.vectors.index.reconstruct_batch(np.asarray(missing, dtype=np.int64))
            cos.update({i: float(v @ qvec) for i, v in zip(missing, vecs)})
        top_lex = float(lex.max()) if len(lex) else 0.0
        fused = {i: self.alpha * c + (1 - self.alpha) * (float(lex[i]) / top_lex if top_lex > 0 else 0.0)
                 for i, c in cos.items()}
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [Passage(self.stored.chunks[i], fused[i], r + 1, dense=cos[i]) for r, i in enumerate(order)]
