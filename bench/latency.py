"""Latency and memory of the whole path, from start-up to answer, over the bundled corpus.

Measures, in this order:

1. ``import rag`` and ``from rag import Engine`` in a fresh interpreter (median of 5), and which
   heavy modules (torch, gradio, llama_cpp, sentence_transformers) each pulls in (should be none);
2. cold start of ``rag serve`` (a subprocess on a free loopback port) to its first answer through
   ``gradio_client`` (target <= 8 s), and the server's peak RSS;
3. wall time and peak RSS of a one-shot ``rag ask`` (median of 3);
4. ``Engine()`` load time and ``Engine.ask()`` p50/p95 over the seed questions
   (``../shared/eval/seed_dev.jsonl``, else the questions of ``_serve.QUESTIONS``) after 5
   warm-up questions, in this process, and this process's peak RSS (target p50 <= 30 ms).

The index is built first if missing (not timed), so start-up times are with a built index and a
warm disk cache. Prints a summary; the last line is one JSON object with the figures.

    python bench/latency.py [--rounds 10]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _serve import QUESTIONS, ROOT, Q_3000, Server, env, percentile, run_measured

HEAVY = ("torch", "gradio", "llama_cpp", "sentence_transformers", "transformers")
SEED_DEV = ROOT.parent / "shared" / "eval" / "seed_dev.jsonl"


def import_cost(stmt: str, n: int = 5) -> tuple[float, list[str]]:
    """Median seconds of ``stmt`` in a fresh interpreter, and the heavy modules it loaded."""
    code = (f"import json, sys, time; t = time.perf_counter(); {stmt}; t = time.perf_counter() - t; "
            f"print(json.dumps([t, [m for m in {HEAVY!r} if m in sys.modules]]))")
    times, heavy = [], []
    for _ in range(n):
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env(), capture_output=True,
                           text=True, check=True)
        t, heavy = json.loads(r.stdout)
        times.append(t)
    return statistics.median(times), heavy


def questions() -> list[str]:
    if SEED_DEV.exists():
        return [json.loads(x)["question"] for x in SEED_DEV.read_text().splitlines() if x.strip()]
    return [q for q, _ in QUESTIONS]


def machine() -> dict:
    mem = next((int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                if x.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0
    return {"cpus": os.cpu_count(), "mem_gib": round(mem / 2**20, 1), "python": platform.python_version(),
            "load_1m": round(os.getloadavg()[0], 2), "date": datetime.date.today().isoformat()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=10, help="passes over the seed questions")
    args = p.parse_args(argv)
    out: dict = {"machine": machine()}

    t_rag, heavy_rag = import_cost("import rag")
    t_engine, heavy_engine = import_cost("import rag; from rag import Engine")
    out.update(import_rag_ms=round(t_rag * 1000, 1), import_engine_ms=round(t_engine * 1000, 1),
               heavy_modules_on_import=sorted(set(heavy_rag) | set(heavy_engine)))
    print(f"import rag {out['import_rag_ms']} ms; from rag import Engine {out['import_engine_ms']} ms; "
          f"heavy modules loaded: {out['heavy_modules_on_import'] or 'none'}")

    # build the index first if needed (not timed), in a child, so this process stays small
    # while the children below are measured (their peak RSS counts this process's at fork)
    rc, text, _, _ = run_measured([sys.executable, "-c", "from rag import Engine; print(Engine().built is not None)"],
                                  timeout=1800)
    if rc != 0:
        raise SystemExit(f"could not open the default index: {text[-800:]}")
    out["index_built"] = text.strip().splitlines()[-1] == "True"

    with Server() as server:
        out["serve_cold_start_s"] = round(server.start(), 2)
    out.update(serve_cold_start_target_s=8, serve_peak_rss_mb=round(server.peak_rss_mb, 1))
    print(f"rag serve: first answer {out['serve_cold_start_s']} s after launch (target <= 8 s); "
          f"peak RSS {out['serve_peak_rss_mb']} MiB")

    runs = []
    for _ in range(3):
        rc, text, wall, rss = run_measured([sys.executable, "-m", "rag.cli", "ask", Q_3000, "--json"])
        if rc != 0 or "3,000" not in text:
            raise SystemExit(f"rag ask failed ({rc}): {text[-500:]}")
        runs.append((wall, rss))
    out.update(cli_ask_wall_s=round(statistics.median(w for w, _ in runs), 2),
               cli_ask_peak_rss_mb=round(max(r for _, r in runs), 1))
    print(f"one-shot rag ask: {out['cli_ask_wall_s']} s wall, peak RSS {out['cli_ask_peak_rss_mb']} MiB")

    from rag import Engine

    t0 = time.perf_counter()
    engine = Engine()
    out["engine_load_s"] = round(time.perf_counter() - t0, 2)
    qs = questions()
    for q in (qs * 5)[:5]:
        engine.ask(q)
    times = []
    for _ in range(args.rounds):
        for q in qs:
            t = time.perf_counter()
            engine.ask(q)
            times.append(time.perf_counter() - t)
    out.update(ask_n=len(times), ask_p50_ms=round(percentile(times, 50) * 1000, 1),
               ask_p95_ms=round(percentile(times, 95) * 1000, 1), ask_target_p50_ms=30,
               engine_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    print(f"Engine() {out['engine_load_s']} s; ask() over "
          f"{len(times)} questions: p50 {out['ask_p50_ms']} ms, p95 {out['ask_p95_ms']} ms "
          f"(target p50 <= 30 ms); peak RSS {out['engine_peak_rss_mb']} MiB")

    out["machine"]["load_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
