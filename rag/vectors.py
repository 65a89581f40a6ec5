"""A tiny FAISS wrapper: ``add / delete / search / save / load`` over L2-normalised vectors.

Exact inner-product search (``faiss.IndexFlatIP``) behind ``faiss.IndexIDMap2``, so each vector
carries a caller-chosen int64 id. With normalised vectors the inner product is the cosine
similarity, in [-1, 1]. Source: FAISS (Johnson, Douze & Jégou, 2019).
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


def set_search_threads(n: int) -> None:
    """Use ``n`` OpenMP threads for FAISS searches (process-wide). One query against a small
    flat index takes microseconds; with 2 threads on busy cores it took ~8 ms waiting for them."""
    faiss.omp_set_num_threads(max(1, int(n)))


class VectorIndex:
    """Exact cosine-similarity index with int64 ids.

    Example::

        vi = VectorIndex(384)
        vi.add(vectors, ids=np.arange(len(vectors)))
        scores, ids = vi.search(query_vectors, k=5)   # (q, 5) float32, (q, 5) int64; -1 pads
    """

    kind = "IndexIDMap2(IndexFlatIP)"

    def __init__(self, dim: int, index=None):
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add ``(n, dim)`` float32 vectors under int64 ``ids`` (shape ``(n,)``).

        Raises ``ValueError`` when the shapes disagree."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(ids) != len(vectors):
            raise ValueError(f"expected ({len(ids)}, {self.dim}) vectors, got {vectors.shape}")
        if len(ids):
            self.index.add_with_ids(vectors, ids)

    def delete(self, ids: np.ndarray) -> int:
        """Remove vectors by id; returns how many were removed."""
        return int(self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by inner product for ``(q, dim)`` queries: ``(scores, ids)``, each ``(q, k)``,
        best first; missing slots have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        return self.index.search(queries, k)

    def save(self, path: str | Path) -> None:
        """Write the index to ``path`` (one file)."""
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: str | Path) -> "VectorIndex":
        """Read an index written by :meth:`save`. Raises ``RuntimeError`` (from FAISS) when the file
        is unreadable."""
        index = faiss.read_index(str(path))
        return cls(index.d, index)
