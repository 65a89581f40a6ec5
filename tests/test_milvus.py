"""The Milvus backend against a real Milvus Lite gRPC server on 127.0.0.1 (the ``milvus-lite``
package's ``milvus-lite server``): the same answers and citations as the embedded backend, SQuAD
MRR@10 within 0.01 of it, incremental add and remove, a server killed mid-ingest, and two
processes ingesting into one collection."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED

pytestmark = pytest.mark.slow
pymilvus = pytest.importorskip("pymilvus")

MILVUS = Path(sys.executable).with_name("milvus-lite")
RAG = Path(sys.executable).with_name("rag")
SQUAD = SHARED / "eval" / "squad_v1.1_dev"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(port: int) -> bool:
    try:
        client = pymilvus.MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=2)
        client.list_collections()
        client.close()
        return True
    except Exception:
        return False


class Server:
    """A ``milvus-lite server`` process on 127.0.0.1; ``start`` waits until it answers a request."""

    def __init__(self, data_dir: Path):
        self.data_dir, self.port, self.proc = data_dir, _free_port(), None

    def start(self) -> "Server":
        self.log = open(self.data_dir.parent / f"milvus-{self.port}.log", "ab")
        self.proc = subprocess.Popen([str(MILVUS), "server", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while not _serving(self.port):  # each try waits on the socket: no fixed sleep
            assert self.proc.poll() is None, (self.data_dir.parent / f"milvus-{self.port}.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "milvus-lite server did not answer within 90 s"
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def url(self, name: str) -> str:
        return f"milvus://127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("milvus") / "data"
    d.mkdir()
    s = Server(d).start()
    yield s
    if s.proc.poll() is None:
        s.kill()


def _rag(*args, timeout=600):
    return subprocess.run([str(RAG), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})


def test_bundled_questions_get_the_same_answers_and_citations_as_embedded(server, engine, embedder, dev_rows):
    from rag import Engine
    from rag.indexes import add_documents, default_sources  # noqa: F401  (the bundled corpus)
    from rag.store.milvus import MilvusStore

    url = server.url("bundled")
    store = MilvusStore.open(url, embedder_name=embedder.name, dim=embedder.dim, create=True)
    report = store.upsert(default_sources(), embedder)
    assert report.chunks == len(engine.chunks) and report.embedded == report.chunks
    on_milvus = Engine(url, embedder=embedder)
    assert on_milvus.store.stats()["backend"] == "milvus" and len(on_milvus.store) == len(engine.chunks)
    questions = [r["question"] for r in dev_rows] + ["Who is Meng Hongwei?", "What is Interpol's annual budget?",
                                                     "Who won the 1998 football world cup?"]
    for q in questions:
        a, b = engine.ask(q), on_milvus.ask(q)
        assert b.text == a.text, q
        assert b.refused == a.refused, q
        assert [(c.chunk_id, c.paragraph) for c in b.citations] == [(c.chunk_id, c.paragraph) for c in a.citations], q
        assert [p.chunk.id for p in b.passages] == [p.chunk.id for p in a.passages], q
        assert np.allclose([p.score for p in b.passages], [p.score for p in a.passages], atol=1e-4), q
    assert sum(not engine.ask(q).refused for q in questions) >= 5  # answers, not only refusals, were compared


def test_squad_mrr_within_001_of_embedded(server, embedder, tmp_path):
    """SQuAD v1.1 dev articles 24-27 (held out from every fit): the same index on both backends,
    the product's retriever on each; MRR@10 of the gold paragraph within 0.01."""
    from rag.documents import Document
    from rag.ingest import build_index
    from rag.retriever import HybridRetriever
    from rag.store import EmbeddedStore, load_index
    from rag.store.milvus import MilvusStore

    paras = [json.loads(x) for x in (SQUAD / "paragraphs.jsonl").read_text().splitlines() if x.strip()]
    paras = [p for p in paras if 24 <= int(p["pid"][:2]) <= 27]
    qs = [json.loads(x) for x in (SQUAD / "questions.jsonl").read_text().splitlines() if x.strip()]
    qs = [q for q in qs if 24 <= int(q["gold_pid"][:2]) <= 27][::2]
    build_index([Document(text=p["context"], source=p["pid"], title=p["title"].replace("_", " ")) for p in paras],
                tmp_path / "squad", embedder=embedder)
    stored = load_index(tmp_path / "squad", embedder_name=embedder.name, dim=embedder.dim)
    ms = MilvusStore.open(server.url("squad"), embedder_name=embedder.name, dim=embedder.dim, create=True)
    assert ms.copy_from(stored) == len(stored.chunks)
    ms = MilvusStore.open(server.url("squad"), embedder_name=embedder.name, dim=embedder.dim)
    assert len(ms) == len(stored.chunks)
    qvecs = embedder.encode([q["question"] for q in qs])
    mrr = {}
    for name, store in (("embedded", EmbeddedStore(stored)), ("milvus", ms)):
        r = HybridRetriever(store)
        total = 0.0
        for q, v in zip(qs, qvecs):
            ranking = list(dict.fromkeys(p.chunk.source for p in r.retrieve(q["question"], v, 30)))[:10]
            total += 1 / (ranking.index(q["gold_pid"]) + 1) if q["gold_pid"] in ranking else 0.0
        mrr[name] = total / len(qs)
    print(f"{len(qs)} questions, {len(paras)} paragraphs: MRR@10 {mrr}")
    assert len(qs) > 400 and mrr["embedded"] > 0.8
    assert abs(mrr["milvus"] - mrr["embedded"]) <= 0.01, mrr


def test_incremental_add_and_remove_from_the_command_line(server, tmp_path, index_root):
    url = server.url("notes")
    a, b, c = tmp_path / "glacier.md", tmp_path / "harbour.txt", tmp_path / "orchard.txt"
    a.write_text("# Glacier survey\n\nThe survey team measured the Aletsch glacier retreating 51 metres in 2023, "
                 "the largest loss since records began.\n")
    b.write_text("Harbour notes\n\nThe old lighthouse keeper retired in 1990 after thirty years of service on the island.\n")
    c.write_text("Orchard diary\n\nThe apple harvest of the Kell valley orchard reached 40 tonnes in October.\n")
    r = _rag("ingest", str(a), str(b), "--store", url, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "embedded 2 new or changed chunk(s) and 2 sentence(s)" in r.stdout and "2 chunks, 2 sentences" in r.stdout
    # again, unchanged: nothing embedded, and the report still counts the sentences held
    r = _rag("ingest", str(a), str(b), "--store", url, "--quiet")
    assert r.returncode == 0 and "2 chunks, 2 sentences" in r.stdout and "embedded 0 new" in r.stdout, r.stdout
    r = _rag("ask", "--store", url, "How far did the Aletsch glacier retreat in 2023?")
    assert r.returncode == 0 and "51 metres" in r.stdout and "[1] Glacier survey" in r.stdout, r.stdout + r.stderr
    # adding one file embeds that file only; the others are not touched
    r = _rag("ingest", str(c), "--store", url, "--quiet")
    assert r.returncode == 0 and "embedded 1 new or changed chunk(s)" in r.stdout, r.stdout + r.stderr
    r = _rag("remove", "harbour.txt", "--store", url)
    assert r.returncode == 0 and "removed" in r.stdout, r.stdout + r.stderr
    r = _rag("stats", "--store", url, "--json")
    s = json.loads(r.stdout)
    assert sorted(Path(d["source"]).name for d in s["sources"]) == ["glacier.md", "orchard.txt"]
    assert s["chunks"] == 2 and s["documents"] == 2
    r = _rag("ask", "--store", url, "How many tonnes did the Kell valley orchard harvest in October?")
    assert "40 tonnes" in r.stdout and "Orchard diary" in r.stdout, r.stdout
    r = _rag("ask", "--store", url, "When did the lighthouse keeper retire?")
    assert "Harbour notes" not in r.stdout and "1990" not in r.stdout.split("Sources")[0], r.stdout
    # a changed file replaces its old chunks
    a.write_text("# Glacier survey\n\nThe survey team measured the Aletsch glacier retreating 48 metres in 2024.\n")
    r = _rag("ingest", str(a), "--store", url, "--quiet")
    assert r.returncode == 0 and "embedded 1 new or changed chunk(s)" in r.stdout
    s = json.loads(_rag("stats", "--store", url, "--json").stdout)
    assert s["chunks"] == 2


def _squad_files(folder: Path, n: int, first: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paras = [json.loads(x) for x in (SQUAD / "paragraphs.jsonl").read_text().splitlines()[first:first + n]]
    out = []
    for p in paras:
        f = folder / f"{p['pid']}.txt"
        f.write_text(f"{p['title'].replace('_', ' ')}\n\n{p['context']}\n", encoding="utf-8")
        out.append(f)
    return out


def test_server_killed_mid_ingest_is_one_line_and_a_rerun_completes(tmp_path):
    from rag.store.milvus import SLICE

    data = tmp_path / "data"
    data.mkdir()
    server = Server(data).start()
    url = server.url("killed")
    files = _squad_files(tmp_path / "docs", SLICE + 60)   # two slices of chunks
    proc = subprocess.Popen([str(RAG), "ingest", str(tmp_path / "docs"), "--store", url, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    client = pymilvus.MilvusClient(uri=f"http://127.0.0.1:{server.port}", timeout=5)

    def written() -> int:
        try:
            if not client.has_collection("killed"):
                return 0
            return int(client.query("killed", filter="id > 0", output_fields=["count(*)"])[0]["count(*)"])
        except Exception:
            return 0

    deadline = time.monotonic() + 300
    while written() == 0:  # the first slice is in; the writer is embedding the next one
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
    server.kill()
    out, err = proc.communicate(timeout=300)
    lines = [x for x in err.splitlines() if x.strip() and not x.startswith(("Embedding", "Tagging"))]
    assert proc.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("rag: error: The Milvus server at " + url), err[-2000:]
    assert "run the command again" in lines[0]
    server.start()  # same data folder, same port
    r = _rag("ingest", str(tmp_path / "docs"), "--store", url, "--quiet")
    assert r.returncode == 0, r.stderr
    m = __import__("re").search(r"embedded (\d+) new or changed chunk\(s\)", r.stdout)
    assert m and int(m.group(1)) < len(files), r.stdout  # what the killed run wrote was kept
    s = json.loads(_rag("stats", "--store", url, "--json").stdout)
    assert s["documents"] == len(files) and s["chunks"] >= len(files)
    server.kill()


def test_two_processes_ingest_into_one_collection(server, tmp_path):
    url = server.url("shared_articles")
    first = _squad_files(tmp_path / "a", 12, first=1000)
    second = _squad_files(tmp_path / "b", 12, first=1100)
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    procs = [subprocess.Popen([str(RAG), "ingest", str(tmp_path / d), "--store", url, "--quiet"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for d in ("a", "b")]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    s = json.loads(_rag("stats", "--store", url, "--json").stdout)
    assert sorted(Path(d["source"]).name for d in s["sources"]) == sorted(f.name for f in first + second)
    # a question about each half is answered from it
    for f in (first[0], second[0]):
        title, text = f.read_text().split("\n\n", 1)
        r = _rag("ask", "--store", url, text.split(".")[0][:200] + "?")
        assert title in r.stdout, r.stdout


def test_rag_serve_on_milvus_answers_with_citations(server, embedder, engine, tmp_path):
    """`rag serve --store` (the chat and the OpenAI-compatible endpoint on one port): a cited answer."""
    import openai

    from rag.indexes import default_sources
    from rag.store.milvus import MilvusStore

    url = server.url("served")
    MilvusStore.open(url, embedder_name=embedder.name, dim=embedder.dim, create=True).upsert(default_sources(), embedder)
    port = _free_port()
    proc = subprocess.Popen([str(RAG), "serve", "--store", url, "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        for line in proc.stdout:  # ready when it prints its address
            if "chat at http://" in line:
                assert url in line
                break
        else:
            raise AssertionError(f"rag serve exited with {proc.wait()}")
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused")
        reply = client.chat.completions.create(model="default", messages=[
            {"role": "user", "content": "How many active Chinese investigations were running through Interpol by September 2017?"}])
        text = reply.choices[0].message.content
        assert "[1]" in text and "Sources" in text, text
        extra = reply.model_extra or {}
        assert extra.get("citations") and not extra.get("refused"), extra
        assert extra["citations"][0]["chunk_id"] in {c.id for c in engine.chunks}
    finally:
        proc.terminate()
        proc.wait(timeout=30)



def test_a_store_idle_for_a_minute_still_answers(server, embedder):
    """A server keeps its store open between questions: after a minute with no request on the
    channel, the next one works (pymilvus's 10 s keepalive pings got GOAWAY "too_many_pings"
    from the server, and the shared channel failed the next request)."""
    import threading

    from rag.store.milvus import MilvusStore

    url = server.url("idle")
    store = MilvusStore.open(url, embedder_name=embedder.name, dim=embedder.dim, create=True)
    threading.Event().wait(70)  # a fixed idle minute: a quiet channel is the condition under test
    again = MilvusStore.open(url, embedder_name=embedder.name, dim=embedder.dim)
    assert len(again) == 0 and again.documents() == [] and store.live_version() == again.version


def test_an_unreachable_server_is_one_plain_line():
    """No server on the port: one line that names the store and pymilvus's message once, not the
    exception's repr inside its own text."""
    r = _rag("ask", "--store", "milvus://127.0.0.1:1/absent", "When did the keeper retire?")
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith("rag: error: The Milvus server at milvus://127.0.0.1:1/absent cannot be reached")
    assert "<MilvusException" not in lines[0] and lines[0].count("MilvusException") == 1, lines[0]
