"""The persisted index: one folder per index, committed atomically, checked on load.

Layout of ``index/<name>/``::

    CURRENT               name of the live version folder (replaced atomically with os.replace)
    .lock                 advisory lock held by a writer (fcntl.flock)
    v-<time>-<pid>/       one complete version:
        manifest.json     embedder, dimension, normalisation, chunker version, sources and hashes;
                          "files": each file's size in bytes and sha256 (sizes checked on every
                          load, hashes by ``rag check``)
        vectors.faiss     FAISS index of chunk vectors (ids = chunk rows; exact, or IVF-SQ8 when large)
        chunks.jsonl      chunk metadata and text, one JSON object a line, in row order, each
                          with "hash": the blake2b-64 hex digest of its text (checked when used)
        sentences.npy     (m, 3) int32: chunk row, start, end (offsets into the chunk text)
        sent_vectors.npy  (m, 384) float32 sentence vectors, L2-normalised
        entities.npy      (e, 4) int32: sentence row, start, end (offsets into the chunk text), label id
                          (spaCy entities, numbers and dates; labels in rag.entities.LABELS)
        sent_flags.npy    (m,) uint8: per sentence, bit 1 = it holds a verb (rag.entities)
        bm25/             BM25 index of the chunks (bm25s format), in row order

A write goes to a fresh ``.tmp-*`` folder, every file is fsynced, the folder is renamed to
``v-*`` and only then is ``CURRENT`` switched; a process killed at any moment leaves the previous
version loadable. Old versions are removed after the switch, and the leftovers of killed writers
(``.tmp-*`` folders, ``v-*`` folders other than the live one) the next time a writer takes the lock.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..types import Chunk
from ..vectors import VectorIndex

#: 2: entities.npy and sent_flags.npy (entities found at ingest for the offline answerer).
#: 3: the manifest records each file's size and sha256; each chunk its text's hash.
FORMAT_VERSION = 3


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
    chunk_hashes: list[str] | None = None  #: :func:`text_hash` of each chunk's text, as written

    def verify_chunks(self, rows) -> None:
        """Check that the text of each chunk of ``rows`` is the text written (its
        :func:`text_hash`); raises :class:`IndexCorruptError` naming ``rag ingest --rebuild``
        otherwise. Called for every chunk an answer uses: a few microseconds each."""
        if self.chunk_hashes is None:
            return
        for row in rows:
            row = int(row)
            if text_hash(self.chunks[row].text) != self.chunk_hashes[row]:
                raise IndexCorruptError(
                    f"The index at {self.path} is damaged (the text of chunk {self.chunks[row].id!r} "
                    f"is not the text it was written with). {rebuild_fix(self.path)}")

    def position(self, ids) -> np.ndarray:
        """Positions of chunk rows in this (whole-index) block: the rows themselves."""
        return np.asarray(ids, dtype=np.int64)

    def vectors_at(self, positions) -> np.ndarray:
        """``(n, dim)`` float32 chunk vectors of the rows ``positions`` (from FAISS)."""
        return self.vectors.reconstruct(np.asarray(positions, dtype=np.int64))

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


def text_hash(text: str) -> str:
    """Short content hash of a chunk's text: blake2b, 8 bytes, as 16 hex digits."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def rebuild_fix(index_dir: str | Path) -> str:
    """The fix named by every damaged-index error."""
    return f"Rebuild it with: rag ingest PATH... --index {index_dir} --rebuild"


class IndexDiskFullError(IndexError_, OSError):
    """The disk holding the index filled up while a new version was written (the previous
    version stays live)."""


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _version_files(folder: Path) -> list[Path]:
    """The files of a version folder other than its manifest, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")


def remove_leftovers(index_dir: str | Path) -> list[str]:
    """Remove what killed writers left in ``index_dir``: ``.tmp-*`` folders, ``v-*`` folders other
    than the live one, a stray ``CURRENT.tmp``. Call only under :func:`write_lock` (a writer that
    holds it may be filling its ``.tmp-*`` folder). Returns the names removed."""
    index_dir = Path(index_dir)
    try:
        live = current_version(index_dir)
    except IndexCorruptError:
        return []  # nothing is known to be live: keep everything for rag ingest --rebuild
    removed = []
    for p in index_dir.iterdir():
        if p.is_dir() and (p.name.startswith(".tmp-") or (p.name.startswith("v-") and (live is None or p.name != live.name))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
        elif p.name == "CURRENT.tmp":
            p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed


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
    says so on stderr and waits (``wait=True``). Once held, the leftovers of killed writers are
    removed (:func:`remove_leftovers`) and, when there were any, the live version's files are
    checked against their hashes (:func:`file_problems`; a problem is a warning on stderr). A folder this call created is removed again when the write
    fails before anything but the lock file is in it.

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
                if remove_leftovers(index_dir):  # a writer was killed: is the live version sound?
                    for problem in file_problems(index_dir):
                        print(f"rag: warning: {problem}", file=sys.stderr, flush=True)
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
            json.dumps({**c.to_dict(), "hash": text_hash(c.text)}, ensure_ascii=False) + "\n"
            for c in chunks).encode("utf-8"))
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
            from ..retriever import build_bm25

            bm25 = build_bm25(chunks)
        bm25.save(str(tmp / "bm25"), show_progress=False)
        for f_path in [tmp / "vectors.faiss", *sorted((tmp / "bm25").iterdir())]:
            with open(f_path, "rb+") as f:
                os.fsync(f.fileno())
        _fsync_dir(tmp / "bm25")
        manifest["files"] = {p.relative_to(tmp).as_posix(): {"bytes": p.stat().st_size, "sha256": _file_sha256(p)}
                             for p in _version_files(tmp)}
        # the manifest goes last: a version folder with a manifest is complete
        _write_file(tmp / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
        _fsync_dir(tmp)
        final = index_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.time_ns() % 10**6}"
        os.rename(tmp, final)
        _write_file(index_dir / "CURRENT.tmp", final.name.encode())
        os.replace(index_dir / "CURRENT.tmp", index_dir / "CURRENT")
        _fsync_dir(index_dir)
    except BaseException as e:
        written = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file()) if tmp.exists() else 0
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            need = _estimate_bytes(chunks, vectors, sentences, sent_vectors, entities)
            free = shutil.disk_usage(index_dir).free
            raise IndexDiskFullError(
                e.errno, f"No space left on the disk of {index_dir.resolve()} while writing the index "
                f"({_mib(written)} written of about {_mib(need)} needed, {_mib(free)} free now); free "
                f"at least {_mib(max(need - free, 0) + (16 << 20))} there, or write the index elsewhere "
                f"with --index DIR. The previous version is kept.") from e
        raise
    for old in index_dir.iterdir():  # old versions and leftovers of killed writers
        if old.is_dir() and old.name != final.name and (old.name.startswith("v-") or old.name.startswith(".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n / 1024:,.0f} KiB"


def _estimate_bytes(chunks, vectors, sentences, sent_vectors, entities) -> int:
    """Rough size of a version on disk: the arrays, the chunks' JSON (~1.5× their text) and the
    BM25 index (~ their text again)."""
    arrays = sum(np.asarray(a).nbytes for a in (vectors, sentences, sent_vectors) if a is not None)
    arrays += np.asarray(entities).nbytes if entities is not None else 0
    return arrays + int(2.5 * sum(len(c.text) + 200 for c in chunks))


_VERSION_NAME = re.compile(r"v-[0-9A-Za-z_-]{1,80}")


def current_version(index_dir: str | Path) -> Path | None:
    """The live version folder of ``index_dir``, or ``None`` when there is no index there.
    Raises :class:`IndexCorruptError` when ``CURRENT`` holds anything but a version name."""
    index_dir = Path(index_dir)
    try:
        raw = (index_dir / "CURRENT").read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    name = raw.decode("utf-8", "replace").strip()
    if not _VERSION_NAME.fullmatch(name):
        raise IndexCorruptError(f"The index at {index_dir} is damaged (its CURRENT file holds "
                                f"{raw[:40]!r}, not a version name). {rebuild_fix(index_dir)}")
    return index_dir / name


#: Fields every manifest has, with their types.
_MANIFEST_FIELDS = {"embedder": str, "dim": int, "count": int, "sentences": int, "sources": list,
                    "files": dict}


def check_manifest(manifest, index_dir: str | Path) -> dict:
    """``manifest`` when it has the shape this version writes (an object; ``format``,
    ``dim``, ``count``, ``sentences`` integers; ``embedder`` text; ``sources`` a list of objects
    with a ``source``; ``files`` name -> ``{"bytes": int, "sha256": str}``). Raises
    :class:`IndexMismatchError` for another format and :class:`IndexCorruptError` for any other
    difference, naming ``rag ingest --rebuild``."""
    fix = rebuild_fix(index_dir)

    def bad(what: str):
        return IndexCorruptError(f"The index at {index_dir} is damaged (its manifest {what}). {fix}")

    if not isinstance(manifest, dict):
        raise bad(f"is a JSON {type(manifest).__name__}, not an object")
    fmt = manifest.get("format")
    if fmt != FORMAT_VERSION:
        if not isinstance(fmt, int) or isinstance(fmt, bool):
            raise bad(f"has format {fmt!r}, not a number")
        raise IndexMismatchError(f"The index at {index_dir} has format {fmt}, this version reads "
                                 f"format {FORMAT_VERSION}. {fix}")
    for key, kind in _MANIFEST_FIELDS.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise bad(f"has {key} = {str(value)[:40]!r}, not {'a number' if kind is int else 'a ' + kind.__name__}")
    if not all(isinstance(x, dict) and isinstance(x.get("source"), str) for x in manifest["sources"]):
        raise bad("has a source that is not an object with a path")
    for name, f in manifest["files"].items():
        if not (isinstance(f, dict) and isinstance(f.get("bytes"), int) and isinstance(f.get("sha256"), str)
                and ".." not in Path(name).parts and not Path(name).is_absolute()):
            raise bad(f"has a bad entry for file {name[:60]!r}")
    return manifest


def read_manifest(index_dir: str | Path) -> dict | None:
    """The live manifest of ``index_dir``, or ``None`` when missing, unreadable or not a JSON
    object (its shape is checked by :func:`check_manifest` when the index is loaded)."""
    try:
        version = current_version(index_dir)
        if version is None:
            return None
        m = json.loads((version / "manifest.json").read_text())
    except (OSError, ValueError, IndexCorruptError):
        return None
    return m if isinstance(m, dict) else None


def load_index(index_dir: str | Path, *, embedder_name: str, dim: int, with_bm25: bool = True) -> StoredIndex:
    """Load the live version of ``index_dir`` into memory (without its BM25 index when
    ``with_bm25`` is false: ``bm25`` is then ``None``).

    Checks the manifest's shape (:func:`check_manifest`), every file's size (:func:`check_sizes`),
    the counts, and the sentence offsets against the chunk texts; content hashes are checked by
    :func:`check_index` (``rag check``) and, chunk by chunk, when an answer uses a chunk
    (:meth:`StoredIndex.verify_chunks`).

    Raises :class:`IndexNotFoundError` when there is none, :class:`IndexMismatchError` when it was
    built with another embedder, dimension or format, and :class:`IndexCorruptError` when it is
    damaged (garbage in ``CURRENT``, a manifest of the wrong shape, files missing, of the wrong
    size or unreadable); each message names the fix, ``rag ingest ... --rebuild``.
    """
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexNotFoundError(f"{index_dir} is a file, not an index folder. Build an index with: "
                                 f"rag ingest PATH... --index NEW_FOLDER")
    version = current_version(index_dir)
    if version is None:
        raise IndexNotFoundError(
            f"No index at {index_dir}. Build one with: rag ingest PATH... --index {index_dir}")
    fix = rebuild_fix(index_dir)
    try:
        manifest = json.loads((version / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"The index at {index_dir} is unreadable ({e}). {fix}") from e
    check_manifest(manifest, index_dir)
    if manifest["embedder"] != embedder_name or manifest["dim"] != dim:
        raise IndexMismatchError(
            f"The index at {index_dir} was built with embedder {manifest.get('embedder')!r} "
            f"(dimension {manifest.get('dim')}), but this engine embeds questions with "
            f"{embedder_name!r} (dimension {dim}); their vectors cannot be compared. {fix}")
    check_sizes(version, manifest, index_dir)
    try:
        vectors = VectorIndex.load(version / "vectors.faiss")
        chunks, hashes = [], []
        with open(version / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    hashes.append(d.pop("hash"))
                    chunks.append(Chunk(**d))
        sentences = np.load(version / "sentences.npy")
        sent_vectors = np.load(version / "sent_vectors.npy")
        entities = np.load(version / "entities.npy")
        sent_flags = np.load(version / "sent_flags.npy")
        from ..retriever import load_bm25

        bm25 = load_bm25(version / "bm25") if with_bm25 else None
    except (OSError, ValueError, RuntimeError, TypeError, KeyError, AttributeError) as e:
        raise IndexCorruptError(f"The index at {index_dir} is damaged ({type(e).__name__}: "
                                f"{' '.join(str(e).split())[:160]}). {fix}") from e
    if not (len(vectors) == len(chunks) == manifest.get("count")
            and len(sentences) == len(sent_vectors) == len(sent_flags) == manifest.get("sentences")
            and entities.ndim == 2 and entities.shape[1] == 4
            and vectors.dim == dim and (bm25 is None or int(bm25.scores["num_docs"]) == len(chunks))):
        raise IndexCorruptError(
            f"The index at {index_dir} is inconsistent: {len(vectors)} vectors, {len(chunks)} "
            f"chunks, manifest says {manifest.get('count')}. {fix}")
    if len(sentences):
        rows = sentences[:, 0].astype(np.int64)
        lens = np.fromiter((len(c.text) for c in chunks), dtype=np.int64, count=len(chunks))
        if (sentences.ndim != 2 or sentences.shape[1] != 3 or rows.min() < 0 or rows.max() >= len(chunks)
                or (np.diff(rows) < 0).any() or (sentences[:, 1] < 0).any()
                or (sentences[:, 1] >= sentences[:, 2]).any() or (sentences[:, 2] > lens[rows]).any()):
            raise IndexCorruptError(f"The index at {index_dir} is damaged (sentence offsets outside "
                                    f"their chunks). {fix}")
    return StoredIndex(index_dir, manifest, chunks, vectors, sentences, sent_vectors, bm25,
                       entities=entities, sent_flags=sent_flags, version=version.name,
                       chunk_hashes=hashes)


def check_sizes(version: Path, manifest: dict, index_dir: str | Path) -> None:
    """Raise :class:`IndexCorruptError` when a file the manifest lists is missing or not the
    size written, or a file is there that it does not list (cheap: one ``stat`` a file)."""
    fix = rebuild_fix(index_dir)
    for name, f in manifest["files"].items():
        try:
            size = (version / name).stat().st_size
        except OSError:
            raise IndexCorruptError(f"The index at {index_dir} is damaged ({name} is missing). {fix}") from None
        if size != f["bytes"]:
            raise IndexCorruptError(f"The index at {index_dir} is damaged ({name} is {size:,} bytes, "
                                    f"written as {f['bytes']:,}). {fix}")


def file_problems(index_dir: str | Path) -> list[str]:
    """The files of the live version of ``index_dir`` that are missing, of the wrong size or whose
    sha256 is not the manifest's, one line each naming ``rag ingest --rebuild``; ``[]`` when
    sound or when there is no index. Reads every file once (about 1 s per GB)."""
    try:
        version = current_version(index_dir)
        if version is None:
            return []
        manifest = check_manifest(json.loads((version / "manifest.json").read_text()), index_dir)
        check_sizes(version, manifest, index_dir)
    except IndexMismatchError:
        return []
    except IndexCorruptError as e:
        return [str(e)]
    except (OSError, ValueError) as e:
        return [f"The index at {index_dir} is damaged (its manifest is unreadable: {type(e).__name__}). "
                f"{rebuild_fix(index_dir)}"]
    return [f"The index at {index_dir} is damaged: {name}: content differs from what was written (sha256). "
            f"{rebuild_fix(index_dir)}"
            for name, f in manifest["files"].items() if _file_sha256(version / name) != f["sha256"]]


def check_index(index_dir: str | Path, *, embedder_name: str, dim: int) -> list[str]:
    """A full check of the live version of ``index_dir``: the loading checks (manifest shape,
    file sizes, counts), then every file's sha256 against the manifest, every chunk's text
    against its hash, and every sentence span against its chunk's text (``0 <= start < end <=
    len(text)``, rows ascending). Returns the problems found, one line each (``[]``: sound).
    Raises :class:`IndexNotFoundError` when there is no index."""
    try:
        stored = load_index(index_dir, embedder_name=embedder_name, dim=dim)
    except IndexNotFoundError:
        raise
    except IndexError_ as e:
        return [str(e)]
    problems = file_problems(index_dir)
    chunk_problems = []
    for row, c in enumerate(stored.chunks):
        if text_hash(c.text) != stored.chunk_hashes[row]:
            chunk_problems.append(f"chunk {c.id}: text differs from what was written")
    sents = stored.sentences
    if len(sents):
        rows = sents[:, 0]
        if (rows < 0).any() or (rows >= len(stored.chunks)).any() or (np.diff(rows) < 0).any():
            chunk_problems.append("sentences.npy: chunk rows out of range or out of order")
        else:
            lens = np.array([len(c.text) for c in stored.chunks], dtype=np.int64)
            bad = (sents[:, 1] < 0) | (sents[:, 1] >= sents[:, 2]) | (sents[:, 2] > lens[rows])
            for j in np.flatnonzero(bad)[:5]:
                chunk_problems.append(f"sentence {int(j)}: offsets {int(sents[j, 1])}..{int(sents[j, 2])} "
                                      f"outside chunk {stored.chunks[int(rows[j])].id}")
            if bad.sum() > 5:
                chunk_problems.append(f"... {int(bad.sum()) - 5} more sentences outside their chunks")
    return problems + [f"The index at {index_dir} is damaged: {p}. {rebuild_fix(index_dir)}" for p in chunk_problems]
