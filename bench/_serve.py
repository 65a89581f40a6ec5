"""Helpers shared by the benchmarks: start a real ``rag serve`` subprocess on a free loopback
port, wait for its first answer, stop it and read its peak memory; run a command and read its
wall time and peak RSS. Loopback only, offline (no analytics, no hub)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's rag, not another installed copy
    sys.path.insert(0, str(ROOT))

Q_3000 = "How many active Chinese investigations were running through Interpol by September 2017?"
#: (question, check) pairs over the bundled corpus: check(answer dict) is True for a right answer.
QUESTIONS = [
    (Q_3000, lambda d: not d["refused"] and "3,000" in d["text"]),
    ("Who won the 2022 FIFA World Cup?", lambda d: d["refused"] and d["citations"] == []),
    ("Who handled much of Interpol's day-to-day work after Meng Hongwei left?",
     lambda d: not d["refused"] and "Jürgen Stock" in d["text"]),
    ("What would Australia's draft telecommunications bill require companies to do?",
     lambda d: not d["refused"] and "telecommunications companies" in d["text"]),
]


def env() -> dict:
    """The environment for child processes: offline, no analytics, loopback bypasses proxies,
    and this checkout first on the import path."""
    e = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1",
             TRANSFORMERS_OFFLINE="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
             PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return e


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``values`` by linear interpolation; ``nan`` when empty."""
    if not values:
        return float("nan")
    v = sorted(values)
    x = (len(v) - 1) * p / 100
    lo = int(x)
    return v[lo] + (v[min(lo + 1, len(v) - 1)] - v[lo]) * (x - lo)


def client(url: str):
    """A quiet ``gradio_client.Client`` for ``url``."""
    from gradio_client import Client

    try:
        return Client(url, verbose=False, analytics_enabled=False, download_files=False)
    except TypeError:  # older gradio_client without these arguments
        return Client(url, verbose=False)


class Server:
    """``rag serve`` as a subprocess on ``127.0.0.1:<free port>``; ``start()`` returns the
    seconds from launch to the first correct answer of ``/ask``; ``stop()`` (also on leaving a
    ``with`` block) returns the peak RSS of the server in MiB (its ``VmHWM`` just before it is
    stopped), kept in ``peak_rss_mb``."""

    def __init__(self, index: str | None = None, log: str | Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.cmd = [sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if index:
            self.cmd += ["--index", index]
        self.log = open(log or os.devnull, "wb")
        self.proc: subprocess.Popen | None = None
        self.peak_rss_mb = float("nan")

    def start(self, timeout: float = 300.0) -> float:
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env(), stdout=self.log, stderr=subprocess.STDOUT)
        last = None
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rag serve exited with {self.proc.returncode} before answering")
            try:
                d = client(self.url).predict(Q_3000, 5, api_name="/ask")
                if not QUESTIONS[0][1](d):
                    raise RuntimeError(f"wrong first answer: {d.get('text')!r}")
                return time.perf_counter() - t0
            except RuntimeError:
                raise
            except Exception as e:  # not listening yet
                last = e
                time.sleep(0.1)
        raise TimeoutError(f"rag serve gave no answer within {timeout:.0f} s ({last})")

    def stop(self) -> float:
        p = self.proc
        if p is None or p.returncode is not None:
            return self.peak_rss_mb
        self.peak_rss_mb = vm_hwm_mb(p.pid)
        p.send_signal(signal.SIGINT)
        deadline = time.time() + 20
        while True:
            pid, status = os.waitpid(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                self.log.close()
                return self.peak_rss_mb
            if time.time() > deadline:
                p.kill()
                deadline = time.time() + 3600
            time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def vm_hwm_mb(pid: int) -> float:
    """Peak resident memory (``VmHWM``) of a running process, in MiB; ``nan`` where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds used so far by process ``pid`` (default: this one, all threads)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_measured(cmd: list[str], timeout: float = 300.0) -> tuple[int, str, float, float]:
    """Run ``cmd`` in the checkout: ``(exit code, output, wall seconds, peak RSS MiB)``; killed
    after ``timeout`` seconds. The peak comes from ``wait4``, and Linux counts in it the memory
    the child had as a fork of this process before it ran ``cmd``: call this from a small
    process (before loading a model here), or the figure is this process's size."""
    import threading

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    try:
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)  # wait4, not wait(): it also gives the child's peak RSS
    finally:
        killer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out.decode("utf-8", "replace"), time.perf_counter() - t0, ru.ru_maxrss / 1024
