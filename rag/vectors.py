"""A tiny FAISS wrapper: ``add / delete / search / reconstruct / save / load`` over L2-normalised
vectors, with the index type chosen by size.

* Up to :data:`EXACT_MAX` (50,000) vectors: exact inner-product search (``IndexFlatIP`` behind
  ``IndexIDMap2``, so each vector carries a caller-chosen int64 id).
* Above: ``IndexIVFScalarQuantizer`` — an inverted file of ``nlist ≈ 2·√n`` k-means cells
  (10 iterations on a seeded sample of 40 vectors per cell) with 8-bit scalar-quantised vectors (384 bytes each
  instead of 1,536), searched in ``nprobe`` cells. At 1M vectors this takes ~0.4 GiB of RAM where
  the flat index needs 1.5 GiB; recall@10 against exact search and latency are measured in
  ``bench/scale.py`` (see docs/benchmarks.md).

With normalised vectors the inner product is the cosine similarity, in [-1, 1].
Source: FAISS (Johnson, Douze & Jégou, "Billion-scale similarity search with GPUs", 2019); IVF:
Sivic & Zisserman (2003), Jégou et al. (2011).
"""
from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

#: Above this many vectors the index is approximate (IVF with 8-bit scalar quantisation): exact
#: search of one query costs ~0.2 µs per vector on one core here (~10 ms at 50k).
EXACT_MAX = 50_000
#: Inverted-file cells probed per query (fraction of the collection scanned: nprobe / nlist).
IVF_NPROBE = 48


def set_search_threads(n: int) -> None:
    """Use ``n`` OpenMP threads for FAISS searches (process-wide). One query against a small
    flat index takes microseconds; with 2 threads on busy cores it took ~8 ms waiting for them."""
    faiss.omp_set_num_threads(max(1, int(n)))


def ivf_nlist(n: int) -> int:
    """Number of IVF cells for ``n`` vectors: ``2·√n`` rounded to a multiple of 64 (at least 64)."""
    return max(64, int(round(2 * math.sqrt(n) / 64)) * 64)


class VectorIndex:
    """Cosine-similarity index with int64 ids; exact up to :data:`EXACT_MAX` vectors.

    Example::

        vi = VectorIndex.build(vectors)                  # ids 0..n-1, type chosen by size
        scores, ids = vi.search(query_vectors, k=5)      # (q, 5) float32, (q, 5) int64; -1 pads
        vi.reconstruct(ids[0])                           # (5, dim) float32 stored vectors

    ``VectorIndex(dim)`` is an empty exact index for :meth:`add`.
    """

    def __init__(self, dim: int, index=None):
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def kind(self) -> str:
        """Human-readable index type, e.g. ``"IndexIDMap2(IndexFlatIP)"`` or
        ``"IndexIVFScalarQuantizer(nlist=4032, SQ8, nprobe=48)"``."""
        ivf = faiss.try_extract_index_ivf(self.index)
        if ivf is not None:
            return f"IndexIVFScalarQuantizer(nlist={ivf.nlist}, SQ8, nprobe={ivf.nprobe})"
        return "IndexIDMap2(IndexFlatIP)"

    @classmethod
    def build(cls, vectors: np.ndarray, *, exact_max: int = EXACT_MAX, nprobe: int = IVF_NPROBE,
              seed: int = 1234) -> "VectorIndex":
        """An index over ``(n, dim)`` float32 L2-normalised ``vectors`` with ids ``0..n-1``: exact
        when ``n <= exact_max``, else IVF-SQ8 whose cells are trained (k-means, 10 iterations) on a
        seeded sample of 40 vectors per cell, so builds are repeatable."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if n <= exact_max:
            vi = cls(dim)
            vi.add(vectors, np.arange(n, dtype=np.int64))
            return vi
        nlist = ivf_nlist(n)
        ivf = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist,
                                            faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 10
        ivf.cp.seed = seed
        sample = np.random.default_rng(seed).choice(n, size=min(n, 40 * nlist), replace=False)
        ivf.train(vectors[np.sort(sample)])
        ivf.add_with_ids(vectors, np.arange(n, dtype=np.int64))
        ivf.make_direct_map()  # reconstruct by id
        ivf.nprobe = nprobe
        return cls(dim, ivf)

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

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``: ``(len(ids), dim)`` float32 (exact for the flat index,
        8-bit-quantised for IVF-SQ8: error ~1e-3 per component)."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(ids)

    def save(self, path: str | Path) -> None:
        """Write the index to ``path`` (one file)."""
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: str | Path) -> "VectorIndex":
        """Read an index written by :meth:`save`. Raises ``RuntimeError`` (from FAISS) when the file
        is unreadable."""
        index = faiss.read_index(str(path))
        return cls(index.d, index)
