"""The `rag` command as a user runs it: a real subprocess over the session's index root (and, where
start-up cost matters more than the process boundary, the same entry point in-process)."""
import json
import os
import subprocess
import sys

from rag.cli import main as rag_main


def rag(*args, env_root, **extra_env):
    env = dict(os.environ, RAG_INDEX_ROOT=str(env_root), **extra_env)
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_ask_json_cites_gold_article(engine, index_root):
    r = rag("ask", "How many active Chinese investigations were running through Interpol by September 2017?",
            "--json", env_root=index_root)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert "3,000" in d["text"] and d["refused"] is False
    assert d["citations"][0]["title"] == "China could pull Interpol funding after Meng Hongwei’s arrest"
    assert d["short_answer"]["text"] == "over 3,000" and d["short_answer"]["label"] == "CARDINAL"
    plain = rag("ask", "How many active Chinese investigations were running through Interpol by September 2017?",
                env_root=index_root)  # piped: the short answer in Markdown bold, the answer sentence first
    assert plain.stdout.startswith("By September 2017, the Chinese government had **over 3,000** active"), plain.stdout


def test_reader_that_leaves_early_gets_no_traceback(engine, index_root):
    """`rag ask ... | head -0`: the pipe is closed before the answer is written."""
    p = subprocess.Popen([sys.executable, "-m", "rag.cli", "ask", "Who is Meng Hongwei?"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, RAG_INDEX_ROOT=str(index_root)))
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_ingest_finishes_when_its_reader_leaves(tmp_path, engine, index_root):
    """`rag ingest ... 2>&1 | head -1`: the progress bar's pipe closes; the update still lands."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.txt").write_text("The harbour authority counted 412 container ships in March, a record.\n")
    idx = tmp_path / "idx"
    p = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(docs), "--index", str(idx)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, RAG_INDEX_ROOT=str(index_root)))
    p.stdout.close()
    assert p.wait(timeout=300) == 0
    from rag.store import load_index

    stored = load_index(idx, embedder_name=engine.embedder.name, dim=engine.embedder.dim)
    assert [c.text for c in stored.chunks] == ["The harbour authority counted 412 container ships in March, a record."]


def test_serve_on_a_busy_port_is_a_plain_error(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert rag_main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err


def test_ask_refuses_out_of_corpus_question_with_reason(engine, index_root, capsys):
    assert rag_main(["ask", "Who won the 2022 FIFA World Cup?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The articles don't say")
    assert "Why: The evidence is weak" in out and "FIFA" in out


def test_empty_question_exits_2_with_plain_message(engine, index_root, capsys):
    assert rag_main(["ask", "   "]) == 2
    err = capsys.readouterr().err
    assert "question is empty" in err and "Traceback" not in err


def test_ingest_own_folder_then_ask(tmp_path, engine, index_root, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.md").write_text("Harbour report\n\nThe harbour authority counted 412 container ships in March, a record for the port.\n")
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    idx = tmp_path / "idx"
    r = rag("ingest", str(docs), "--index", str(idx), "--quiet", env_root=index_root)
    assert r.returncode == 0, r.stderr
    assert "Indexed 1 document(s)" in r.stdout and "blob.txt: binary data" in r.stdout
    assert rag_main(["ask", "How many container ships were counted in March?", "--index", str(idx), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert "412" in d["text"] and d["citations"][0]["chunk_id"] == "harbour-report#p1"
    assert d["citations"][0]["file"] == "harbour.md" and d["citations"][0]["url"] is None  # no URL: the file
    assert rag_main(["ask", "How many container ships were counted in March?", "--index", str(idx)]) == 0
    assert "      file: harbour.md" in capsys.readouterr().out


def test_ask_follows_rag_top_k_and_hides_server_paths(tmp_path, engine, index_root):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "note.txt").write_text("Harbour note\n\nThe harbour crane lifted 41 containers on Monday.\n")
    assert rag("ingest", str(d), "--index", str(tmp_path / "idx"), env_root=index_root).returncode == 0
    r = rag("ask", "How many containers did the crane lift?", "--index", str(tmp_path / "idx"), "--json",
            env_root=index_root, RAG_TOP_K="1")
    d = json.loads(r.stdout)
    assert len(d["passages"]) == 1 and d["passages"][0]["source"] == "note.txt", d["passages"]
