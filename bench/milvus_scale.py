"""Both backends at scale, side by side in one run: the embedded one (FAISS + bm25s folders) and
Milvus (a running Milvus Lite server, or any Milvus), on the same synthetic collection.

    milvus-lite server --data-dir /tmp/mv --port 19530 &
    python bench/milvus_scale.py --store milvus://127.0.0.1:19530/scale [--n 100000] [--queries 200]

The collection: ``n`` passages, each 3 SQuAD v1.1 dev sentences drawn at random (seeded), with
those sentences' real all-MiniLM-L6-v2 vectors as its sentence vectors and their mean plus noise
(cosine ~0.8, see bench/scale.py) as its passage vector; nothing is embedded here. Queries are
real SQuAD question embeddings with their text for BM25.

Measured for each backend: write seconds of the whole collection; bytes on disk (embedded: the
version folder; Milvus: its data folder when ``--data-dir`` is given); resident memory (this
process's growth after loading the embedded index; the Milvus server's RSS); per question, p50
and p95 ms (one at a time, blocks of 25 alternating between the backends) of the store calls the
retriever makes (dense top-30, BM25 top-30 plus the dense candidates' scores, fetching the
candidates) and of the whole retriever (``HybridRetriever.retrieve``: both stages); and the cost
of an update that replaces 100 passages (embedded: a complete new version; Milvus: upsert and
delete of those rows). Overlap@10 of the two backends' retriever results is printed as a check.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rag.retriever import HybridRetriever  # noqa: E402
from rag.store import EmbeddedStore, load_index, save_index  # noqa: E402
from rag.store.milvus import MilvusStore  # noqa: E402
from rag.text import terms  # noqa: E402
from rag.types import Chunk  # noqa: E402


def rss_mb(pid: str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def collection(n: int, seed: int = 7):
    """``(chunks, vectors, sentences (m, 3), sent_vectors, questions, qvecs)``."""
    import retrieval_squad as rs
    from rag.embedder import Embedder

    emb = Embedder()
    paragraphs, questions = rs.load(rs.DATA)
    stored = rs.squad_index(paragraphs, emb)
    texts = [stored.chunks[r].text[s:e] for r, s, e in stored.sentences]
    svec = stored.sent_vectors
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(texts), size=(n, 3))
    chunks, spans = [], []
    for i, (a, b, c) in enumerate(pick):
        parts = [texts[a], texts[b], texts[c]]
        text, pos, sp = "", 0, []
        for t in parts:
            if text:
                text += " "
            sp.append((len(text), len(text) + len(t)))
            text += t
        chunks.append(Chunk(id=f"passage-{i}#p1", text=text, title=f"Synthetic {i // 50}", url=None,
                            paragraphs=[1], start=0, end=len(text), source=f"doc-{i // 50:05d}.txt"))
        spans += [(i, s, e) for s, e in sp]
    sent_vectors = svec[pick.reshape(-1)].astype(np.float32)
    d = sent_vectors.shape[1]
    x = sent_vectors.reshape(n, 3, d).mean(axis=1) + rng.standard_normal((n, d), dtype=np.float32) * (0.5 / np.sqrt(d))
    vectors = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    qv = rs.question_vectors(questions, emb)
    return chunks, vectors, np.asarray(spans, dtype=np.int32), sent_vectors, questions, qv, emb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True, help="milvus://HOST:PORT/NAME (dropped and written again)")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data-dir", default="", help="the Milvus Lite server's --data-dir, to report its size")
    args = ap.parse_args()

    chunks, vectors, spans, sent_vectors, questions, qv, emb = collection(args.n)
    n = len(chunks)
    out: dict = {"passages": n, "sentences": int(len(spans))}
    tmp = Path(tempfile.mkdtemp(prefix="scale-"))
    manifest = {"embedder": emb.name, "dim": emb.dim, "normalized": True, "metric": "inner_product",
                "chunker_version": 0, "created": "", "sources": [
                    {"source": f"doc-{i:05d}.txt", "title": f"Synthetic {i}", "sha256": "", "chunks": 50,
                     "articles": [f"Synthetic {i}"]} for i in range((n + 49) // 50)]}

    # -- writes -------------------------------------------------------------------------------
    t = time.perf_counter()
    save_index(tmp / "emb", manifest=manifest, chunks=chunks, vectors=vectors, sentences=spans,
               sent_vectors=sent_vectors, sent_flags=np.ones(len(spans), np.uint8))
    out["embedded_write_s"] = round(time.perf_counter() - t, 1)
    version = next((tmp / "emb").glob("v-*"))
    out["embedded_disk_mib"] = round(folder_bytes(version) / 2**20, 1)
    before = rss_mb()
    stored = load_index(tmp / "emb", embedder_name=emb.name, dim=emb.dim)
    out["embedded_rss_mib"] = round(rss_mb() - before, 1)
    emb_store = EmbeddedStore(stored)

    try:
        MilvusStore.open(args.store, embedder_name=emb.name, dim=emb.dim).drop()
    except Exception:
        pass
    ms = MilvusStore.open(args.store, embedder_name=emb.name, dim=emb.dim, create=True)
    t = time.perf_counter()
    ms.copy_from(stored)
    out["milvus_write_s"] = round(time.perf_counter() - t, 1)
    ms = MilvusStore.open(args.store, embedder_name=emb.name, dim=emb.dim)
    assert len(ms) == n, (len(ms), n)
    if args.data_dir:
        out["milvus_disk_mib"] = round(folder_bytes(Path(args.data_dir)) / 2**20, 1)
    port = args.store.split(":")[2].split("/")[0]
    pid = subprocess.run(["pgrep", "-f", f"milvus-lite server.*--port {port}"], capture_output=True,
                         text=True).stdout.split()
    out["milvus_server_rss_mib"] = round(rss_mb(pid[0]), 1) if pid else None

    # -- questions ----------------------------------------------------------------------------
    rng = np.random.default_rng(11)
    pick = rng.choice(len(questions), size=args.queries, replace=False)
    sample = [(questions[i]["question"], qv[i]) for i in pick]
    stores = {"embedded": emb_store, "milvus": ms}
    retrievers = {name: HybridRetriever(s) for name, s in stores.items()}
    for name in stores:  # warm: first calls load caches and connections
        for q, v in sample[:5]:
            retrievers[name].retrieve(q, v, 10)
    calls = {f"{name}_{what}": [] for name in stores for what in ("store_calls", "retrieve")}
    overlap = []
    for b in range(0, len(sample), 25):
        results = {}
        for name, s in stores.items():
            for q, v in sample[b:b + 25]:
                t = time.perf_counter()
                ids, _ = s.dense_topk(v, 30)
                top, _, _ = s.lexical_topk(terms(q), 30, also=ids)
                s.fetch(np.concatenate([ids, top[~np.isin(top, ids)]]))
                calls[f"{name}_store_calls"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                got = retrievers[name].retrieve(q, v, 10)
                calls[f"{name}_retrieve"].append((time.perf_counter() - t) * 1000)
                results.setdefault(name, []).append([p.chunk.id for p in got])
        overlap += [len(set(a) & set(c)) / max(1, len(a)) for a, c in zip(results["embedded"], results["milvus"])]
    for key, v in calls.items():
        out[f"{key}_ms_p50"] = round(statistics.median(v), 2)
        out[f"{key}_ms_p95"] = round(sorted(v)[int(0.95 * len(v))], 2)
    out["overlap_at_10"] = round(float(np.mean(overlap)), 4)

    # -- an update of 100 passages ------------------------------------------------------------
    changed = list(chunks)
    for i in range(100):
        c = changed[i]
        changed[i] = Chunk(**{**c.to_dict(), "text": c.text + " (revised)"})
    t = time.perf_counter()
    save_index(tmp / "emb", manifest=manifest, chunks=changed, vectors=vectors, sentences=spans,
               sent_vectors=sent_vectors, sent_flags=np.ones(len(spans), np.uint8))
    out["embedded_update_100_s"] = round(time.perf_counter() - t, 1)
    out["embedded_update_written_mib"] = round(folder_bytes(next((tmp / "emb").glob("v-*"))) / 2**20, 1)
    old_ids = [i for i in ms.ids_of(chunks[:100])]
    t = time.perf_counter()
    lo = [stored.sentence_range(i) for i in range(100)]
    ms.insert(changed[:100], list(range(100)), vectors[:100],
              [[(int(s), int(e)) for _, s, e in spans[a:b]] for a, b in lo],
              [sent_vectors[a:b] for a, b in lo], [[1] * (b - a) for a, b in lo], [[] for _ in lo])
    ms.delete_ids([i for i in old_ids if i is not None])
    ms.commit()
    out["milvus_update_100_s"] = round(time.perf_counter() - t, 2)
    assert len(ms) == n
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"{n:,} passages, {len(spans):,} sentences; {args.queries} questions, blocks of 25 alternating")
    print(f"{'':<34}{'embedded':>12}{'milvus':>12}")
    for label, a, b in (("write all (s)", out["embedded_write_s"], out["milvus_write_s"]),
                        ("update 100 passages (s)", out["embedded_update_100_s"], out["milvus_update_100_s"]),
                        ("store calls / question p50 (ms)", out["embedded_store_calls_ms_p50"], out["milvus_store_calls_ms_p50"]),
                        ("store calls / question p95 (ms)", out["embedded_store_calls_ms_p95"], out["milvus_store_calls_ms_p95"]),
                        ("retrieve / question p50 (ms)", out["embedded_retrieve_ms_p50"], out["milvus_retrieve_ms_p50"]),
                        ("retrieve / question p95 (ms)", out["embedded_retrieve_ms_p95"], out["milvus_retrieve_ms_p95"]),
                        ("memory (MiB)", out["embedded_rss_mib"], out["milvus_server_rss_mib"]),
                        ("disk (MiB)", out["embedded_disk_mib"], out.get("milvus_disk_mib"))):
        print(f"{label:<34}{a!s:>12}{b!s:>12}")
    print(f"overlap@10 of the two backends' results: {out['overlap_at_10']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
