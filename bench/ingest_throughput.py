"""Ingest throughput: the product's embedding path against raw ``SentenceTransformer.encode`` on
the same texts, side by side in one run, plus the whole ingest (chunking, embedding of chunks and
sentences, BM25, fsynced write) for reference.

    python bench/ingest_throughput.py [--paragraphs 600] [--rounds 2]

Texts: SQuAD v1.1 dev paragraphs as the product embeds them (``"<title>\\n<text>"`` per chunk).
Each round times raw encode (batch 64, normalised, one call) and the product's
``Embedder.encode(..., show_progress=True)`` (longest first, blocks of 8 batches, tqdm bar to
/dev/null), alternating which goes first; the figure is the best round of each. Target: product
chunks/s >= 0.9 x raw. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rag.documents import Document  # noqa: E402
from rag.embedder import Embedder  # noqa: E402
from rag.ingest import build_index, chunk_documents  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paragraphs", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    import retrieval_squad as rs

    paras, _ = rs.load(rs.DATA)
    paras = paras[: args.paragraphs]
    docs = [Document(text=p["context"], source=p["pid"], title=p["title"].replace("_", " ")) for p in paras]
    emb = Embedder()
    chunks = chunk_documents(docs, emb)
    texts = [f"{c.title}\n{c.text}" for c in chunks]
    model = emb.model
    model.encode(texts[:64], batch_size=64)  # warm-up

    def raw():
        return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)

    def product():
        with contextlib.redirect_stderr(io.StringIO()):
            return emb.encode(texts, show_progress=True)

    best = {"raw": float("inf"), "product": float("inf")}
    for r in range(args.rounds):
        for name, fn in ([("raw", raw), ("product", product)] if r % 2 == 0 else [("product", product), ("raw", raw)]):
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
            print(f"round {r + 1} {name}: {len(texts) / (time.perf_counter() - t):.1f} chunks/s", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report = build_index(docs, Path(tmp) / "idx", embedder=emb, reuse=False)
        whole = time.perf_counter() - t
    out = {
        "machine": f"{os.cpu_count()} cores", "chunks": len(texts),
        "raw_chunks_per_s": round(len(texts) / best["raw"], 1),
        "product_chunks_per_s": round(len(texts) / best["product"], 1),
        "ratio": round(best["raw"] / best["product"], 3),
        "whole_ingest_s": round(whole, 1), "whole_ingest_sentences": report.sentences,
        "whole_ingest_chunks_per_s": round(report.chunks / whole, 1),
    }
    print(f"raw encode {out['raw_chunks_per_s']} chunks/s, product {out['product_chunks_per_s']} chunks/s "
          f"(ratio {out['ratio']}); whole ingest of {len(texts)} chunks + {report.sentences} sentences "
          f"in {out['whole_ingest_s']} s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
