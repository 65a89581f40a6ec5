"""Load test: N concurrent gradio_client users against a real ``rag serve`` for S seconds.

Starts ``rag serve`` as a subprocess on a free 127.0.0.1 port (offline: no analytics, no hub),
waits for its first answer, then runs ``--users`` threads, each with its own ``gradio_client``
``Client``, asking the questions of ``_serve.QUESTIONS`` in turn against ``/ask`` until
``--seconds`` have passed (each user stops after ``--max-requests`` too). An exception or a wrong
answer counts as an error. Prints a summary, then, as its last line, one JSON object:
users, seconds, requests, errors, wrong, rps, p50_ms, p95_ms, max_ms, CPU ms per answer of the
client process (all users) and of the server, cold_start_s, server_peak_rss_mb.

    python bench/load.py                        # 20 users, 60 s, over the default index
    python bench/load.py --users 4 --seconds 5  # the short version the tests run
    python bench/load.py --url http://127.0.0.1:7860/   # against a server already running

Exit status 1 when any request failed.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter

from _serve import QUESTIONS, Server, client, cpu_seconds, percentile


def user(url: str, deadline: float, max_requests: int, offset: int, out: list, errors: Counter) -> None:
    """One user: its own client, questions in turn from ``offset``, until the deadline."""
    try:
        c = client(url)
    except Exception as e:
        errors[f"connect: {type(e).__name__}: {e}"] += 1
        return
    for i in range(max_requests):
        if time.perf_counter() >= deadline:
            return
        q, check = QUESTIONS[(offset + i) % len(QUESTIONS)]
        t0 = time.perf_counter()
        try:
            d = c.predict(q, 5, api_name="/ask")
        except Exception as e:
            errors[f"{type(e).__name__}: {str(e)[:120]}"] += 1
            continue
        out.append(time.perf_counter() - t0)
        if not check(d):
            errors[f"wrong answer to {q!r}: {str(d.get('text'))[:80]!r}"] += 1


def run(url: str, users: int, seconds: float, max_requests: int) -> dict:
    """Run the load against ``url``; returns the figures (latencies in ms)."""
    latencies: list[float] = []
    errors: Counter = Counter()
    deadline = time.perf_counter() + seconds
    threads = [threading.Thread(target=user, args=(url, deadline, max_requests, i, latencies, errors))
               for i in range(users)]
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    wrong = sum(n for k, n in errors.items() if k.startswith("wrong answer"))
    return {
        "users": users, "seconds": round(wall, 1), "requests": len(latencies) + sum(errors.values()) - wrong,
        "errors": sum(errors.values()), "wrong": wrong, "rps": round(len(latencies) / wall, 2),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
        "client_cpu_ms_per_answer": round(cpu / max(1, len(latencies)) * 1000, 1),
        "error_kinds": dict(errors.most_common(5)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--max-requests", type=int, default=10_000, help="per user (bounds the loop)")
    p.add_argument("--index", default=None, help="index folder for rag serve (default: the bundled corpus)")
    p.add_argument("--url", default=None, help="use a server already running on loopback")
    p.add_argument("--log", default=None, help="file for the server's output")
    args = p.parse_args(argv)
    if args.url:
        if not args.url.startswith(("http://127.0.0.1", "http://localhost")):
            p.error("loopback URLs only")
        result = run(args.url, args.users, args.seconds, args.max_requests)
    else:
        with Server(args.index, args.log) as server:
            cold = server.start()
            print(f"rag serve answered {cold:.1f} s after launch at {server.url}", file=sys.stderr)
            cpu0 = cpu_seconds(server.proc.pid)
            result = run(server.url, args.users, args.seconds, args.max_requests)
            result["server_cpu_ms_per_answer"] = round(
                (cpu_seconds(server.proc.pid) - cpu0) / max(1, result["requests"]) * 1000, 1)
            result["cold_start_s"] = round(cold, 2)
        result["server_peak_rss_mb"] = round(server.peak_rss_mb, 1)
    print(f"{result['users']} users, {result['seconds']} s: {result['requests']} requests, "
          f"{result['errors']} errors ({result['wrong']} wrong answers), {result['rps']} answers/s, "
          f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, max {result['max_ms']} ms")
    for kind, n in result["error_kinds"].items():
        print(f"  {n} x {kind}")
    print(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
