"""The real protocol: llama-cpp-python's OpenAI-compatible server running SmolLM2-135M-Instruct on
loopback, asked through the openai client, streaming and not. Whatever the small model writes,
every citation that reaches the user must verify, or the answer must be a refusal."""
import subprocess
import sys
import tempfile
import time

import httpx
import pytest

from rag.prompts import UNSUPPORTED_NOTICE

from conftest import free_port
from rag.grounding import MIN_COVERAGE, MIN_SIMILARITY
from rag.llm import local_model_path

pytest.importorskip("llama_cpp", reason="llama-cpp-python is built by setup.sh --test (the 'local' extra)")


@pytest.fixture(scope="module")
def llama_server():
    port = free_port()
    log = tempfile.TemporaryFile()  # llama.cpp logs a lot: a pipe would fill up and block it
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(local_model_path()),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            httpx.get(url + "/models", timeout=2, trust_env=False).raise_for_status()
            break
        except httpx.HTTPError:
            try:  # wait on the process: returns at once if it died, else paces the next poll
                proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            log.seek(0)
            raise RuntimeError(log.read().decode(errors="replace")[-2000:])
    else:
        proc.kill()
        raise RuntimeError("llama_cpp.server did not start in 180 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def _check(engine, a):
    if a.refused:
        assert a.citations == [] and a.reason
        return
    by_number = {c.number: c for c in a.citations}
    passages = {p.chunk.id: p for p in a.passages}
    assert sorted(by_number) == list(range(1, len(by_number) + 1))
    for v in a.sentences:
        assert v.supported, v  # strict mode: only supported sentences remain
        for n in v.citations:
            c = by_number[n]
            cov, sim = engine.checker.support(v.text, engine.embedder.encode([v.text])[0], passages[c.chunk_id])
            assert cov >= MIN_COVERAGE and sim >= MIN_SIMILARITY, (v.text, c.chunk_id, cov, sim)
            assert c.quote in passages[c.chunk_id].chunk.text


@pytest.mark.slow  # real servers or killed processes; `pytest -m 'not slow'` skips it
def test_dev_questions_through_real_server(engine, dev_rows, llama_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("RAG_LLM", "openai")
    monkeypatch.setenv("RAG_LLM_MODEL", "smollm2")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "120")
    generated = 0
    for i, row in enumerate(dev_rows):
        if i % 2:
            *deltas, a = engine.ask_stream(row["question"], k=3)
            assert all(isinstance(d, str) for d in deltas)
        else:
            a = engine.ask(row["question"], k=3)
        # the server worked: no fallback for a failure; a reply that did not hold up against its
        # sources gives the extractive answer, said plainly
        assert a.notices in ([], [UNSUPPORTED_NOTICE]), a.notices
        if not row["answerable"]:
            assert a.refused, a.text
        generated += (a.mode == "openai" or a.notices == [UNSUPPORTED_NOTICE]) and not a.reason.startswith(
            "Checked before generation")
        _check(engine, a)
    from test_answers import SEED_MISSES  # d02: its offline lead is the wrong sentence (not counted)

    expected = sum(r["answerable"] and r["id"] not in SEED_MISSES for r in dev_rows)
    assert expected == 5 and generated >= expected  # every other answerable row went to the model


def test_local_mode_in_process(engine):
    a = engine.ask("How many active Chinese investigations were running through Interpol by September 2017?",
                   k=3, mode="local")
    assert (a.mode, a.notices) in (("local", []), ("extractive", [UNSUPPORTED_NOTICE]))
    _check(engine, a)
