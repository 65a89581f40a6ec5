"""The embedded backend: FAISS + bm25s in versioned folders on this machine (the default).

Reads go to one loaded version (:class:`rag.store.files.StoredIndex`); ids are chunk rows and
every fetch is answered by the whole loaded index (no copy). Writes (:meth:`EmbeddedStore.upsert`,
:meth:`EmbeddedStore.delete`) build a complete new version folder and switch ``CURRENT`` to it
(crash-safe, see :mod:`rag.store.files`). What an update costs: every chunk's text, vectors,
sentences and the BM25 index are written again (about 0.8 KiB of files per passage, plus
1.5 KiB per sentence); only new or changed chunks and sentences are embedded, the rest reuse the
previous version's vectors. At 1M passages that is ~0.8 GiB written per update: past a few
million passages, use the Milvus backend, whose updates cost what changed.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from ..text import TermStats
from ..types import Chunk
from .files import StoredIndex, current_version, load_index


class EmbeddedStore:
    """The :class:`rag.store.base.Store` of one loaded version of an index folder.

    Example::

        store = EmbeddedStore.open("index/default", embedder_name=e.name, dim=e.dim)
        ids, cos = store.dense_topk(qvec, 10)
        block = store.fetch(ids)        # the whole loaded index: positions = ids

    Raises what :func:`rag.store.files.load_index` raises (not found, mismatch, corrupt).
    """

    def __init__(self, stored: StoredIndex):
        self.stored = stored
        self.location = str(stored.path)

    @classmethod
    def open(cls, index_dir: str | Path, *, embedder_name: str, dim: int) -> "EmbeddedStore":
        return cls(load_index(index_dir, embedder_name=embedder_name, dim=dim))

    def __len__(self) -> int:
        return len(self.stored.chunks)

    @property
    def version(self) -> str:
        return self.stored.version

    def live_version(self) -> str | None:
        """The version committed on disk now (another process may have written a newer one)."""
        v = current_version(self.stored.path)
        return v.name if v is not None else None

    @property
    def manifest(self) -> dict:
        return self.stored.manifest

    @cached_property
    def _vocab(self) -> set[str]:
        bm25 = self.stored.bm25
        return set(bm25.vocab_dict) if bm25 is not None and hasattr(bm25, "vocab_dict") else set()

    def dense_topk(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(int(k), len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self.stored.vectors.search(np.asarray(qvec, dtype=np.float32)[None, :], k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def bm25_scores(self, query_terms: list[str]) -> np.ndarray:
        """``(n_chunks,)`` float32 BM25 score of every chunk (0: no match)."""
        q = [t for t in query_terms if t in self._vocab]
        if not q or self.stored.bm25 is None:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.stored.bm25.get_scores(q), dtype=np.float32)

    def lexical_topk(self, query_terms: list[str], k: int, *, also=None):
        lex = self.bm25_scores(query_terms)
        n, k = len(lex), min(int(k), len(lex))
        also_scores = lex[np.asarray(also, dtype=np.int64)] if also is not None else np.zeros(0, np.float32)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), also_scores
        top = np.argpartition(-lex, k - 1)[:k] if k < n else np.arange(n)  # O(n), not a full sort
        top = top[np.lexsort((top, -lex[top]))]
        top = top[lex[top] > 0].astype(np.int64)
        return top, lex[top], also_scores

    def fetch(self, ids) -> StoredIndex:
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= len(self)):
            raise KeyError(f"no chunk row {int(ids.max())} in {self.location}")
        return self.stored

    def ids_of(self, chunks: list[Chunk]) -> list[int | None]:
        row_of = self.stored.row_of
        return [row_of.get(c.id) for c in chunks]

    @cached_property
    def _stats(self) -> TermStats:
        return TermStats.from_bm25(self.stored.bm25)

    def term_stats(self) -> TermStats:
        return self._stats

    def documents(self) -> list[dict]:
        return list(self.stored.manifest.get("sources", []))

    def all_chunks(self) -> list[Chunk]:
        return self.stored.chunks

    def stats(self) -> dict:
        m = self.stored.manifest
        return {"backend": "embedded", "location": self.location, "version": self.version,
                "documents": len(m.get("sources", [])), "chunks": len(self),
                "sentences": len(self.stored.sentences), "embedder": m.get("embedder"),
                "vector_index": self.stored.vectors.kind}
