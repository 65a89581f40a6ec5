"""Scale benchmark: the product's vector index (rag.vectors.VectorIndex.build, type chosen by size)
and its BM25 index (bm25s) at 10k, 100k and 1M passages.

    python bench/scale.py [--sizes 10000,100000,1000000] [--queries 300] [--bm25-max 1000000]

Vectors. Uniform random unit vectors have no neighbourhood structure (every point is about as far
from a query as every other), so no approximate index can find "the" top 10 among them and recall
on them says nothing about real text. The collection is therefore synthetic but shaped like real
embeddings: each passage vector is a real all-MiniLM-L6-v2 vector of a SQuAD v1.1 dev paragraph or
sentence (the pool, ~12k) plus Gaussian noise, renormalised (cosine ~0.8 to its source), and the
queries are real SQuAD question embeddings. For comparison, the same figures on uniform random
vectors are printed for the largest size (``random`` rows).

For each size: build seconds, query p50/p95 in ms (one query at a time, one thread, as the product
searches), recall@10 of the index against exact search (IndexFlatIP) over the same vectors,
index RAM (serialised size, which is what FAISS holds in memory) and disk bytes per passage, and
the RSS growth of this process while building. At the largest size nprobe is swept to show the
recall/latency trade-off.

BM25: passages of 3 SQuAD sentences drawn at random (seeded), tokenised as the product does
(``rag.text.terms``, each distinct sentence once), indexed with bm25s; index bytes, build seconds
and query p50 of the top-30 selection the retriever does.

Last line: one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import faiss  # noqa: E402

from rag.vectors import VectorIndex  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pool_and_queries(n_queries: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Real embeddings: ``(pool vectors, query vectors, sentence texts)`` from the SQuAD index that
    bench/retrieval_squad.py builds and caches."""
    import retrieval_squad as rs
    from rag.embedder import Embedder

    emb = Embedder()
    paragraphs, questions = rs.load(rs.DATA)
    stored = rs.squad_index(paragraphs, emb)
    para = stored.vectors.reconstruct(np.arange(len(stored.chunks)))
    pool = np.vstack([para, stored.sent_vectors]).astype(np.float32)
    qv = rs.question_vectors(questions, emb)
    pick = np.random.default_rng(7).choice(len(qv), size=n_queries, replace=False)
    sents = [stored.chunks[r].text[s:e] for r, s, e in stored.sentences]
    return pool, np.ascontiguousarray(qv[pick]), sents


def synthetic(pool: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.75) -> np.ndarray:
    """``(n, d)`` unit vectors: pool rows plus isotropic noise of norm ``noise`` (cos ≈ 0.8)."""
    d = pool.shape[1]
    out = np.empty((n, d), dtype=np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        x = pool[rng.integers(0, len(pool), size=m)] + rng.standard_normal((m, d), dtype=np.float32) * (noise / np.sqrt(d))
        out[i:i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def random_unit(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n, d), dtype=np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        x = rng.standard_normal((m, d), dtype=np.float32)
        out[i:i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_top10(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    faiss.omp_set_num_threads(2)
    _, ids = flat.search(q, 10)
    return ids


def time_queries(vi: VectorIndex, q: np.ndarray, k: int = 30) -> tuple[list[float], np.ndarray]:
    faiss.omp_set_num_threads(1)
    ms, ids = [], np.zeros((len(q), 10), dtype=np.int64)
    for i in range(len(q)):
        t = time.perf_counter()
        _, found = vi.search(q[i:i + 1], k)
        ms.append((time.perf_counter() - t) * 1000)
        ids[i] = found[0, :10]
    return ms, ids


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))


def bench_vectors(x: np.ndarray, q: np.ndarray, label: str, sweep: bool) -> dict:
    n = len(x)
    truth = exact_top10(x, q)
    gc.collect()
    rss0 = rss_mb()
    t = time.perf_counter()
    faiss.omp_set_num_threads(2)
    vi = VectorIndex.build(x)
    build_s = time.perf_counter() - t
    rss_growth = rss_mb() - rss0
    with tempfile.TemporaryDirectory() as tmp:
        vi.save(Path(tmp) / "v.faiss")
        disk = (Path(tmp) / "v.faiss").stat().st_size
    ram = faiss.serialize_index(vi.index).nbytes
    vi.search(q[:5], 30)  # warm-up
    ms, found = time_queries(vi, q)
    row = {"n": n, "vectors": label, "index": vi.kind, "build_s": round(build_s, 1),
           "p50_ms": round(statistics.median(ms), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3),
           "recall@10": round(recall_at_10(found, truth), 4), "index_ram_mb": round(ram / 2**20, 1),
           "disk_bytes_per_passage": round(disk / n, 1), "rss_growth_mb": round(rss_growth, 1)}
    print(json.dumps(row), file=sys.stderr, flush=True)
    if sweep and faiss.try_extract_index_ivf(vi.index) is not None:
        ivf = faiss.try_extract_index_ivf(vi.index)
        default = ivf.nprobe
        row["nprobe_sweep"] = []
        for nprobe in (8, 16, 32, 48, 64, 128):
            ivf.nprobe = nprobe
            ms, found = time_queries(vi, q)
            point = {"nprobe": nprobe, "p50_ms": round(statistics.median(ms), 3),
                     "recall@10": round(recall_at_10(found, truth), 4)}
            row["nprobe_sweep"].append(point)
            print(json.dumps(point), file=sys.stderr, flush=True)
        ivf.nprobe = default
    return row


def bench_bm25(sentences: list[str], n: int, rng: np.random.Generator, questions: list[str]) -> dict:
    import bm25s

    from rag.text import terms

    toks = [terms(s) for s in sentences]
    idx = rng.integers(0, len(sentences), size=(n, 3))
    corpus = [toks[a] + toks[b] + toks[c] or ["<empty>"] for a, b, c in idx]
    gc.collect()
    rss0 = rss_mb()
    t = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    build_s = time.perf_counter() - t
    del corpus
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        bm25.save(tmp, show_progress=False)
        disk = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    vocab = set(bm25.vocab_dict)
    ms = []
    for qtext in questions:
        qt = [w for w in terms(qtext) if w in vocab]
        t = time.perf_counter()
        if qt:
            s = np.asarray(bm25.get_scores(qt), dtype=np.float32)
            top = np.argpartition(-s, 29)[:30]
            top[np.lexsort((top, -s[top]))]
        ms.append((time.perf_counter() - t) * 1000)
    row = {"n": n, "bm25_build_s": round(build_s, 1), "bm25_disk_mb": round(disk / 2**20, 1),
           "bm25_rss_growth_mb": round(rss_mb() - rss0, 1),
           "bm25_top30_p50_ms": round(statistics.median(ms), 2),
           "bm25_top30_p95_ms": round(float(np.percentile(ms, 95)), 2)}
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--bm25-max", type=int, default=1_000_000, help="largest size for the BM25 part")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    pool, q, sents = pool_and_queries(args.queries)
    import retrieval_squad as rs

    _, questions = rs.load(rs.DATA)
    qtexts = [x["question"] for x in questions[: args.queries]]
    rng = np.random.default_rng(2026)
    out = {"machine": f"{__import__('os').cpu_count()} cores", "queries": len(q), "vectors": [], "bm25": []}
    for n in sizes:
        x = synthetic(pool, n, rng)
        out["vectors"].append(bench_vectors(x, q, "squad-shaped", sweep=n == max(sizes)))
        del x
        gc.collect()
    x = random_unit(max(sizes), pool.shape[1], rng)
    qr = random_unit(len(q), pool.shape[1], rng)
    out["vectors"].append(bench_vectors(x, qr, "uniform-random", sweep=False))
    del x
    gc.collect()
    for n in sizes:
        if n <= args.bm25_max:
            out["bm25"].append(bench_bm25(sents, n, rng, qtexts))
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"\n{'n':>9} {'vectors':<15} {'index':<48} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'recall@10':>9} {'RAM MiB':>8} {'disk B/psg':>10}")
    for r in out["vectors"]:
        print(f"{r['n']:>9} {r['vectors']:<15} {r['index']:<48} {r['build_s']:>8} {r['p50_ms']:>7} "
              f"{r['p95_ms']:>7} {r['recall@10']:>9} {r['index_ram_mb']:>8} {r['disk_bytes_per_passage']:>10}")
    for r in out["bm25"]:
        print(f"BM25 n={r['n']:>9}: build {r['bm25_build_s']} s, disk {r['bm25_disk_mb']} MiB, "
              f"RSS +{r['bm25_rss_growth_mb']} MiB, top-30 p50 {r['bm25_top30_p50_ms']} ms")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
