"""The index lifecycle: building, refreshing, adding to, removing from, listing and describing
the indexes on disk.

``ensure_default_index`` builds (or refreshes) the bundled corpus's index; ``add_documents`` and
``remove_documents`` change an index's set of files (``rag ingest`` / ``rag remove``);
``index_stats`` and ``list_indexes`` describe what is on disk. Answering questions is
:mod:`rag.engine`'s.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from .chunker import CHUNKER_VERSION
from .documents import Document, DocumentError, default_corpus, iter_paths, read_file
from .embedder import EMBEDDER_DIM, EMBEDDER_NAME, Embedder
from .ingest import IngestReport, build_index
from .store import (FORMAT_VERSION, is_milvus, IndexCorruptError, IndexNotFoundError, check_manifest, check_sizes,
                    current_version, read_manifest, rebuild_fix, write_lock)


def default_sources() -> list[Document]:
    """The documents of the default index: the bundled corpus."""
    return [default_corpus()]


def _build_matches(m: dict | None, embedder: Embedder) -> bool:
    return bool(m) and (m.get("embedder") == embedder.name and m.get("dim") == embedder.dim
                        and m.get("chunker_version") == CHUNKER_VERSION and m.get("format") == FORMAT_VERSION)


def index_is_fresh(index_dir: str | Path, documents: list[Document], embedder: Embedder) -> bool:
    """True when ``index_dir`` was made with this embedder, chunker version and store format and
    holds every one of ``documents`` (by text hash); it may hold more (files a user added)."""
    m = read_manifest(index_dir)
    if not _build_matches(m, embedder):
        return False
    have = {s.get("sha256", "") for s in m.get("sources", [])}
    return all(d.sha256 in have for d in documents)


def recorded_sources(index_dir: str | Path) -> tuple[list[Document], list[str], list[str]]:
    """Re-read the files an index was built from (its manifest's sources that are file paths).
    Returns ``(documents, skipped reasons, removed)``: ``removed`` names the files that no longer
    exist (they drop out of the index); bundled sources are not included. Raises
    :class:`~rag.store.IndexCorruptError` when ``CURRENT`` or the manifest's sources are damaged
    (the files the index held cannot be known: ``rag ingest --rebuild`` starts afresh)."""
    current_version(index_dir)  # garbage in CURRENT: IndexCorruptError, not a silent fresh start
    m = read_manifest(index_dir) or {}
    sources = m.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(x, dict) and isinstance(x.get("source", ""), str)
                                                for x in sources):
        raise IndexCorruptError(f"The index at {index_dir} is damaged (its manifest's list of sources is "
                                f"unreadable). {rebuild_fix(index_dir)}")
    docs, skipped, removed = [], [], []
    for src in sources:
        path = src.get("source", "")
        if path.startswith("bundled:"):
            continue
        try:
            docs.append(read_file(path))
        except FileNotFoundError:
            removed.append(f"{path}: the file is gone")
        except (DocumentError, OSError) as e:
            skipped.append(f"{path}: no longer readable ({e})")
    return docs, skipped, removed


def ensure_default_index(index_dir: str | Path, embedder: Embedder) -> IngestReport | None:
    """Build the default index at ``index_dir`` when it is missing or stale (another embedder,
    chunker version, store format or bundled text); files a user added with ``rag ingest`` are
    re-read and kept. Returns the build's report, or ``None`` when the index was fresh. Safe
    against concurrent starters: the build runs under the writer lock and re-checks first. A build
    is announced on this module's logger (``rag.indexes``, INFO), which the command line prints on
    stderr."""
    docs = default_sources()
    if index_is_fresh(index_dir, docs, embedder):
        return None
    with write_lock(index_dir):
        if index_is_fresh(index_dir, docs, embedder):
            return None
        logging.getLogger(__name__).info("indexing the bundled articles into %s, once (about 20 s) ...", index_dir)
        try:
            extra, skipped, removed = recorded_sources(index_dir)
        except IndexCorruptError as e:  # a damaged default index is rebuilt from the bundled corpus
            extra, skipped, removed = [], [f"files added before: lost ({e})"], []
        return build_index(docs + extra, index_dir, embedder=embedder, lock=False, skipped=skipped,
                           removed=removed)


def add_documents(paths: list[str | Path], index_dir: str | Path, *, include_default: bool = False,
           rebuild: bool = False, show_progress: bool = False, embedder: Embedder | None = None) -> IngestReport:
    """Add the text, Markdown, HTML, PDF and Word files under ``paths`` (files or folders) to the index
    at ``index_dir``.

    The index keeps the files it already holds (re-read from their paths; a file read again
    replaces its old version) unless ``rebuild`` is true, in which case it holds only ``paths``
    (plus the bundled corpus when ``include_default``). Files that cannot be used (binary, empty,
    no text layer, over the size limit, unreadable) are skipped with a one-line reason each in
    ``report.skipped``. Raises ``ValueError`` when no document could be read and
    ``FileNotFoundError`` for a path that does not exist.
    """
    new, skipped = [], []
    for path in iter_paths(paths):
        try:
            new.append(read_file(path))
        except DocumentError as e:
            skipped.append(" ".join(str(e).split()))
        except OSError as e:
            skipped.append(f"{path.name}: cannot be read ({e.strerror or e})")
    if is_milvus(index_dir):
        return _add_to_milvus(str(index_dir), new, skipped, include_default=include_default, rebuild=rebuild,
                              show_progress=show_progress, embedder=embedder)
    with write_lock(index_dir):
        old, old_skipped, removed = ([], [], []) if rebuild else recorded_sources(index_dir)
        fresh = {d.source for d in new}
        docs = (default_sources() if include_default else []) + [d for d in old if d.source not in fresh] + new
        if not docs:
            raise ValueError("No readable documents: " + "; ".join(skipped or ["no files found"]))
        return build_index(docs, index_dir, skipped=skipped + old_skipped, show_progress=show_progress,
                           embedder=embedder, lock=False, removed=removed)


def _milvus(location: str, *, create: bool = False):
    from .store.milvus import MilvusStore  # lazy: pymilvus is an optional extra

    return MilvusStore.open(location, embedder_name=EMBEDDER_NAME, dim=EMBEDDER_DIM, create=create,
                            chunker_version=CHUNKER_VERSION)


def _add_to_milvus(location: str, new: list[Document], skipped: list[str], *, include_default: bool,
                   rebuild: bool, show_progress: bool, embedder: Embedder | None) -> IngestReport:
    """:func:`add_documents` for a Milvus collection: only the given files are read and written
    (the collection keeps the rest as it is); unchanged chunks are not embedded again."""
    embedder = embedder or Embedder()
    docs = (default_sources() if include_default else []) + new
    if not docs:
        raise ValueError("No readable documents: " + "; ".join(skipped or ["no files found"]))
    if rebuild:
        try:
            _milvus(location).drop()
        except IndexNotFoundError:
            pass
    store = _milvus(location, create=True)
    return store.upsert(docs, embedder, skipped=skipped, show_progress=show_progress)


def _matches(src: dict, name: str) -> bool:
    path = src.get("source", "")
    try:
        resolved = str(Path(name).resolve())
    except OSError:
        resolved = name
    # the titles its articles are cited under count too (`rag stats` lists them)
    return name in (path, src.get("title"), *src.get("articles", [])) or resolved == path or Path(path).name == name


def _matching(names: list[str], sources: list[dict], index_dir) -> list[dict]:
    """The documents of ``sources`` that ``names`` name; ``ValueError`` for a name matching none."""
    gone: list[dict] = []
    for n in names:
        hits = [s for s in sources if _matches(s, n)]
        if not hits:
            held = ", ".join(Path(s["source"]).name for s in sources) or "nothing"
            raise ValueError(f"No document {n!r} in the index at {index_dir} (it holds: {held}).")
        gone += [s for s in hits if s not in gone]
    return gone


def remove_documents(names: list[str], index_dir: str | Path, *, embedder: Embedder | None = None) -> IngestReport:
    """Drop documents from the index at ``index_dir``; each name is a file path as ingested, its
    file name, its title, or a title its articles are cited under. The rest is kept without re-embedding (vectors are reused).

    Raises ``ValueError`` when a name matches no document, or when nothing would be left (delete
    the index folder instead), and :class:`~rag.store.IndexNotFoundError` when there is no index.
    """
    if is_milvus(index_dir):
        store = _milvus(str(index_dir))
        sources = store.documents()
        gone = _matching(names, sources, index_dir)
        if len(gone) == len(sources):
            raise ValueError(f"Removing {', '.join(names)} would leave the index at {index_dir} empty; "
                             f"drop the collection instead (rag ingest --rebuild).")
        store.delete([g["source"] for g in gone])
        return IngestReport(index_dir, len(sources) - len(gone), len(store), 0,
                            removed=[g["source"] for g in gone])
    with write_lock(index_dir):
        m = read_manifest(index_dir)
        if m is None:
            raise IndexNotFoundError(f"No index at {index_dir}.")
        sources = m.get("sources", [])
        gone = _matching(names, sources, index_dir)
        keep = [s for s in sources if s not in gone]
        if not keep:
            raise ValueError(f"Removing {', '.join(names)} would leave the index at {index_dir} empty; "
                             f"delete the folder instead.")
        docs = default_sources() if any(s["source"].startswith("bundled:") for s in keep) else []
        old, skipped, removed = recorded_sources(index_dir)
        kept_paths = {s["source"] for s in keep}
        docs += [d for d in old if d.source in kept_paths]
        return build_index(docs, index_dir, embedder=embedder, lock=False, skipped=skipped,
                           removed=removed + [s["source"] for s in gone])


def index_stats(index_dir: str | Path) -> dict:
    """Figures of the index at ``index_dir``: documents (files ingested), articles (what citations
    name: an archive page holding three articles counts three, any other document one), chunks,
    sentences, embedder, index type,
    size on disk (bytes, live version), creation time and the documents with their chunk counts
    and the titles their articles are cited under.
    Raises :class:`~rag.store.IndexNotFoundError` when there is no index and
    :class:`~rag.store.IndexCorruptError` (or ``IndexMismatchError`` for another format) when its
    manifest is damaged or a file it lists is missing or of the wrong size."""
    if is_milvus(index_dir):
        store = _milvus(str(index_dir))
        st, docs = store.stats(), store.documents()
        return {"index": str(index_dir), "version": st["version"], "documents": len(docs),
                "articles": _articles(docs), "chunks": st["chunks"],
                "sentences": st["sentences"], "embedder": st["embedder"], "dim": store.meta.get("dim"),
                "index_type": st["vector_index"], "bytes_on_disk": None, "created": store.meta.get("created"), "duplicates_dropped": 0,
                "sources": [{"source": d["source"], "title": d.get("title"), "chunks": d.get("chunks"),
                             "articles": d.get("articles", [])} for d in docs]}
    version = current_version(index_dir)
    if version is None:
        raise IndexNotFoundError(f"No index at {index_dir}. Build one with: rag ingest PATH... --index {index_dir}")
    try:
        m = json.loads((version / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"The index at {index_dir} is damaged (its manifest is unreadable: "
                                f"{type(e).__name__}). {rebuild_fix(index_dir)}") from e
    check_manifest(m, index_dir)
    check_sizes(version, m, index_dir)
    size = sum(f.stat().st_size for f in version.rglob("*") if f.is_file())
    return {"index": str(index_dir), "version": version.name, "documents": len(m.get("sources", [])),
            "articles": _articles(m.get("sources", [])),
            "chunks": m.get("count"), "sentences": m.get("sentences"), "embedder": m.get("embedder"),
            "dim": m.get("dim"), "index_type": m.get("index_type"), "bytes_on_disk": size,
            "created": m.get("created"), "duplicates_dropped": m.get("duplicates_dropped", 0),
            "sources": [{"source": s.get("source"), "title": s.get("title"), "chunks": s.get("chunks"),
                         "articles": s.get("articles", [])}
                        for s in m.get("sources", [])]}


def _articles(sources: list[dict]) -> int:
    """Articles in ``sources`` (manifest or Milvus document entries): the titles an archive page's
    articles are cited under, or 1 for a document with none listed."""
    return sum(max(1, len(s.get("articles") or [])) for s in sources)


def list_indexes(root: str | Path) -> list[Path]:
    """Index folders directly under ``root`` (those with a ``CURRENT`` version), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "CURRENT").is_file())
