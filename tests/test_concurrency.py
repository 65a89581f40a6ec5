"""Concurrent users: one engine shared by 8 threads, and a short gradio_client load against a real
`rag serve` subprocess (bench/load.py with a few users for a few seconds; the 60 s, 20-user run
is the benchmark itself)."""
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
Q_3000 = "How many active Chinese investigations were running through Interpol by September 2017?"


def test_eight_threads_get_exactly_the_sequential_answers(engine, dev_rows):
    cases = [(r["question"], None) for r in dev_rows] + [
        (Q_3000, None),
        ("Who won the 2022 FIFA World Cup?", None),
        ("When was he elected?", [("Who is Meng Hongwei?", "…")]),
        ("How many investigations did China run through Interpol? " * 300, None),  # cut, with notice
    ]
    sequential = [engine.ask(q, history=h).to_dict() for q, h in cases]
    assert any(d["refused"] for d in sequential) and any(d["notices"] for d in sequential)
    start = threading.Barrier(8)

    def worker(w: int) -> list[dict]:
        start.wait()  # all eight ask at the same moment
        got = [None] * len(cases)
        for rnd in range(2):
            for i in range(len(cases)):
                j = (i + w + rnd) % len(cases)  # each thread in its own order
                q, h = cases[j]
                got[j] = engine.ask(q, history=h).to_dict()
        return got

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(8)))
    for got in results:
        for d, want in zip(got, sequential):
            assert d == want, (d["question"][:60], d["text"][:80], want["text"][:80])


@pytest.mark.slow  # real servers or killed processes; `pytest -m 'not slow'` skips it
def test_short_load_on_rag_serve_has_no_errors(engine, index_root):
    # engine built the session's index; the server and its users run in subprocesses over it
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--users", "4", "--seconds", "4"],
                       cwd=ROOT, env=dict(os.environ, RAG_INDEX_ROOT=str(index_root)),
                       capture_output=True, text=True, timeout=600)
    assert r.stdout.strip(), r.stderr[-2000:]
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert r.returncode == 0 and d["errors"] == 0 and d["wrong"] == 0, (d, r.stderr[-2000:])
    assert d["users"] == 4 and d["requests"] >= 4
    assert 0 < d["p50_ms"] <= d["p95_ms"] <= d["max_ms"]
    assert d["cold_start_s"] > 0 and d["server_peak_rss_mb"] > 100
