"""Building an index: documents -> chunks -> vectors (chunks and their sentences) -> disk.

Each chunk is embedded together with its article title (``"<title>\\n<text>"``), so a paragraph
that never names its subject is still found by it. Each sentence of each chunk is embedded too,
once, at ingest time; the offline answerer picks sentences with those vectors, so a question costs
one embedding call.

Updates are incremental: vectors already in the index are reused by content (a chunk whose title
and text are unchanged, a sentence whose text is unchanged), so re-running an ingest over the same
files embeds nothing and a changed file costs only its changed paragraphs. Every build still writes
a complete new version (see :mod:`rag.store`), so FAISS ids, BM25 and metadata always agree.

The same paragraph met twice (an article on its own page and again inside a tag or archive page)
is stored once, by a hash of its normalised text (folded, lower-cased, punctuation dropped); the
copy in the article's own document — one holding that article alone, not a tag, author or listing
page — is the one kept, whatever the order the files were given in (:func:`drop_duplicates`).
"""
from __future__ import annotations

import contextlib
import hashlib
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunker import _ARCHIVE_HEADING, CHUNKER_VERSION, chunk_document
from .documents import Document
from .embedder import Embedder
from .entities import entity_arrays
from .sentences import split_sentences
from .store import IndexError_, load_index, read_manifest, save_index, write_lock
from .text import fold
from .types import Chunk

_WORDS = re.compile(r"[a-z0-9]+")


@dataclass
class IngestReport:
    """What an ingest did: counts, the chunks it had to embed (the rest were reused from the
    previous version), duplicate paragraphs stored once, files dropped because they are gone, the
    files skipped with their one-line reasons, and seconds taken."""

    index_dir: Path
    documents: int
    chunks: int
    sentences: int
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embedded: int = 0
    embedded_sentences: int = 0
    duplicates: int = 0
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = (f"Indexed {self.documents} document(s): {self.chunks} chunks, {self.sentences} sentences "
             f"in {self.seconds:.1f} s -> {self.index_dir}\n"
             f"embedded {self.embedded} new or changed chunk(s) and {self.embedded_sentences} sentence(s); "
             f"{self.chunks - self.embedded} chunk(s) unchanged")
        if self.duplicates:
            s += f"\n{self.duplicates} duplicate paragraph(s) already indexed from another document, stored once"
        s += "".join(f"\nremoved {r}" for r in self.removed)
        return s + "".join(f"\nskipped {r}" for r in self.skipped)


def paragraph_key(text: str) -> str:
    """Hash of a paragraph's normalised text (accents and typography folded, lower case, words
    only), so copies that differ in quotes, spacing or punctuation match."""
    return hashlib.sha1(" ".join(_WORDS.findall(fold(text))).encode()).hexdigest()


def _meta_text(value) -> str | None:
    """A metadata value as short text (a YAML date becomes ISO text), or None when empty."""
    text = " ".join(str(value).split())[:200] if value not in (None, "") else ""
    return text or None


def chunk_documents(documents: list[Document], embedder: Embedder) -> list[Chunk]:
    """Chunk every document (ids unique across documents), sized to the embedder's window; a
    chunk of a paged document (PDF) gets the page its text starts on; a one-article document
    whose sidecar or header gives a title is cited under that title."""
    taken: set[str] = set()
    chunks: list[Chunk] = []
    for doc in documents:
        title_budget = max(embedder.count_tokens(t) for t in [doc.title, *doc.article_urls] or [""])
        first = len(chunks)
        chunks += chunk_document(
            doc.text, source=doc.source, title=doc.title, url=doc.url,
            article_urls=doc.article_urls, taken_slugs=taken,
            markdown=doc.source.lower().endswith((".md", ".markdown")),
            title_hint=doc.meta.get("title"),
            max_tokens=embedder.max_tokens - 2 - min(title_budget, 48) - 1,
            count_tokens=embedder.count_tokens, token_ends=embedder.token_ends)
        if doc.page_starts:
            for c in chunks[first:]:
                c.page = doc.page_of(c.start)
        named = doc.meta.get("title_from_sidecar") or doc.meta.get("title_from_header")
        one_article = len({c.article for c in chunks[first:]}) == 1
        if named and one_article:
            for c in chunks[first:]:  # the sidecar or the file's header names its one article
                c.title = doc.title
        site = _meta_text(doc.meta.get("site"))
        author, date = (_meta_text(doc.meta.get("author")), _meta_text(doc.meta.get("date"))) if one_article else (None, None)
        for c in chunks[first:]:  # for bibliographies; a page of several articles has no one author
            c.author, c.site, c.date = author, site, date
    return chunks


#: Blocks shorter than this (titles, captions, datelines) do not decide whether a chunk is a copy.
DUP_MIN_WORDS = 8


def _block_keys(text: str) -> list[str]:
    return [paragraph_key(b) for b in re.split(r"\n\s*\n", text) if len(b.split()) >= DUP_MIN_WORDS]


#: URLs of listing pages (tags, categories, authors, archives, search results, later pages).
_LISTING_URL = re.compile(r"/(tags?|category|categories|authors?|topics?|archives?|page|search|label)(/|$)"
                          r"|[?&](s|q|tag|cat|category|author|paged?)=", re.IGNORECASE)
_LISTING_TITLE = re.compile(r"^(tag|category|topic|author|archive|posts?)s?\b.*(:|tagged|archive|by\b)",
                            re.IGNORECASE)


def is_listing(title: str | None, url: str | None) -> bool:
    """True when a chunk's title or URL is a tag, category, author, archive or search page's
    ("Tag Archive for: Interpol", ``https://example.org/tag/interpol/``)."""
    t = (title or "").strip()
    return bool(_ARCHIVE_HEADING.search(t) or _LISTING_TITLE.search(t) or (url and _LISTING_URL.search(url)))


def drop_duplicates(chunks: list[Chunk]) -> tuple[list[Chunk], int]:
    """Keep one copy of each paragraph: the copy in the article's own document. Copies are
    ranked by, in turn: being in a document that holds that article alone (one article, the
    chunk not under a section heading of a digest, its title not a listing's), a URL and title
    that are not a tag, author or listing page's (:func:`is_listing`), the fewest articles in the
    document, the fewest chunks, then the source path and position (so the choice never depends
    on the order the files were given in). A chunk is a copy when every paragraph of it of at
    least :data:`DUP_MIN_WORDS` words (by :func:`paragraph_key`) is held by a chunk already kept —
    so a caption or title line joined to a copied paragraph does not save it. Returns ``(kept
    chunks in their original order, number dropped)``."""
    articles: dict[str, set[int]] = {}
    sizes: dict[str, int] = {}
    for c in chunks:
        articles.setdefault(c.source, set()).add(c.article)
        sizes[c.source] = sizes.get(c.source, 0) + 1

    def rank(i: int):
        c = chunks[i]
        listing = is_listing(c.title, c.url)
        alone = len(articles[c.source]) == 1 and not c.section and not listing
        return (not alone, listing, len(articles[c.source]), sizes[c.source], c.source, i)

    order = sorted(range(len(chunks)), key=rank)
    seen: set[str] = set()
    keep = [False] * len(chunks)
    for i in order:
        keys = _block_keys(chunks[i].text) or [paragraph_key(chunks[i].text)]
        if not all(k in seen for k in keys):
            seen.update(keys)
            keep[i] = True
    kept = [c for c, k in zip(chunks, keep) if k]
    return kept, len(chunks) - len(kept)


def sentence_spans(chunks: list[Chunk]) -> np.ndarray:
    """``(m, 3)`` int32 rows (chunk row, start, end), offsets into each chunk's text."""
    rows = [(i, s, e) for i, c in enumerate(chunks) for s, e in split_sentences(c.text)]
    return np.asarray(rows, dtype=np.int32).reshape(-1, 3)


def _embed_text(c: Chunk) -> str:
    return f"{c.title}\n{c.text}"


def previous_vectors(index_dir: str | Path, embedder: Embedder
                     ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, tuple]]:
    """Vectors of the live index at ``index_dir`` by content: ``(chunk vectors by embedded text,
    sentence vectors by sentence text, sentence entities by sentence text)``. Empty when there is no usable index there or it was
    made with another embedder (nothing can be reused then)."""
    m = read_manifest(index_dir)
    if not m or m.get("embedder") != embedder.name or m.get("dim") != embedder.dim:
        return {}, {}, {}
    try:
        old = load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim, with_bm25=False)
    except IndexError_:
        return {}, {}, {}
    vecs = old.vectors.reconstruct(np.arange(len(old.chunks)))
    chunk_vecs = {_embed_text(c): vecs[i] for i, c in enumerate(old.chunks)}
    sent_vecs = {old.chunks[r].text[s:e]: old.sent_vectors[j] for j, (r, s, e) in enumerate(old.sentences)}
    return chunk_vecs, sent_vecs, previous_entities(old)


def previous_entities(old) -> dict[str, tuple]:
    """The entities and flags of every sentence of a loaded index, by sentence text (the cache
    :func:`rag.entities.entity_arrays` takes), offsets relative to the sentence."""
    out: dict[str, tuple] = {}
    ents = old.entities if old.entities is not None else np.zeros((0, 4), dtype=np.int32)
    by_sent: dict[int, list] = {}
    for j, a, b, lab in ents.tolist():
        by_sent.setdefault(j, []).append((a, b, lab))
    for j, (r, s, e) in enumerate(old.sentences.tolist()):
        out[old.chunks[r].text[s:e]] = ([(a - s, b - s, lab) for a, b, lab in by_sent.get(j, [])],
                                         int(old.sent_flags[j]) if old.sent_flags is not None else 0)
    return out


def _embed(texts: list[str], cache: dict[str, np.ndarray], embedder: Embedder, *,
           show_progress: bool, desc: str) -> tuple[np.ndarray, int]:
    """Vectors of ``texts``, from ``cache`` where present (the new ones are added to it); returns
    ``(vectors, number embedded)``."""
    todo = sorted({t for t in texts if t not in cache})
    if todo:
        cache.update(zip(todo, embedder.encode(todo, show_progress=show_progress, desc=desc)))
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, t in enumerate(texts):
        out[i] = cache[t]
    return out, len(todo)


def source_records(documents: list[Document], chunks: list[Chunk]) -> list[dict]:
    """One record per document, as an index lists it: source, title, sha256, its chunk count and
    the titles its articles are cited under (in order of first chunk)."""
    per_source: dict[str, int] = {}
    titles: dict[str, dict[str, None]] = {}
    for c in chunks:
        per_source[c.source] = per_source.get(c.source, 0) + 1
        titles.setdefault(c.source, {})[c.title] = None
    return [{"source": d.source, "title": d.title, "sha256": d.sha256, "chunks": per_source.get(d.source, 0),
             "articles": list(titles.get(d.source, {}))} for d in documents]


def build_index(documents: list[Document], index_dir: str | Path, *, embedder: Embedder | None = None,
                skipped: list[str] | None = None, show_progress: bool = False,
                extra_manifest: dict | None = None, lock: bool = True, reuse: bool = True,
                removed: list[str] | None = None) -> IngestReport:
    """Chunk, embed and save ``documents`` as the index at ``index_dir`` (replacing what is there).

    With ``reuse`` (the default) vectors of unchanged chunks and sentences are taken from the
    index already at ``index_dir`` instead of being embedded again. Duplicate paragraphs across
    documents are stored once (:func:`drop_duplicates`). Holds the index's writer lock (pass
    ``lock=False`` when the caller already holds it); the new version becomes live atomically
    (see :mod:`rag.store`). Raises ``ValueError`` when the documents yield no text to index.
    """
    t0 = time.perf_counter()
    embedder = embedder or Embedder()
    with write_lock(index_dir) if lock else contextlib.nullcontext():
        chunks, duplicates = drop_duplicates(chunk_documents(documents, embedder))
        if not chunks:
            raise ValueError("Nothing to index: the documents contain no text.")
        spans = sentence_spans(chunks)
        chunk_cache, sent_cache, ent_cache = previous_vectors(index_dir, embedder) if reuse else ({}, {}, {})
        vectors, n_chunks = _embed([_embed_text(c) for c in chunks], chunk_cache, embedder,
                                   show_progress=show_progress, desc="Embedding chunks")
        sent_vectors, n_sents = _embed([chunks[r].text[s:e] for r, s, e in spans], sent_cache, embedder,
                                       show_progress=show_progress, desc="Embedding sentences")
        entities, flags, _ = entity_arrays(spans, [c.text for c in chunks], ent_cache)
        manifest = {
            "embedder": embedder.name,
            "dim": embedder.dim,
            "normalized": True,
            "metric": "inner_product",
            "chunker_version": CHUNKER_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "duplicates_dropped": duplicates,
            "sources": source_records(documents, chunks),
            **(extra_manifest or {}),
        }
        if show_progress:
            print(f"Writing the index ({len(chunks)} chunks) to {index_dir} ...", file=sys.stderr, flush=True)
        save_index(index_dir, manifest=manifest, chunks=chunks, vectors=vectors,
                   sentences=spans, sent_vectors=sent_vectors, entities=entities, sent_flags=flags)
    return IngestReport(Path(index_dir), len(documents), len(chunks), len(spans),
                        list(skipped or []), time.perf_counter() - t0, embedded=n_chunks,
                        embedded_sentences=n_sents, duplicates=duplicates, removed=list(removed or []))
