"""Building an index: documents -> chunks -> vectors (chunks and their sentences) -> disk.

Each chunk is embedded together with its article title (``"<title>\\n<text>"``), so a paragraph
that never names its subject is still found by it. Each sentence of each chunk is embedded too,
once, at ingest time; the offline answerer picks sentences with those vectors, so a question costs
one embedding call.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunker import CHUNKER_VERSION, chunk_document
from .documents import Document
from .embedder import Embedder
from .sentences import split_sentences
from .store import save_index, write_lock
from .types import Chunk


@dataclass
class IngestReport:
    """What an ingest did: counts, the files skipped with their one-line reasons, seconds taken."""

    index_dir: Path
    documents: int
    chunks: int
    sentences: int
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        s = (f"Indexed {self.documents} document(s): {self.chunks} chunks, {self.sentences} sentences "
             f"in {self.seconds:.1f} s -> {self.index_dir}")
        return s + "".join(f"\nskipped {r}" for r in self.skipped)


def chunk_documents(documents: list[Document], embedder: Embedder) -> list[Chunk]:
    """Chunk every document (ids unique across documents), sized to the embedder's window; a
    chunk of a paged document (PDF) gets the page its text starts on."""
    taken: set[str] = set()
    chunks: list[Chunk] = []
    for doc in documents:
        title_budget = max(embedder.count_tokens(t) for t in [doc.title, *doc.article_urls] or [""])
        first = len(chunks)
        chunks += chunk_document(
            doc.text, source=doc.source, title=doc.title, url=doc.url,
            article_urls=doc.article_urls, taken_slugs=taken,
            max_tokens=embedder.max_tokens - 2 - min(title_budget, 48) - 1,
            count_tokens=embedder.count_tokens, token_ends=embedder.token_ends)
        if doc.page_starts:
            for c in chunks[first:]:
                c.page = doc.page_of(c.start)
    return chunks


def sentence_spans(chunks: list[Chunk]) -> np.ndarray:
    """``(m, 3)`` int32 rows (chunk row, start, end), offsets into each chunk's text."""
    rows = [(i, s, e) for i, c in enumerate(chunks) for s, e in split_sentences(c.text)]
    return np.asarray(rows, dtype=np.int32).reshape(-1, 3)


def build_index(documents: list[Document], index_dir: str | Path, *, embedder: Embedder | None = None,
                skipped: list[str] | None = None, show_progress: bool = False,
                extra_manifest: dict | None = None, lock: bool = True) -> IngestReport:
    """Chunk, embed and save ``documents`` as the index at ``index_dir`` (replacing what is there).

    Holds the index's writer lock (pass ``lock=False`` when the caller already holds it); the new
    version becomes live atomically (see :mod:`rag.store`).
    Raises ``ValueError`` when the documents yield no text to index.
    """
    t0 = time.perf_counter()
    embedder = embedder or Embedder()
    chunks = chunk_documents(documents, embedder)
    if not chunks:
        raise ValueError("Nothing to index: the documents contain no text.")
    spans = sentence_spans(chunks)
    vectors = embedder.encode([f"{c.title}\n{c.text}" for c in chunks], show_progress=show_progress)
    sent_vectors = embedder.encode([chunks[r].text[s:e] for r, s, e in spans], show_progress=show_progress)
    manifest = {
        "embedder": embedder.name,
        "dim": embedder.dim,
        "normalized": True,
        "metric": "inner_product",
        "index_type": "IndexIDMap2(IndexFlatIP)",
        "chunker_version": CHUNKER_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sources": [{"source": d.source, "title": d.title, "sha256": d.sha256} for d in documents],
        **(extra_manifest or {}),
    }
    with write_lock(index_dir) if lock else contextlib.nullcontext():
        save_index(index_dir, manifest=manifest, chunks=chunks, vectors=vectors,
                   sentences=spans, sent_vectors=sent_vectors)
    return IngestReport(Path(index_dir), len(documents), len(chunks), len(spans),
                        list(skipped or []), time.perf_counter() - t0)
