"""The Milvus backend: passages in a Milvus server, dense and BM25 search on the server.

``milvus://HOST:PORT/NAME`` names three collections on the server at ``HOST:PORT``:

====================  ==========================================================================
collection            one row per / fields
====================  ==========================================================================
``NAME``              chunk. ``id`` (INT64 primary key: a hash of the chunk's id and text, so a
                      changed chunk gets a new id), ``chunk_id``, ``source``, ``seq`` (its place
                      in its document), ``text``, ``hash``, ``meta`` (JSON: title, url, page, ...),
                      ``sents`` (JSON: ``[start, end, flags]`` per sentence), ``ents`` (JSON:
                      ``[sentence, start, end, label]``), ``vector`` (FLOAT_VECTOR, unit length,
                      FLAT index, inner product), ``terms`` (the :func:`rag.text.terms` of title
                      and text, space-joined, standard analyzer, text match on) and ``sparse``
                      (SPARSE_FLOAT_VECTOR made by the server's BM25 function from ``terms``:
                      BM25 runs on the server, k1 = 1.5 and b = 0.75 as the embedded backend's
                      bm25s)
``NAME_sentences``    sentence. ``id``, ``chunk`` (the chunk's id), ``pos``, ``vector``
``NAME_documents``    document. ``id`` (hash of the source), ``source``, ``info`` (JSON: title,
                      sha256, chunks, articles); row ``id = 0`` holds the index's settings
                      (embedder, dimension, chunker version) and its version (the time of the
                      last committed write, in ns)
====================  ==========================================================================

Because the BM25 input is the same term list the embedded backend indexes, and the dense index
is exact (FLAT, inner product), a question gets the same candidates and scores on both backends
up to float rounding (SQuAD MRR@10 side by side: ``bench/retrieval_squad.py --store``).

Writes cost what changed: :meth:`MilvusStore.upsert` chunks the documents, looks up which chunk
ids the collection already holds, embeds and inserts only the new ones, then deletes the rows of
those documents that are no longer part of them; :meth:`MilvusStore.delete` removes rows. A
writer killed midway leaves every document either in its old or its new form or both (rows of
the new form are inserted before the old ones are deleted); running the same ingest again
completes it. Several processes may write at once (each row is keyed by content).

Term statistics (document frequencies, for the second stage and the answerer) are read from the
server by text match and cached per version. Reads are cached per id (a chunk never changes under
its id). Needs the ``pymilvus`` package (``pip install 'rag-articles[milvus]'``).
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict
import itertools
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from urllib.parse import urlparse

import numpy as np

from ..entities import entity_arrays
from ..ingest import (IngestReport, _embed, _embed_text, chunk_documents, drop_duplicates, sentence_spans,
                      source_records)
from ..retriever import chunk_terms
from ..settings import Settings
from ..text import TermStats
from ..types import Chunk
from .files import IndexCorruptError, IndexError_, IndexMismatchError, IndexNotFoundError, text_hash

#: BM25 parameters, as bm25s's defaults (the embedded backend)
BM25_K1, BM25_B = 1.5, 0.75
#: chunk records kept in memory per store (text, vectors and sentences: ~20 KiB each)
FETCH_CACHE = 20_000
#: rows per insert call
BATCH = 256
#: the longest text a VARCHAR field holds (bytes, UTF-8): Milvus's limit
MAX_VARCHAR = 65_535
META_ID = 0
#: chunks embedded and written per step of an upsert: memory stays bounded, and a writer killed
#: midway has written every step before the one it was in
SLICE = 64
#: most hits one search returns (Milvus's top-k limit); document frequencies up to it are counted from hits
DF_LIMIT = 16_384
#: gRPC keepalive interval (ms): gRPC servers' default minimum between pings (5 min)
KEEPALIVE_MS = 300_000
#: HNSW's search breadth (used when RAG_MILVUS_INDEX=HNSW; ignored by FLAT): ~0.99 recall@10
HNSW_EF = 96



class MilvusUnavailableError(IndexError_, ConnectionError):
    """The Milvus server cannot be reached, or failed a request."""


def parse_location(location: str) -> tuple[str, str]:
    """``milvus://HOST:PORT/NAME`` -> ``("http://HOST:PORT", "NAME")``. Raises ``ValueError``
    for another shape (the name: letters, digits and underscores, starting with a letter)."""
    u = urlparse(location)
    name = u.path.strip("/")
    if u.scheme != "milvus" or not u.hostname or not u.port or not name:
        raise ValueError(f"{location!r} is not a Milvus location: write milvus://HOST:PORT/COLLECTION")
    if not (name[0].isalpha() and name.replace("_", "a").isalnum()) or len(name) > 200:
        raise ValueError(f"{name!r} cannot name a Milvus collection: use letters, digits and underscores, "
                         f"starting with a letter")
    return f"http://{u.hostname}:{u.port}", name


def chunk_key(chunk_id: str, text: str) -> int:
    """The Milvus id of a chunk: :func:`_key` of its id and text."""
    return _key(f"{chunk_id}\0{text}")


def sentence_key(chunk: int, pos: int) -> int:
    """The Milvus id of sentence ``pos`` of the chunk with id ``chunk`` (fetched by these ids)."""
    return _key(f"{chunk}:{pos}")


def _key(text: str) -> int:
    """63 bits of blake2b over ``text`` (never 0: the documents collection's settings row)."""
    h = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(h, "big") & (2**63 - 1)) or 1


_CLIENTS: dict[str, object] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(uri: str, location: str):
    """One client per server for this process, on a channel of its own (``dedicated``: pymilvus
    otherwise shares one channel per address with whatever options its first user gave)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(uri)
        if client is None:
            client = _CLIENTS[uri] = _new_client(uri, location)
        return client


def _new_client(uri: str, location: str):
    # gRPC's C core logs connection events (a server gone, keepalive pings) to stderr itself; a
    # failure is reported once, by the exception this module turns into one line
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        from pymilvus import MilvusClient
    except ImportError as e:  # the optional extra is not installed
        raise MilvusUnavailableError(
            "The Milvus backend needs the pymilvus package: pip install 'rag-articles[milvus]'") from e
    # pymilvus (its import configures its loggers) warns on every query iterator that Milvus Lite
    # gives no MVCC timestamp (it falls back to the client's clock, right for one server); and a
    # failed call is reported by the exception this module turns into one line
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    try:
        # keepalive pings every 5 min, not pymilvus's 10 s: a server at gRPC's default policy
        # answers faster pings on a quiet channel with GOAWAY "too_many_pings", and the next
        # request on the shared channel fails (seen after a minute of client-side work)
        return MilvusClient(uri=uri, timeout=10, dedicated=True,
                            grpc_options={"grpc.keepalive_time_ms": KEEPALIVE_MS})
    except Exception as e:  # pymilvus raises MilvusException or grpc errors; both mean: not reachable
        raise _unavailable(location, e) from e


def _unavailable(location: str, e: Exception) -> MilvusUnavailableError:
    # pymilvus's str() is "<MilvusException: (code=2, message=...)>": keep the message alone
    msg = getattr(e, "message", None) or re.sub(r"^<\w+: \((.*)\)>$", r"\1", " ".join(str(e).split()))
    msg = " ".join(str(msg).split())[:200]
    return MilvusUnavailableError(
        f"The Milvus server at {location} cannot be reached or failed ({type(e).__name__}: {msg}). "
        f"Start it (e.g. milvus-lite server --data-dir DIR --port PORT) and run the command again "
        f"(an ingest cut short keeps what it wrote and adds the rest).")


class _LazyDF:
    """Document frequency of a term, asked of the server once per store (see
    :meth:`MilvusStore.document_frequencies`); :meth:`prefetch` asks for many in one request."""

    def __init__(self, store: "MilvusStore"):
        self.store = store
        self._df: dict[str, int] = {}

    def prefetch(self, terms) -> None:
        todo = sorted({t for t in terms if t not in self._df})
        if todo:
            self._df.update(self.store.document_frequencies(todo))

    def get(self, term: str, default: int = 0) -> int:
        if term not in self._df:
            self.prefetch([term])
        return self._df.get(term) or default

    def __contains__(self, term: str) -> bool:
        return self.get(term) > 0


class _LazyVocab:
    """Term -> distinct id, given on first sight (ids only need to be distinct per store)."""

    def __init__(self):
        self._ids: dict[str, int] = {}
        self._next = itertools.count()

    def get(self, term: str, default: int = -1) -> int:
        i = self._ids.get(term)
        return i if i is not None else self._ids.setdefault(term, next(self._next))


class MilvusTermStats(TermStats):
    """:class:`rag.text.TermStats` whose document frequencies are read from the server on demand."""

    def __init__(self, store: "MilvusStore", n: int):
        super().__init__(df={}, n=n, vocab={})
        self.df = _LazyDF(store)
        self.vocab = _LazyVocab()

    def prefetch(self, terms) -> None:
        self.df.prefetch(terms)


class _Block:
    """A :class:`rag.store.base.Block` of fetched chunk records (positions 0..n-1)."""

    def __init__(self, ids: list[int], records: list[dict], location: str):
        self.ids = ids
        self.location = location
        self._pos = {cid: i for i, cid in enumerate(ids)}
        self.chunks = [r["chunk"] for r in records]
        self._vectors = np.stack([r["vector"] for r in records]) if records else np.zeros((0, 0), np.float32)
        self._hashes = [r["hash"] for r in records]
        counts = [len(r["sents"]) for r in records]
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        sents = [(i, s, e) for i, r in enumerate(records) for s, e, _ in r["sents"]]
        self.sentences = np.asarray(sents, dtype=np.int32).reshape(-1, 3)
        dim = self._vectors.shape[1] if records else 0
        vecs = [r["sent_vectors"] for r in records if len(r["sent_vectors"])]
        self.sent_vectors = np.concatenate(vecs) if vecs else np.zeros((0, dim), np.float32)
        self.sent_flags = np.asarray([f for r in records for _, _, f in r["sents"]], dtype=np.uint8)
        ents = [(int(self._starts[i]) + j, a, b, lab) for i, r in enumerate(records) for j, a, b, lab in r["ents"]]
        self.entities = np.asarray(ents, dtype=np.int32).reshape(-1, 4)
        self._ent_starts = np.searchsorted(self.entities[:, 0], np.arange(len(self.sentences) + 1))
        self.row_of = {c.id: i for i, c in enumerate(self.chunks)}

    def position(self, ids) -> np.ndarray:
        return np.fromiter((self._pos[int(i)] for i in ids), dtype=np.int64)

    def vectors_at(self, positions) -> np.ndarray:
        return self._vectors[np.asarray(positions, dtype=np.int64)]

    def sentence_range(self, position: int) -> tuple[int, int]:
        return int(self._starts[position]), int(self._starts[position + 1])

    def sentence_ranges(self, positions) -> tuple[np.ndarray, np.ndarray]:
        p = np.asarray(positions, dtype=np.int64)
        return self._starts[p], self._starts[p + 1]

    def sentence_entities(self, lo: int, hi: int) -> np.ndarray:
        return self.entities[self._ent_starts[lo]:self._ent_starts[hi]]

    def verify_chunks(self, positions) -> None:
        for p in positions:
            c = self.chunks[int(p)]
            if text_hash(c.text) != self._hashes[int(p)]:
                raise IndexCorruptError(f"The Milvus collection {self.location} is damaged (the text of chunk "
                                        f"{c.id!r} is not the text it was written with). Ingest its document again.")


_CHUNK_FIELDS = ["id", "chunk_id", "source", "text", "hash", "meta", "sents", "ents", "vector"]


class MilvusStore:
    """The :class:`rag.store.base.Store` of one Milvus collection (see the module docstring).

    Example::

        store = MilvusStore.open("milvus://127.0.0.1:19530/articles", embedder_name=e.name, dim=384)
        ids, cos = store.dense_topk(qvec, 10)

    Raises :class:`MilvusUnavailableError` when the server cannot be reached,
    :class:`rag.store.IndexNotFoundError` when the collection does not exist (``open``) and
    :class:`rag.store.IndexMismatchError` when it was built with another embedder.
    """

    def __init__(self, location: str, client, name: str, meta: dict):
        self.location = location
        self.client = client
        self.name = name
        self.sent_name = f"{name}_sentences"
        self.doc_name = f"{name}_documents"
        self.meta = meta
        self._cache: OrderedDict[int, dict] = OrderedDict()
        self._lock = threading.Lock()
        self._stats: MilvusTermStats | None = None
        self._n: int | None = None

    # -- opening and creating ------------------------------------------------------------------
    @classmethod
    def open(cls, location: str, *, embedder_name: str, dim: int, create: bool = False,
             chunker_version: int | None = None) -> "MilvusStore":
        """Open (or with ``create``, create when missing) the collections at ``location``."""
        uri, name = parse_location(location)
        client = _client(uri, location)
        try:
            exists = client.has_collection(f"{name}_documents")
            if not exists:
                if not create:
                    raise IndexNotFoundError(f"No index at {location}. Build one with: "
                                             f"rag ingest PATH... --store {location}")
                try:
                    _create(client, name, dim)
                except Exception:
                    if not client.has_collection(f"{name}_documents"):
                        raise
                    # another writer created it at the same moment: use theirs
                _load(client, f"{name}_documents")
                if not client.query(f"{name}_documents", filter=f"id == {META_ID}", output_fields=["id"]):
                    meta = {"embedder": embedder_name, "dim": dim, "chunker_version": chunker_version,
                            "dense_index": Settings.from_env().milvus_index,
                            "version": str(time.time_ns()), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
                    client.upsert(f"{name}_documents", [{"id": META_ID, "source": "", "info": meta,
                                                         "dummy": [0.0, 0.0]}])
            for coll in (name, f"{name}_sentences", f"{name}_documents"):
                _load(client, coll)
            rows = client.query(f"{name}_documents", filter=f"id == {META_ID}", output_fields=["info"])
        except IndexError_:
            raise
        except Exception as e:
            raise _unavailable(location, e) from e
        if not rows:
            raise IndexNotFoundError(f"The Milvus collection {location} holds no index settings; "
                                     f"build it with: rag ingest PATH... --store {location}")
        meta = rows[0]["info"]
        if meta.get("embedder") != embedder_name or meta.get("dim") != dim:
            raise IndexMismatchError(
                f"The index at {location} was built with embedder {meta.get('embedder')!r} (dimension "
                f"{meta.get('dim')}), but this engine embeds with {embedder_name!r} (dimension {dim}).")
        return cls(location, client, name, meta)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            raise _unavailable(self.location, e) from e

    # -- reading -------------------------------------------------------------------------------
    def _count(self, filter: str = "", coll: str | None = None) -> int:
        rows = self._call(self.client.query, coll or self.name, filter=filter, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def __len__(self) -> int:
        if self._n is None:  # counted once per store (a new version is a new store); writes reset it
            self._n = self._count()
        return self._n

    @property
    def version(self) -> str:
        return str(self.meta.get("version", ""))

    def live_version(self) -> str | None:
        rows = self._call(self.client.query, self.doc_name, filter=f"id == {META_ID}", output_fields=["info"])
        return str(rows[0]["info"].get("version")) if rows else None

    def dense_topk(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        res = self._call(self.client.search, self.name, data=[np.asarray(qvec, dtype=np.float32).tolist()],
                         anns_field="vector", limit=int(k),
                         search_params={"metric_type": "IP", "params": {"ef": max(HNSW_EF, int(k))}})
        hits = res[0] if res else []
        return (np.asarray([h["id"] for h in hits], dtype=np.int64),
                np.asarray([h["distance"] for h in hits], dtype=np.float32))

    def _bm25(self, query: str, k: int, filter: str = "") -> dict[int, float]:
        res = self._call(self.client.search, self.name, data=[query], anns_field="sparse", limit=int(k),
                         filter=filter, search_params={"metric_type": "BM25"})
        # Milvus scores BM25 with the (k1 + 1) factor of Robertson's form, and Milvus Lite reports it
        # negated: |distance| / (k1 + 1) is the score bm25s gives (its "lucene" form), whatever the sign
        return {int(h["id"]): abs(float(h["distance"])) / (BM25_K1 + 1) for h in (res[0] if res else [])}

    def lexical_topk(self, query_terms: list[str], k: int, *, also=None):
        also = [int(i) for i in (also if also is not None else [])]
        query = " ".join(query_terms)
        if not query or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), np.zeros(len(also), np.float32)
        top = self._bm25(query, k)
        ranked = sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))
        rest = [i for i in also if i not in top]
        scores = dict(top)
        if rest:
            scores.update(self._bm25(query, len(rest), filter=f"id in {rest}"))
        return (np.asarray([i for i, _ in ranked], dtype=np.int64),
                np.asarray([s for _, s in ranked], dtype=np.float32),
                np.asarray([scores.get(i, 0.0) for i in also], dtype=np.float32))

    def _records(self, ids: list[int]) -> list[dict]:
        with self._lock:
            have = {i: self._cache[i] for i in ids if i in self._cache}
        todo = sorted({i for i in ids if i not in have})
        if todo:
            rows = self._call(self.client.query, self.name, filter=f"id in {todo}", output_fields=_CHUNK_FIELDS)
            keys = [sentence_key(int(r["id"]), j) for r in rows for j in range(len(r["sents"]))]
            sents = []
            for b in range(0, len(keys), 4096):  # by primary key: no scan of the sentence rows
                sents += self._call(self.client.query, self.sent_name, filter=f"id in {keys[b:b + 4096]}",
                                    output_fields=["chunk", "pos", "vector"])
            by_chunk: dict[int, list] = {}
            for s in sents:
                by_chunk.setdefault(int(s["chunk"]), []).append((int(s["pos"]), s["vector"]))
            for r in rows:
                cid = int(r["id"])
                sv = sorted(by_chunk.get(cid, []), key=lambda x: x[0])
                dim = len(r["vector"])
                rec = {"chunk": Chunk(id=r["chunk_id"], text=r["text"], source=r["source"], **r["meta"]),
                       "hash": r["hash"], "vector": np.asarray(r["vector"], dtype=np.float32),
                       "sents": [tuple(x) for x in r["sents"]], "ents": [tuple(x) for x in r["ents"]],
                       "sent_vectors": np.asarray([v for _, v in sv], dtype=np.float32).reshape(-1, dim)}
                have[cid] = rec
            with self._lock:
                for cid in todo:
                    if cid in have:
                        self._cache[cid] = have[cid]
                while len(self._cache) > FETCH_CACHE:
                    self._cache.popitem(last=False)
        missing = [i for i in ids if i not in have]
        if missing:
            raise KeyError(f"no chunk {missing[0]} in {self.location}")
        return [have[i] for i in ids]

    def fetch(self, ids) -> _Block:
        ids = [int(i) for i in ids]
        uniq = list(dict.fromkeys(ids))
        return _Block(uniq, self._records(uniq), self.location)

    def ids_of(self, chunks: list[Chunk]) -> list[int | None]:
        keys = [chunk_key(c.id, c.text) for c in chunks]
        with self._lock:
            known = {k for k in keys if k in self._cache}
        todo = sorted(set(keys) - known)
        if todo:
            rows = self._call(self.client.query, self.name, filter=f"id in {todo}", output_fields=["id"])
            known |= {int(r["id"]) for r in rows}
        return [k if k in known else None for k in keys]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """Chunks holding each term: one BM25 search with every term as a query (a one-term
        query matches exactly the chunks holding it), counting the hits; a term in
        :data:`DF_LIMIT` chunks or more is counted by text match instead (slower, exact)."""
        words = [t for t in terms if t.isalnum()]
        out = {t: 0 for t in terms}
        if not words:
            return out
        res = self._call(self.client.search, self.name, data=words, anns_field="sparse", limit=DF_LIMIT,
                         search_params={"metric_type": "BM25"}, output_fields=[])
        for t, hits in zip(words, res):
            out[t] = len(hits) if len(hits) < DF_LIMIT else self._count(f'TEXT_MATCH(terms, "{t}")')
        return out

    def term_stats(self) -> TermStats:
        if self._stats is None:
            self._stats = MilvusTermStats(self, len(self))
        return self._stats

    def documents(self) -> list[dict]:
        rows = self._call(self.client.query, self.doc_name, filter=f"id != {META_ID}",
                          output_fields=["source", "info"], limit=16_384)
        return sorted(({"source": r["source"], **r["info"]} for r in rows), key=lambda d: d["source"])

    def all_chunks(self) -> list[Chunk]:
        out = []
        it = self._call(self.client.query_iterator, self.name, batch_size=1000, filter="id > 0",
                        output_fields=["chunk_id", "source", "seq", "text", "meta"])
        try:
            while True:
                page = self._call(it.next)
                if not page:
                    break
                out += [(r["source"], r["seq"], Chunk(id=r["chunk_id"], text=r["text"], source=r["source"],
                                                      **r["meta"])) for r in page]
        finally:
            it.close()
        return [c for _, _, c in sorted(out, key=lambda x: (x[0], x[1]))]

    def stats(self) -> dict:
        return {"backend": "milvus", "location": self.location, "version": self.version,
                "documents": len(self.documents()), "chunks": len(self),
                "sentences": self._count(coll=self.sent_name), "embedder": self.meta.get("embedder"),
                "vector_index": f"{self.meta.get('dense_index', 'FLAT')} (inner product); BM25 on the server"}

    # -- writing -------------------------------------------------------------------------------
    def existing(self, sources: list[str]) -> dict[str, set[int]]:
        """The chunk ids held for each of ``sources``."""
        out: dict[str, set[int]] = {s: set() for s in sources}
        for i in range(0, len(sources), 100):
            part = sources[i:i + 100]
            it = self._call(self.client.query_iterator, self.name, batch_size=2000,
                            filter=f"source in {list(part)!r}".replace("'", '"') if _plain(part) else "id > 0",
                            output_fields=["id", "source"])
            try:
                while True:
                    page = self._call(it.next)
                    if not page:
                        break
                    for r in page:
                        if r["source"] in out:
                            out[r["source"]].add(int(r["id"]))
            finally:
                it.close()
        return out

    def insert(self, chunks: list[Chunk], seqs: list[int], vectors: np.ndarray, spans: list[list],
               sent_vectors: list[np.ndarray], flags: list[list[int]], ents: list[list]) -> None:
        """Insert chunk rows and their sentence rows (``spans[i]``: ``(start, end)`` of chunk i's
        sentences, ``sent_vectors[i]`` their vectors, ``flags[i]`` their flags, ``ents[i]``:
        ``(sentence, start, end, label)`` with the sentence numbered within the chunk;
        :func:`_by_chunk` makes these lists from an index's flat arrays)."""
        rows, srows = [], []
        for i, c in enumerate(chunks):
            cid = chunk_key(c.id, c.text)
            bm25_terms = " ".join(chunk_terms(c))
            if len(c.text.encode("utf-8")) > MAX_VARCHAR or len(bm25_terms.encode("utf-8")) > MAX_VARCHAR:
                raise ValueError(f"Chunk {c.id!r} is longer than Milvus's {MAX_VARCHAR:,}-byte text field.")
            meta = {k: v for k, v in asdict(c).items() if k not in ("id", "text", "source")}
            rows.append({"id": cid, "chunk_id": c.id, "source": c.source, "seq": int(seqs[i]), "text": c.text,
                         "hash": text_hash(c.text), "meta": meta,
                         "sents": [[int(s), int(e), int(f)] for (s, e), f in zip(spans[i], flags[i])],
                         "ents": [[int(x) for x in e] for e in ents[i]],
                         "vector": vectors[i].astype(np.float32).tolist(), "terms": bm25_terms})
            srows += [{"id": sentence_key(cid, j), "chunk": cid, "pos": j, "vector": v.astype(np.float32).tolist()}
                      for j, v in enumerate(sent_vectors[i])]
        # sentences first, so a chunk row is whole once written; a killed writer may have left
        # sentence rows of a chunk it never wrote: deleted by id first (insert keeps duplicates)
        for b in range(0, len(srows), BATCH):
            part = srows[b:b + BATCH]
            self._call(self.client.delete, self.sent_name, ids=[r["id"] for r in part])
            self._call(self.client.insert, self.sent_name, part)
        for b in range(0, len(rows), BATCH):  # upsert: two writers of one document write the same rows
            self._call(self.client.upsert, self.name, rows[b:b + BATCH])
        self._n = None

    def delete_ids(self, ids: list[int]) -> None:
        self._n = None
        for b in range(0, len(ids), 1000):
            part = [int(i) for i in ids[b:b + 1000]]
            rows = self._call(self.client.query, self.name, filter=f"id in {part}", output_fields=["id", "sents"])
            keys = [sentence_key(int(r["id"]), j) for r in rows for j in range(len(r["sents"]))]
            for k in range(0, len(keys), 4096):  # sentence rows by primary key: no scan
                self._call(self.client.delete, self.sent_name, ids=keys[k:k + 4096])
            self._call(self.client.delete, self.name, ids=part)

    def set_documents(self, docs: list[dict], gone: list[str]) -> None:
        """Record ``docs`` (dicts with source, title, sha256, chunks, articles), forget the
        sources ``gone``, and commit a new version."""
        if gone:
            self._call(self.client.delete, self.doc_name, ids=[_key(s) for s in gone])
        rows = [{"id": _key(d["source"]), "source": d["source"], "info": {k: v for k, v in d.items() if k != "source"},
                 "dummy": [0.0, 0.0]} for d in docs]
        for b in range(0, len(rows), BATCH):
            self._call(self.client.upsert, self.doc_name, rows[b:b + BATCH])
        self.commit()

    def commit(self) -> None:
        """Make the writes visible and bump the version (readers reload their caches)."""
        for coll in (self.name, self.sent_name, self.doc_name):
            self._call(self.client.flush, coll)
        self.meta = {**self.meta, "version": str(time.time_ns())}
        self._call(self.client.upsert, self.doc_name, [{"id": META_ID, "source": "", "info": self.meta,
                                                          "dummy": [0.0, 0.0]}])
        self._call(self.client.flush, self.doc_name)

    def upsert(self, documents, embedder, *, skipped: list[str] | None = None, show_progress: bool = False):
        """Add ``documents`` (:class:`rag.documents.Document`), replacing the documents of the
        same sources; embeds only the chunks the collection does not hold yet. Returns an
        :class:`rag.ingest.IngestReport`. Raises ``ValueError`` when they yield no text."""
        t0 = time.perf_counter()
        chunks, duplicates = drop_duplicates(chunk_documents(documents, embedder))
        if not chunks:
            raise ValueError("Nothing to index: the documents contain no text.")
        sources = list(dict.fromkeys(d.source for d in documents))
        held = self.existing(sources)
        held_all = set().union(*held.values()) if held else set()
        keys = [chunk_key(c.id, c.text) for c in chunks]
        seqs = _seqs(chunks)
        new = [i for i, k in enumerate(keys) if k not in held_all]
        n_sents = 0
        for b in range(0, len(new), SLICE):  # embed and insert in slices: memory stays bounded
            part = [chunks[i] for i in new[b:b + SLICE]]
            spans = sentence_spans(part)
            vectors, _ = _embed([_embed_text(c) for c in part], {}, embedder, show_progress=show_progress,
                                desc="Embedding chunks")
            sent_vecs, _ = _embed([part[r].text[s:e] for r, s, e in spans], {}, embedder,
                                  show_progress=show_progress, desc="Embedding sentences")
            ents, flags, _ = entity_arrays(spans, [c.text for c in part])
            n_sents += len(spans)
            self.insert(part, [seqs[i] for i in new[b:b + SLICE]], vectors,
                        *_by_chunk(len(part), spans, sent_vecs, flags, ents))
        stale = sorted(held_all - set(keys))
        self.delete_ids(stale)
        self.set_documents(source_records(documents, chunks), [])
        # the collection now holds exactly these chunks: its sentence count is theirs (n_sents counts
        # only the sentences embedded now, 0 when nothing changed)
        return IngestReport(self.location, len(documents), len(chunks), self._count(coll=self.sent_name),
                            list(skipped or []),
                            time.perf_counter() - t0, embedded=len(new), embedded_sentences=n_sents,
                            duplicates=duplicates, removed=[])

    def copy_from(self, stored) -> int:
        """Write a loaded embedded index (:class:`rag.store.StoredIndex`) into this collection
        as it is: same chunks, vectors, sentences and entities, nothing embedded again (to move an
        index to Milvus, and to compare the backends on one corpus). Returns the chunks written."""
        n = len(stored.chunks)
        have = set().union(*self.existing(sorted({c.source for c in stored.chunks})).values()) if n else set()
        seqs = _seqs(stored.chunks)
        for b in range(0, n, SLICE):
            keep = [r for r in range(b, min(n, b + SLICE))
                    if chunk_key(stored.chunks[r].id, stored.chunks[r].text) not in have]
            if not keep:
                continue
            lo, hi = stored.sentence_range(b)[0], stored.sentence_range(min(n, b + SLICE) - 1)[1]
            spans = stored.sentences[lo:hi] - np.array([b, 0, 0], dtype=np.int32)  # chunk rows from 0
            flags = stored.sent_flags[lo:hi] if stored.sent_flags is not None else np.zeros(hi - lo, np.uint8)
            ents = stored.sentence_entities(lo, hi) - np.array([lo, 0, 0, 0], dtype=np.int32)
            per = _by_chunk(min(n, b + SLICE) - b, spans, stored.sent_vectors[lo:hi], flags, ents)
            self.insert([stored.chunks[r] for r in keep], [seqs[r] for r in keep],
                        stored.vectors.reconstruct(np.asarray(keep, dtype=np.int64)),
                        *([x[r - b] for r in keep] for x in per))
        self.set_documents(list(stored.manifest.get("sources", [])), [])
        return n

    def delete(self, sources: list[str]) -> int:
        """Remove the documents ``sources`` (all their rows); returns the chunks removed."""
        held = self.existing(sources)
        ids = sorted(set().union(*held.values())) if held else []
        self.delete_ids(ids)
        self.set_documents([], sources)
        return len(ids)

    def drop(self) -> None:
        """Delete the three collections (``rag ingest --rebuild``)."""
        for coll in (self.name, self.sent_name, self.doc_name):
            self._call(self.client.drop_collection, coll)


def _seqs(chunks: list[Chunk]) -> list[int]:
    """Each chunk's place in its document (0, 1, ... per source, in list order)."""
    seen: dict[str, int] = {}
    out = []
    for c in chunks:
        out.append(seen.get(c.source, 0))
        seen[c.source] = out[-1] + 1
    return out


def _by_chunk(n: int, spans: np.ndarray, sent_vectors: np.ndarray, flags: np.ndarray, ents: np.ndarray):
    """Split an index's flat sentence arrays (``spans`` ``(m, 3)``: chunk row 0..n-1, start, end;
    ``ents`` ``(e, 4)``: sentence row 0..m-1, start, end, label) into the per-chunk lists
    :meth:`MilvusStore.insert` takes: ``(spans, vectors, flags, entities)``, each of length ``n``,
    entities numbered by sentence within their chunk."""
    starts = np.searchsorted(spans[:, 0], np.arange(n + 1)) if len(spans) else np.zeros(n + 1, dtype=np.int64)
    per_spans = [[(int(s), int(e)) for _, s, e in spans[starts[i]:starts[i + 1]]] for i in range(n)]
    per_vecs = [sent_vectors[starts[i]:starts[i + 1]] for i in range(n)]
    per_flags = [np.asarray(flags[starts[i]:starts[i + 1]]).tolist() for i in range(n)]
    per_ents: list[list] = [[] for _ in range(n)]
    for j, a, b, lab in np.asarray(ents).reshape(-1, 4).tolist():
        r = int(spans[j, 0])
        per_ents[r].append((j - int(starts[r]), a, b, lab))
    return per_spans, per_vecs, per_flags, per_ents


def _plain(sources: list[str]) -> bool:
    """Sources that can be written inside a filter expression's double quotes as they are."""
    return all('"' not in s and "\\" not in s for s in sources)


def _load(client, coll: str) -> None:
    replicas = Settings.from_env().milvus_replicas
    if replicas > 1:
        client.load_collection(coll, replica_number=replicas)
    else:
        client.load_collection(coll)


def _create(client, name: str, dim: int) -> None:
    """Create the three collections (those missing), with ``RAG_MILVUS_INDEX`` and
    ``RAG_MILVUS_SHARDS`` (:class:`rag.settings.Settings`)."""
    from pymilvus import DataType, Function, FunctionType  # lazy: the optional extra

    settings = Settings.from_env()
    kind = settings.milvus_index
    dense = {"HNSW": {"M": 16, "efConstruction": 200}}.get(kind, {})
    shards = {"num_shards": settings.milvus_shards} if settings.milvus_shards > 1 else {}

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
    s.add_field("source", DataType.VARCHAR, max_length=4096)
    s.add_field("seq", DataType.INT64)
    s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("hash", DataType.VARCHAR, max_length=64)
    s.add_field("meta", DataType.JSON)
    s.add_field("sents", DataType.JSON)
    s.add_field("ents", DataType.JSON)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    s.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True, enable_match=True,
                analyzer_params={"tokenizer": "standard"})  # terms are [a-z0-9]+ joined by spaces: one token each
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                            output_field_names=["sparse"]))
    ix = client.prepare_index_params()
    ix.add_index("vector", index_type=kind, metric_type="IP", params=dense)
    ix.add_index("source", index_type="INVERTED")  # a document's rows, on update and delete
    ix.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                 params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})
    if not client.has_collection(name):  # a writer killed while creating left the ones before
        client.create_collection(name, schema=s, index_params=ix, consistency_level="Strong", **shards)

    s2 = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s2.add_field("id", DataType.INT64, is_primary=True)
    s2.add_field("chunk", DataType.INT64)
    s2.add_field("pos", DataType.INT32)
    s2.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    ix2 = client.prepare_index_params()
    ix2.add_index("vector", index_type="FLAT", metric_type="IP")
    ix2.add_index("chunk", index_type="INVERTED")  # sentences are fetched by their chunk's id
    if not client.has_collection(f"{name}_sentences"):  # a writer killed while creating left the ones before
        client.create_collection(f"{name}_sentences", schema=s2, index_params=ix2, consistency_level="Strong",
                                 **shards)

    s3 = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s3.add_field("id", DataType.INT64, is_primary=True)
    s3.add_field("source", DataType.VARCHAR, max_length=4096)
    s3.add_field("info", DataType.JSON)
    s3.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)
    ix3 = client.prepare_index_params()
    ix3.add_index("dummy", index_type="FLAT", metric_type="L2")
    if not client.has_collection(f"{name}_documents"):  # a writer killed while creating left the ones before
        client.create_collection(f"{name}_documents", schema=s3, index_params=ix3, consistency_level="Strong")
