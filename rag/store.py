"""The persisted index: one folder per index, committed atomically, checked on load.

Layout of ``index/<name>/``::

    CURRENT               name of the live version folder (replaced atomically with os.replace)
    .lock                 advisory lock held by a writer (fcntl.flock)
    v-<time>-<pid>/       one complete version:
        manifest.json     embedder, dimension, normalisation, chunker version, sources and hashes
        vectors.faiss     FAISS index of chunk vectors (ids = chunk rows; exact, or IVF-SQ8 when large)
        chunks.jsonl      chunk metadata and text, one JSON object a line, in row order
        sentences.npy     (m, 3) int32: chunk row, start, end (offsets into the chunk text)
        sent_vectors.npy  (m, 384) float32 sentence vectors, L2-normalised
        entities.npy      (e, 4) int32: sentence row, start, end (offsets into the chunk text), label id
                          (spaCy entities, numbers and dates; labels in rag.entities.LABELS)
        sent_flags.npy    (m,) uint8: per sentence, bit 1 = it holds a verb (rag.entities)
        bm25/             BM25 index of the chunks (bm25s format), in row order

A write goes to a fresh ``.tmp-*`` folder, every file is fsynced, the folder is renamed to
``v-*`` and only then is ``CURRENT`` switched; a process killed at any moment leaves the previous
version loadable. Old versions are removed after the switch.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .types import Chunk
from .vectors import VectorIndex

#: 2: entities.npy and sent_flags.npy (entities found at ingest for the offline answerer).
FORMAT_VERSION = 2


class IndexError_(Exception):
    """Base class of index errors (named with a trailing underscore to avoid the builtin)."""


class IndexNotFoundError(IndexError_, FileNotFoundError):
    """No index at the given folder."""


class IndexMismatchError(IndexError_, ValueError):
    """The index was built with another embedder, dimension or format than this engine uses."""


class IndexCorruptError(IndexError_, ValueError):
    """The index folder is incomplete or unreadable."""


class IndexLockedError(IndexError_, RuntimeError):
    """Another process is writing this index."""


@dataclass
class StoredIndex:
    """An index loaded into memory.

    ``chunks[i]`` is the chunk whose vector has FAISS id ``i``; ``sentences`` is ``(m, 3)`` int32
    (chunk row, start, end) and ``sent_vectors`` ``(m, dim)`` float32; ``entities`` is ``(e, 4)``
    int32 (sentence row, start, end, label id; sorted by sentence row) and ``sent_flags`` ``(m,)``
    uint8 (see :mod:`rag.entities`).
    """

    path: Path
    manifest: dict
    chunks: list[Chunk]
    vectors: VectorIndex
    sentences: np.ndarray
    sent_vectors: np.ndarray
    bm25: object = None
    entities: np.ndarray | None = None
    sent_flags: np.ndarray | None = None
    version: str = ""  #: name of the version folder this was loaded from

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Chunk id -> row (= FAISS id)."""
        return {c.id: i for i, c in enumerate(self.chunks)}

    @cached_property
    def _sentence_starts(self) -> np.ndarray:
        rows = self.sentences[:, 0] if len(self.sentences) else np.zeros(0, dtype=np.int32)
        return np.searchsorted(rows, np.arange(len(self.chunks) + 1))

    def sentence_range(self, row: int) -> tuple[int, int]:
        """``(lo, hi)``: the rows of ``sentences`` / ``sent_vectors`` that belong to chunk ``row``."""
        starts = self._sentence_starts
        return int(starts[row]), int(starts[row + 1])

    def sentence_ranges(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` int64 arrays: :meth:`sentence_range` of each of ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self._sentence_starts
        return starts[rows].astype(np.int64), starts[rows + 1].astype(np.int64)

    @cached_property
    def _entity_starts(self) -> np.ndarray:
        ents = self.entities if self.entities is not None else np.zeros((0, 4), dtype=np.int32)
        return np.searchsorted(ents[:, 0], np.arange(len(self.sentences) + 1))

    def sentence_entities(self, lo: int, hi: int) -> np.ndarray:
        """``(n, 4)`` int32 entity rows (sentence row, start, end, label id) of the sentences
        ``lo:hi``; empty when the index holds no entities."""
        if self.entities is None:
            return np.zeros((0, 4), dtype=np.int32)
        starts = self._entity_starts
        return self.entities[starts[lo]:starts[hi]]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def write_lock(index_dir: str | Path, *, wait: bool = True):
    """Hold the writer lock of ``index_dir`` (created if missing). When another process holds it,
    says so on stderr and waits (``wait=True``). A folder this call created is removed again when
    the write fails before anything but the lock file is in it.

    Raises :class:`IndexLockedError` when ``wait`` is false and another process holds it."""
    index_dir = Path(index_dir)
    created = not index_dir.exists()
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with open(index_dir / ".lock", "a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as e:
                if not wait:
                    raise IndexLockedError(
                        f"Another process is writing the index at {index_dir}; wait for it to finish.") from e
                print(f"Waiting for another process to finish writing the index at {index_dir} ...",
                      file=sys.stderr, flush=True)
                fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    except BaseException:
        # a failed first write leaves no folder behind that holds nothing but the lock file
        if created and {p.name for p in index_dir.iterdir()} <= {".lock"}:
            (index_dir / ".lock").unlink(missing_ok=True)
            index_dir.rmdir()
        raise


def save_index(index_dir: str | Path, *, manifest: dict, chunks: list[Chunk], vectors: np.ndarray,
               sentences: np.ndarray, sent_vectors: np.ndarray, bm25=None,
               entities: np.ndarray | None = None, sent_flags: np.ndarray | None = None) -> Path:
    """Write a new version of the index at ``index_dir`` and make it the live one, atomically.

    ``vectors`` is ``(len(chunks), dim)`` float32, L2-normalised; ``bm25`` a ``bm25s.BM25`` over
    the same chunks (built here when omitted); ``entities`` ``(e, 4)`` and ``sent_flags`` ``(m,)``
    as in :class:`StoredIndex` (empty when omitted). The caller should hold
    :func:`write_lock`. Returns the version folder.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    vi = VectorIndex.build(vectors)
    manifest = dict(manifest, format=FORMAT_VERSION, count=len(chunks),
                    sentences=int(len(sentences)), index_type=vi.kind)
    tmp = index_dir / f".tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()
    try:
        vi.save(tmp / "vectors.faiss")
        _write_file(tmp / "chunks.jsonl", "".join(
            json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in chunks).encode("utf-8"))
        if entities is None:
            entities = np.zeros((0, 4), dtype=np.int32)
        if sent_flags is None:
            sent_flags = np.zeros(len(sentences), dtype=np.uint8)
        for name, arr in (("sentences.npy", np.asarray(sentences, dtype=np.int32).reshape(-1, 3)),
                          ("sent_vectors.npy", np.asarray(sent_vectors, dtype=np.float32)),
                          ("entities.npy", np.asarray(entities, dtype=np.int32).reshape(-1, 4)),
                          ("sent_flags.npy", np.asarray(sent_flags, dtype=np.uint8).reshape(-1))):
            with open(tmp / name, "wb") as f:
                np.save(f, arr)
                f.flush()
                os.fsync(f.fileno())
        if bm25 is None:
            from .retriever import build_bm25

            bm25 = build_bm25(chunks)
        bm25.save(str(tmp / "bm25"), show_progress=False)
        for f_path in [tmp / "vectors.faiss", *sorted((tmp / "bm25").iterdir())]:
            with open(f_path, "rb+") as f:
                os.fsync(f.fileno())
        _fsync_dir(tmp / "bm25")
        # the manifest goes last: a version folder with a manifest is complete
        _write_file(tmp / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
        _fsync_dir(tmp)
        final = index_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.time_ns() % 10**6}"
        os.rename(tmp, final)
        _write_file(index_dir / "CURRENT.tmp", final.name.encode())
        os.replace(index_dir / "CURRENT.tmp", index_dir / "CURRENT")
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in index_dir.iterdir():  # old versions and leftovers of killed writers
        if old.is_dir() and old.name != final.name and (old.name.startswith("v-") or old.name.startswith(".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


def current_version(index_dir: str | Path) -> Path | None:
    """The live version folder of ``index_dir``, or ``None`` when there is no index there."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return index_dir / name


def read_manifest(index_dir: str | Path) -> dict | None:
    """The live manifest of ``index_dir``, or ``None`` when missing or unreadable."""
    version = current_version(index_dir)
    if version is None:
        return None
    try:
        return json.loads((version / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def load_index(index_dir: str | Path, *, embedder_name: str, dim: int, with_bm25: bool = True) -> StoredIndex:
    """Load the live version of ``index_dir`` into memory (without its BM25 index when
    ``with_bm25`` is false: ``bm25`` is then ``None``).

    Raises :class:`IndexNotFoundError` when there is none, :class:`IndexMismatchError` when it was
    built with another embedder or dimension (fix: rebuild with ``rag ingest --index DIR``), and
    :class:`IndexCorruptError` when files are missing or unreadable.
    """
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexNotFoundError(f"{index_dir} is a file, not an index folder. Build an index with: "
                                 f"rag ingest PATH... --index NEW_FOLDER")
    version = current_version(index_dir)
    if version is None:
        raise IndexNotFoundError(
            f"No index at {index_dir}. Build one with: rag ingest PATH... --index {index_dir}")
    fix = f"Rebuild it with: rag ingest PATH... --index {index_dir} --rebuild"
    try:
        manifest = json.loads((version / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"The index at {index_dir} is unreadable ({e}). {fix}") from e
    if manifest.get("embedder") != embedder_name or int(manifest.get("dim", -1)) != dim:
        raise IndexMismatchError(
            f"The index at {index_dir} was built with embedder {manifest.get('embedder')!r} "
            f"(dimension {manifest.get('dim')}), but this engine embeds questions with "
            f"{embedder_name!r} (dimension {dim}); their vectors cannot be compared. {fix}")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index at {index_dir} has format {manifest.get('format')}, this version reads "
            f"format {FORMAT_VERSION}. {fix}")
    try:
        vectors = VectorIndex.load(version / "vectors.faiss")
        with open(version / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk(**json.loads(line)) for line in f if line.strip()]
        sentences = np.load(version / "sentences.npy")
        sent_vectors = np.load(version / "sent_vectors.npy")
        entities = np.load(version / "entities.npy")
        sent_flags = np.load(version / "sent_flags.npy")
        from .retriever import load_bm25

        bm25 = load_bm25(version / "bm25") if with_bm25 else None
    except (OSError, ValueError, RuntimeError, TypeError, KeyError) as e:
        raise IndexCorruptError(f"The index at {index_dir} is damaged ({e}). {fix}") from e
    if not (len(vectors) == len(chunks) == manifest.get("count")
            and len(sentences) == len(sent_vectors) == len(sent_flags) == manifest.get("sentences")
            and entities.ndim == 2 and entities.shape[1] == 4
            and vectors.dim == dim and (bm25 is None or int(bm25.scores["num_docs"]) == len(chunks))):
        raise IndexCorruptError(
            f"The index at {index_dir} is inconsistent: {len(vectors)} vectors, {len(chunks)} "
            f"chunks, manifest says {manifest.get('count')}. {fix}")
    return StoredIndex(index_dir, manifest, chunks, vectors, sentences, sent_vectors, bm25,
                       entities=entities, sent_flags=sent_flags, version=version.name)
