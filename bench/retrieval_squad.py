"""SQuAD v1.1 dev as a closed-corpus retrieval benchmark: BM25, dense, RRF and the product default
side by side in one run.

    python bench/retrieval_squad.py [--limit N] [--data DIR] [--latency-sample 500] [--store milvus://HOST:PORT/NAME]

Every paragraph (2,067) is a document titled by its article; each question (10,570) is scored on
the rank of its gold paragraph: hit@1/5/10, MRR@10. "default" is the product's retriever
(``rag.retriever.HybridRetriever`` with its default settings: fused first stage, then the second
stage of rag/rerank.py, fitted on articles 00-23 by bench/tune_retrieval.py) over an index built by
the product's own ingest path (chunker, embedder, FAISS, BM25); "fused" is the first stage alone.
Paragraphs split into several chunks count at the rank of their best chunk. Latency (ms/query) is the median over a sample of single questions, with the engine's threading, and
includes the question's embedding. Results for articles 24-47 (held out from every tuning choice)
are reported separately as ``default_heldout``. With ``--store``, the same index is copied into
that Milvus collection (:meth:`rag.store.milvus.MilvusStore.copy_from`: same chunks and vectors)
and the product default runs on both backends side by side (``milvus``, ``milvus_heldout``, and
latency in alternating blocks). The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.documents import Document  # noqa: E402
from rag.embedder import Embedder  # noqa: E402
from rag.engine import question_threading  # noqa: E402
from rag.indexes import index_is_fresh  # noqa: E402
from rag.ingest import build_index  # noqa: E402
from rag.retriever import HybridRetriever  # noqa: E402
from rag.store import load_index  # noqa: E402
from rag.text import terms  # noqa: E402

DATA = ROOT.parent / "shared" / "eval" / "squad_v1.1_dev"
CACHE = ROOT / "bench" / ".cache"


def metrics(ranks: list[int | None]) -> dict:
    n = max(len(ranks), 1)
    return {
        "hit@1": round(sum(r is not None and r <= 1 for r in ranks) / n, 4),
        "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "hit@10": round(sum(r is not None and r <= 10 for r in ranks) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r is not None and r <= 10) / n, 4),
    }


def pid_ranking(chunk_rows: list[int], row_pid: list[str], k: int = 10) -> list[str]:
    """Paragraph ids in order of their best chunk, first ``k``."""
    out: list[str] = []
    for r in chunk_rows:
        p = row_pid[r]
        if p not in out:
            out.append(p)
            if len(out) == k:
                break
    return out


def rank_of(gold: str, ranking: list[str]) -> int | None:
    return ranking.index(gold) + 1 if gold in ranking else None


def question_vectors(questions: list[dict], emb: Embedder) -> np.ndarray:
    """``(n, 384)`` question embeddings, cached in bench/.cache by the questions' hash."""
    import hashlib

    key = hashlib.sha256("\n".join(q["question"] for q in questions).encode()).hexdigest()[:16]
    path = CACHE / f"qvecs-{key}.npy"
    if path.exists():
        return np.load(path)
    t = time.perf_counter()
    vecs = emb.encode([q["question"] for q in questions], batch_size=128, show_progress=True)
    print(f"embedded {len(questions)} questions in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def load(data: Path) -> tuple[list[dict], list[dict]]:
    """``(paragraphs, questions)`` rows of the SQuAD closed-corpus set at ``data``."""
    data = Path(data)
    paras = [json.loads(x) for x in (data / "paragraphs.jsonl").read_text().splitlines() if x.strip()]
    questions = [json.loads(x) for x in (data / "questions.jsonl").read_text().splitlines() if x.strip()]
    return paras, questions


def squad_index(paras: list[dict], emb: Embedder):
    """The product's index over the paragraphs (one document each, titled by its article), built
    into bench/.cache by the product's ingest path when missing or stale."""
    docs = [Document(text=p["context"], source=p["pid"], title=p["title"].replace("_", " ")) for p in paras]
    index_dir = CACHE / "squad_index"
    if not index_is_fresh(index_dir, docs, emb):
        t = time.perf_counter()
        build_index(docs, index_dir, embedder=emb, show_progress=True)
        print(f"built index in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return load_index(index_dir, embedder_name=emb.name, dim=emb.dim)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N questions")
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--latency-sample", type=int, default=500)
    ap.add_argument("--latency-only", action="store_true", help="only time the default and fused paths")
    ap.add_argument("--store", default="", help="also run the default on this Milvus collection (milvus://HOST:PORT/NAME)")
    ap.add_argument("--store-every", type=int, default=10,
                    help="with --store: compare the backends on every Nth question (both on the same ones)")
    args = ap.parse_args()

    paras, questions = load(Path(args.data))
    if args.limit:
        questions = questions[: args.limit]
    emb = Embedder()
    stored = squad_index(paras, emb)
    row_pid = [c.source for c in stored.chunks]
    default = HybridRetriever(stored)  # the product default: both stages
    fused = HybridRetriever(stored, rerank=False)  # the first stage alone
    others = []
    if args.store:
        from rag.store.milvus import MilvusStore

        ms = MilvusStore.open(args.store, embedder_name=emb.name, dim=emb.dim, create=True)
        t = time.perf_counter()
        ms.copy_from(stored)
        ms = MilvusStore.open(args.store, embedder_name=emb.name, dim=emb.dim)
        print(f"copied into {args.store} in {time.perf_counter() - t:.1f} s ({len(ms)} chunks)", file=sys.stderr)
        others = [("milvus", HybridRetriever(ms))]

    qvecs = question_vectors(questions, emb)

    if args.latency_only:
        questions_for_runs = []
    else:
        questions_for_runs = questions
    depth = 100
    runs: dict[str, list[int | None]] = {"bm25": [], "dense": [], "rrf": [], "fused": [], "default": [],
                                         **{name: [] for name, _ in others},
                                         **({"default_sampled": []} if others else {})}
    for qi, (q, qv) in enumerate(zip(questions_for_runs, qvecs)):
        gold = q["gold_pid"]
        lex_rows = default.store.lexical_topk(terms(q["question"]), depth)[0].tolist()
        dense_rows = default.store.dense_topk(qv, depth)[0].tolist()
        runs["bm25"].append(rank_of(gold, pid_ranking(lex_rows, row_pid)))
        runs["dense"].append(rank_of(gold, pid_ranking(dense_rows, row_pid)))
        rrf: dict[int, float] = {}
        for rows in (lex_rows, dense_rows):  # reciprocal rank fusion, k = 60 (Cormack et al., 2009)
            for r, row in enumerate(rows):
                rrf[row] = rrf.get(row, 0.0) + 1 / (60 + r + 1)
        runs["rrf"].append(rank_of(gold, pid_ranking(sorted(rrf, key=lambda x: -rrf[x]), row_pid)))
        for name, r in (("fused", fused), ("default", default), *others):
            if name in ("milvus",) and qi % args.store_every:
                continue
            passages = r.retrieve(q["question"], qv, 30)
            runs[name].append(rank_of(gold, list(dict.fromkeys(p.chunk.source for p in passages))[:10]))
        if others and qi % args.store_every == 0:
            runs["default_sampled"].append(runs["default"][-1])

    # latency of the whole path for one question: embed + retrieve (median over a sample), with
    # the engine's threading (rag.engine.question_threading: Embedder.query_threads to embed,
    # FAISS and BLAS on 1 thread), and with the embedder on 1 thread beside it; blocks of 50
    # questions alternate
    question_threading(emb)
    sample = questions[: args.latency_sample]
    if args.latency_only:  # as after the quality runs: the second stage's per-chunk terms cached
        for q, qv in zip(sample, qvecs):
            default.retrieve(q["question"], qv, 10)
    runs_t = [("default", default, emb.query_threads), ("fused", fused, emb.query_threads),
              ("default_1thread", default, 1), *((name, r, emb.query_threads) for name, r in others)]
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs_t}
    for b in range(0, len(sample), 50):
        for name, r, threads in runs_t:
            emb.set_threads(threads)
            emb.encode(["warm-up"])
            for q in sample[b:b + 50]:
                t = time.perf_counter()
                r.retrieve(q["question"], emb.encode([q["question"]])[0], 10)
                times[name].append((time.perf_counter() - t) * 1000)
    ms = round(statistics.median(times["default"]), 2)
    if args.latency_only:
        print(json.dumps({name: {"ms_per_query_p50": round(statistics.median(t), 2),
                                 "ms_per_query_p95": round(sorted(t)[int(0.95 * len(t))], 2)}
                          for name, t in times.items()}))
        return

    held = [i for i, q in enumerate(questions) if int(q["gold_pid"][:2]) >= 24]
    tuned = [i for i, q in enumerate(questions) if int(q["gold_pid"][:2]) < 24]
    result = {name: metrics(r) for name, r in runs.items()}
    result["default"]["ms_per_query"] = ms
    result["default"]["ms_per_query_1thread"] = round(statistics.median(times["default_1thread"]), 2)
    result["default"]["embed_threads"] = emb.query_threads
    result["fused"]["ms_per_query"] = round(statistics.median(times["fused"]), 2)
    for name, _ in others:
        result[name]["ms_per_query"] = round(statistics.median(times[name]), 2)
        result[name]["ms_per_query_p95"] = round(sorted(times[name])[int(0.95 * len(times[name]))], 2)
    result["default"]["ms_per_query_p95"] = round(sorted(times["default"])[int(0.95 * len(times["default"]))], 2)
    for name in ("fused", "default"):
        result[f"{name}_tuning"] = metrics([runs[name][i] for i in tuned])
        result[f"{name}_heldout"] = metrics([runs[name][i] for i in held])
    if others:  # the sampled questions: every --store-every-th, the same for both backends
        sampled = list(range(0, len(questions_for_runs), args.store_every))
        held_s = [j for j, i in enumerate(sampled) if int(questions[i]["gold_pid"][:2]) >= 24]
        tuned_s = [j for j, i in enumerate(sampled) if int(questions[i]["gold_pid"][:2]) < 24]
        for name in ("default_sampled", *(n for n, _ in others)):
            result[f"{name}_tuning"] = metrics([runs[name][j] for j in tuned_s])
            result[f"{name}_heldout"] = metrics([runs[name][j] for j in held_s])
    result["questions"] = len(questions)

    print(f"\n{len(questions)} questions, {len(paras)} paragraphs, {len(stored.chunks)} chunks")
    print(f"{'retriever':<18}{'hit@1':>8}{'hit@5':>8}{'hit@10':>8}{'MRR@10':>8}")
    for name in ("bm25", "dense", "rrf", "fused", "fused_tuning", "fused_heldout",
                 "default", "default_tuning", "default_heldout",
                 *(f"{n}{x}" for n in (["default_sampled"] if others else []) + [n for n, _ in others]
                   for x in ("", "_tuning", "_heldout"))):
        m = result[name]
        print(f"{name:<18}{m['hit@1']:>8.3f}{m['hit@5']:>8.3f}{m['hit@10']:>8.3f}{m['mrr@10']:>8.3f}")
    print(f"ms/query median (embedding included, {len(sample)} questions): default {ms} "
          f"(embedder on {emb.query_threads} threads as in the engine; on 1 thread: "
          f"{result['default']['ms_per_query_1thread']}), fused first stage alone {result['fused']['ms_per_query']}")
    print(json.dumps({k: result[k] for k in ("default", "default_heldout", "bm25", "dense", "rrf",
                                              "fused", "fused_heldout",
                                              *(f"{n}{x}" for n in (["default_sampled"] if others else [])
                                                + [n for n, _ in others] for x in ("", "_heldout")))}))


if __name__ == "__main__":
    main()
