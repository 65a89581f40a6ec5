"""The storage interface: what retrieval, the second stage, the answerer and the citation check
may ask of wherever the passages live.

Two small contracts:

- :class:`Store`: one index. Dense top-k (cosine of unit vectors), lexical top-k (BM25 over the
  chunks' :func:`rag.text.terms`), passages fetched by id, term statistics, the documents it
  holds, its counts, and its version (a string that changes on every committed write). Writes:
  :meth:`Store.upsert` replaces documents by source, :meth:`Store.delete` removes them; each
  call commits before it returns. Backends: :class:`rag.store.embedded.EmbeddedStore` (FAISS +
  bm25s in versioned folders) and :class:`rag.store.milvus.MilvusStore`.
- :class:`Block`: passages fetched by id, with their sentences. Positions index its arrays;
  ``block.position(ids)`` maps store ids to positions. Sentence indices (``sentences`` rows) are
  local to the block. The embedded backend answers every fetch with the whole loaded index
  (positions = ids, nothing copied); the Milvus backend with a block of just those passages.

Ids are ``int`` (numpy int64): a chunk row for the embedded backend, a content hash of the chunk
(id and text) for Milvus, so a changed chunk never keeps an old id and caches keyed by id stay
right. A store is safe to read from several threads.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..types import Chunk


@runtime_checkable
class Block(Protocol):
    """Passages with their sentences, as fetched.

    - ``chunks[p]``: the chunk at position ``p``
    - ``sentences``: ``(m, 3)`` int32 (position, start, end), offsets into the chunk's text,
      grouped by position; ``sent_vectors``: ``(m, dim)`` float32 unit vectors
    - ``sent_flags``: ``(m,)`` uint8 (bit 1: the sentence has a verb, :mod:`rag.entities`) or None
    - ``entities``: ``(e, 4)`` int32 (sentence index, start, end, label id), sorted by sentence
    - ``row_of``: chunk id -> position
    """

    chunks: list[Chunk]
    sentences: np.ndarray
    sent_vectors: np.ndarray
    sent_flags: np.ndarray | None
    row_of: dict[str, int]

    def position(self, ids) -> np.ndarray:
        """``(n,)`` int64 positions of store ``ids`` in this block."""

    def vectors_at(self, positions) -> np.ndarray:
        """``(n, dim)`` float32 unit chunk vectors at ``positions``."""

    def sentence_range(self, position: int) -> tuple[int, int]:
        """``(lo, hi)``: the rows of ``sentences`` belonging to the chunk at ``position``."""

    def sentence_ranges(self, positions) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` int64 arrays: :meth:`sentence_range` of each position."""

    def sentence_entities(self, lo: int, hi: int) -> np.ndarray:
        """``(n, 4)`` int32 entity rows of the sentences ``lo:hi``."""

    def verify_chunks(self, positions) -> None:
        """Raise :class:`rag.store.IndexCorruptError` when a chunk's text is not the text written."""


@runtime_checkable
class Store(Protocol):
    """One index, wherever it lives. See the module docstring."""

    #: where it lives, as the user named it: a folder, or ``milvus://host:port/collection``
    location: str

    def __len__(self) -> int:
        """Number of passages (chunks)."""

    @property
    def version(self) -> str:
        """Changes whenever a write is committed (a folder name, or a commit time)."""

    def dense_topk(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, cosines)``: the ``k`` passages whose vectors are nearest ``qvec`` (``(dim,)``
        float32, unit length), best first; fewer when the index holds fewer."""

    def lexical_topk(self, query_terms: list[str], k: int, *, also=None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ids, scores, also_scores)``: the ``k`` best BM25 matches of ``query_terms`` (terms
        of :func:`rag.text.terms`) with a score above 0, best first; and the BM25 score of each of
        the ids in ``also`` (0 where nothing matches)."""

    def fetch(self, ids) -> Block:
        """The passages ``ids`` with their vectors and sentences. Raises ``KeyError`` for an id
        the store does not hold."""

    def ids_of(self, chunks: list[Chunk]) -> list[int | None]:
        """The id of each chunk, or None for a chunk this store does not hold."""

    def term_stats(self):
        """:class:`rag.text.TermStats` of the whole collection (document frequencies)."""

    def documents(self) -> list[dict]:
        """The documents held: dicts with source, title, sha256, chunks, articles."""

    def all_chunks(self) -> list[Chunk]:
        """Every chunk (for evaluation and listings; reads the whole collection)."""

    def stats(self) -> dict:
        """Counts and settings: documents, chunks, sentences, embedder, backend, ..."""


def locate(store: Store | None, chunk: Chunk) -> tuple[Block, int, int] | None:
    """``(block, position, id)`` of ``chunk`` in ``store``, or None when the store does not hold
    it (a passage given from outside the index)."""
    if store is None:
        return None
    (cid,) = store.ids_of([chunk])
    if cid is None:
        return None
    try:
        block = store.fetch([cid])
    except KeyError:
        return None
    return block, int(block.position([cid])[0]), cid
