"""Where the index lives: the storage interface (:mod:`rag.store.base`), the embedded backend
(FAISS + bm25s folders, :mod:`rag.store.embedded` over the file format of
:mod:`rag.store.files`) and the Milvus backend (:mod:`rag.store.milvus`).

:func:`open_store` picks the backend from a location string: ``milvus://HOST:PORT/COLLECTION``
for Milvus, anything else is an index folder.
"""
from __future__ import annotations

from pathlib import Path

from .base import Block, Store, locate
from .embedded import EmbeddedStore
from .files import (FORMAT_VERSION, IndexCorruptError, IndexDiskFullError, IndexError_, IndexLockedError,
                    IndexMismatchError, IndexNotFoundError, StoredIndex, check_index, check_manifest,
                    check_sizes, current_version, file_problems, load_index, read_manifest, rebuild_fix,
                    remove_leftovers, save_index, text_hash, write_lock)

MILVUS_SCHEME = "milvus://"


def is_milvus(location: str | Path | None) -> bool:
    """True when ``location`` names a Milvus collection (``milvus://HOST:PORT/COLLECTION``)."""
    return isinstance(location, str) and location.startswith(MILVUS_SCHEME)


def as_store(x) -> Store:
    """``x`` as a :class:`Store`: a loaded :class:`StoredIndex` is wrapped in
    :class:`EmbeddedStore`; a store is returned as is."""
    return EmbeddedStore(x) if isinstance(x, StoredIndex) else x


def open_store(location: str | Path, *, embedder_name: str, dim: int) -> Store:
    """The store at ``location``: a Milvus collection for ``milvus://HOST:PORT/COLLECTION``,
    else the index folder (:class:`EmbeddedStore`). Raises :class:`IndexNotFoundError` when
    there is no index there, :class:`IndexMismatchError` for another embedder, and for Milvus
    :class:`rag.store.milvus.MilvusUnavailableError` when the server cannot be reached."""
    if is_milvus(location):
        from .milvus import MilvusStore  # lazy: it imports rag.ingest, which imports this package

        return MilvusStore.open(str(location), embedder_name=embedder_name, dim=dim)
    return EmbeddedStore.open(location, embedder_name=embedder_name, dim=dim)


__all__ = ["Block", "Store", "locate", "EmbeddedStore", "as_store", "open_store", "is_milvus", "MILVUS_SCHEME",
           "FORMAT_VERSION", "IndexCorruptError", "IndexDiskFullError", "IndexError_", "IndexLockedError",
           "IndexMismatchError", "IndexNotFoundError", "StoredIndex", "check_index", "check_manifest",
           "check_sizes", "current_version", "file_problems", "load_index", "read_manifest", "rebuild_fix",
           "remove_leftovers", "save_index", "text_hash", "write_lock"]
