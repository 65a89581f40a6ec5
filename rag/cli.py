"""The ``rag`` command line: ``rag ingest``, ``rag ask``, ``rag serve``, ``rag eval``, ``rag stats``,
``rag check``, ``rag remove``.

Every command takes ``--index DIR``; the default is the bundled corpus's index
(``index/default``), built on first use. Any failure is one line on stderr naming its cause and
its fix (exit status 2 for bad input or a damaged index, 1 for other failures); ``--debug``
adds the traceback.
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
import threading
import traceback
from pathlib import Path

# The commands import what they use inside their functions (lazy): `rag --help` and argument
# errors take 0.1 s instead of the ~0.8 s of numpy, FAISS, pydantic and the model code.


def _engine(index: str | None):
    from .engine import Engine  # lazy: numpy, FAISS, the answerer (0.8 s of `rag --help`)

    return Engine(index)


def _to_devnull(stream) -> None:
    """Point ``stream``'s file descriptor at /dev/null: the reader of its pipe has left, and later
    writes (and the interpreter's final flush) must neither fail nor print a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


class _OutputMayClose:
    """Wraps ``sys.stdout`` or ``sys.stderr`` for a command that writes the index: when the reader
    of a pipe leaves (``rag ingest ... 2>&1 | head -1``), the rest of the output goes to
    /dev/null and the work finishes, instead of a progress bar's write aborting the update."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, data):
        try:
            return self._stream.write(data)
        except BrokenPipeError:
            _to_devnull(self._stream)
            return len(data)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            _to_devnull(self._stream)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _finish_writing(func):
    """Run ``func(args)`` with output that may close under it (see :class:`_OutputMayClose`)."""
    def run(args) -> int:
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _OutputMayClose(sys.stdout), _OutputMayClose(sys.stderr)
        try:
            return func(args)
        finally:
            sys.stdout, sys.stderr = saved
    return run


@_finish_writing
def cmd_ingest(args) -> int:
    from .indexes import add_documents  # lazy: numpy, FAISS, the embedder (0.8 s of `rag --help`)

    default = args.index is None and not _store(args)
    index_dir = _location(args)
    report = add_documents(args.paths, index_dir, include_default=default, rebuild=args.rebuild,
                           show_progress=not args.quiet)
    print(report.summary())
    if default:
        print("(the bundled Interpol articles are kept in the default index; "
              "use --index DIR for an index of your files only)")
    return 0


def _index_dir(args) -> Path:
    from .settings import Settings  # lazy: pydantic-settings (0.3 s of `rag --help`)

    return Path(args.index) if args.index else Settings.from_env().default_index_dir


def _store(args) -> str:
    """The ``--store`` location, else ``RAG_STORE`` (unless ``--index`` names a folder); empty for
    the embedded index folders."""
    from .settings import Settings

    return getattr(args, "store", None) or ("" if getattr(args, "index", None) else Settings.from_env().store)


def _engine_location(args) -> str | None:
    """What ``Engine`` opens: ``--store``/``RAG_STORE``, else ``--index``, else None (the bundled
    index, built on first use)."""
    return _store(args) or args.index


def _location(args) -> str | Path:
    """Where the command's index lives: ``--store``/``RAG_STORE`` (``milvus://...``), else the folder."""
    return _store(args) or _index_dir(args)


@_finish_writing
def cmd_remove(args) -> int:
    from .indexes import remove_documents  # lazy: numpy, FAISS, the embedder (0.8 s of `rag --help`)

    report = remove_documents(args.docs, _location(args))
    print("".join(f"removed {r}\n" for r in report.removed)
          + f"{report.index_dir} now holds {report.documents} document(s), {report.chunks} chunks "
            f"(embedded {report.embedded} new or changed chunk(s))")
    return 0


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024


def cmd_stats(args) -> int:
    from .indexes import index_stats  # lazy: numpy, FAISS, the embedder (0.8 s of `rag --help`)

    s = index_stats(_location(args))
    if args.json:
        print(json.dumps(s, indent=2, ensure_ascii=False))
        return 0
    print(f"index        {s['index']} ({s['version']})\n"
          f"documents    {s['documents']}  (articles {s['articles']})\n"
          f"chunks       {s['chunks']}  (sentences {s['sentences']}, duplicates stored once {s['duplicates_dropped']})\n"
          f"embedder     {s['embedder']} ({s['dim']}-d)\n"
          f"index type   {s['index_type']}\n"
          + (f"size on disk {_size(s['bytes_on_disk'])}\n" if s.get("bytes_on_disk") is not None else "")
          + f"created      {s['created']}")
    for src in s["sources"]:
        print(f"  {src['chunks']:>6} chunks  {src['source']}")
        for title in src["articles"]:
            print(f"                 cited as: {title}")
    return 0


def cmd_check(args) -> int:
    """Full check of an index (:func:`rag.store.check_index`): exit 0 when sound, 1 when damaged."""
    from .embedder import EMBEDDER_DIM, EMBEDDER_NAME  # lazy: numpy, pydantic (0.5 s of `rag --help`)
    from .store import check_index, read_manifest  # lazy: numpy, FAISS (0.2 s of `rag --help`)

    if _store(args):
        raise ValueError(f"rag check verifies index folders; the Milvus collection {_store(args)} is kept "
                         f"sound by its server (see `rag stats --store {_store(args)}`).")
    index_dir = _index_dir(args)
    problems = check_index(index_dir, embedder_name=EMBEDDER_NAME, dim=EMBEDDER_DIM)
    if problems:
        for p in problems:
            print(f"rag: damaged: {p}", file=sys.stderr)
        return 1
    m = read_manifest(index_dir)
    print(f"index {index_dir} is sound: {len(m['files'])} files match their sha256, {m['count']} chunk "
          f"texts their hashes, {m['sentences']} sentence offsets their chunks")
    return 0


def _print_answer(answer) -> None:
    # the short answer in bold: ANSI bold on a terminal (unless NO_COLOR), Markdown ** when piped
    tty = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    print(answer.marked("\033[1m", "\033[0m") if tty else answer.marked())
    for n in answer.notices:
        print(f"\nNote: {n}")
    for f in answer.flagged:
        print(f"\nWarning: the source {f['title']!r} contains instructions addressed to an AI; they were not followed.")
    if answer.standalone_question and answer.standalone_question != answer.question:
        print(f"\nSearched for: {answer.standalone_question}")
    if answer.refused:
        print(f"\nWhy: {answer.reason}")
        return
    for v in answer.sentences:
        if not v.supported:
            print(f"\nUnsupported (not backed by its citation): {v.text}")
            if v.note:  # what failed: "the passage gives 2017, 3,000, not 9000"
                print(f"  why: {v.note}")
    print("\nSources:")
    for c in answer.citations:
        where = f"paragraph {c.paragraph}" + (f", page {c.page}" if c.page else "")
        print(f"  [{c.number}] {c.cited_as} ({where})" + (f"\n      {c.url}" if c.url else
                                                         f"\n      file: {c.file}" if c.file else ""))
        print(f"      “{c.quote}”")


def cmd_ask(args) -> int:
    engine = _engine(_engine_location(args))
    answer = engine.ask(args.question, k=args.k, mode=args.llm, strict=not args.no_strict)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)
    return 0


class PortInUseError(ValueError):
    """The address ``rag serve`` was asked to listen on is taken (or not available here)."""

    def __init__(self, host: str, port: int, reason: object):
        super().__init__(f"cannot serve on {host}:{port} ({reason}); choose another with --port N")


def _check_port(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` when ``host:port`` cannot be bound now."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            sock.bind((host, port))
    except OSError as e:
        raise PortInUseError(host, port, e.strerror or e) from e


def cmd_serve(args) -> int:
    """Load the engine (and answer one warm-up question) in a thread while Gradio is imported in
    this one: the two take ~1 s and ~5 s, and the engine's file reads and ONNX Runtime set-up run
    outside the GIL. Errors from the engine (a mismatched index, say) surface here unchanged."""
    _check_port(args.host, args.port)  # before the engine and Gradio load: a busy port fails fast
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # Gradio switches matplotlib (when installed) to its "agg" backend around every request; with
    # the backend unset, the first switch imports pyplot (~0.7 s on the first answer). A server
    # has no display: name "agg" up front and the switch is free.
    os.environ.setdefault("MPLBACKEND", "agg")
    box: dict = {}

    def load() -> None:
        try:
            from .engine import Engine  # lazy: loaded in this thread while Gradio is imported in the other

            box["engine"] = Engine(_engine_location(args))
            box["engine"].ask("What is Interpol?")  # first-run set-up of the model and the answerer
        except BaseException as e:  # re-raised in the main thread
            box["error"] = e

    loader = threading.Thread(target=load, name="rag-engine-loader", daemon=True)
    loader.start()
    from ui.app import auth_from_env, launch  # lazy: Gradio (~5 s), imported while the engine loads

    loader.join()
    if "error" in box:
        raise box["error"]
    try:
        demo, _ = launch(box["engine"], args.host, args.port, auth=auth_from_env(), quiet=True,
                         prevent_thread_lock=True)
    except OSError as e:  # taken since the check: Gradio's message names its own settings
        raise PortInUseError(args.host, args.port, e) from e
    # Gradio's own banner suggests share=True (a public tunnel); this tool serves loopback only
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"rag: chat at http://{shown}:{args.port}/ (index {box['engine'].index_dir}); Ctrl+C to stop",
          flush=True)
    try:
        demo.block_thread()
    finally:
        demo.close()
    return 0


def cmd_mcp(args) -> int:
    from .mcp_server import serve_stdio  # lazy: the mcp package and the engine (1.4 s of `rag --help`)

    serve_stdio(_engine_location(args))
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate, format_table, plot_recall  # lazy: the engine (0.8 s of `rag --help`)

    engine = _engine(_engine_location(args))
    report = evaluate(engine, args.qa, k=args.k, progress=sys.stderr.isatty(), mode=args.llm)
    print(format_table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if args.plot:
        plot_recall(report, args.plot)
        print(f"recall@k plot: {args.plot}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Grounded question answering over articles, with citations.")
    sub = p.add_subparsers(dest="command", required=True)

    p.add_argument("--debug", action="store_true", help="show the traceback of a failure")

    def with_index(sp):
        sp.add_argument("--index", metavar="DIR", default=None,
                        help="index folder (default: the bundled corpus's index under index/)")
        sp.add_argument("--store", metavar="URL", default=None,
                        help="a Milvus collection instead of an index folder: milvus://HOST:PORT/NAME "
                             "(default: RAG_STORE)")
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of a failure")
        return sp

    sp = with_index(sub.add_parser("ingest", help="index text, Markdown, HTML, PDF or Word (.docx) files, or folders of them"))
    sp.add_argument("paths", nargs="+", metavar="PATH")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--rebuild", action="store_true",
                    help="index only PATHs (drop the files the index held before)")
    sp.set_defaults(func=cmd_ingest)

    sp = with_index(sub.add_parser("remove", help="drop documents from the index (by path, file name or title)"))
    sp.add_argument("docs", nargs="+", metavar="DOC")
    sp.set_defaults(func=cmd_remove)

    sp = with_index(sub.add_parser("check", help="verify an index: file hashes, chunk texts, sentence offsets"))
    sp.set_defaults(func=cmd_check)

    sp = with_index(sub.add_parser("stats", help="documents, chunks, embedder, index type and size on disk"))
    sp.add_argument("--json", action="store_true", help="print the figures as JSON")
    sp.set_defaults(func=cmd_stats)

    sp = with_index(sub.add_parser("ask", help="ask a question"))
    sp.add_argument("question")
    sp.add_argument("--k", type=int, default=None, help="passages to retrieve (default RAG_TOP_K, 5; at most 50)")
    sp.add_argument("--json", action="store_true", help="print the Answer as JSON")
    sp.add_argument("--llm", choices=["none", "openai", "local"], default=None,
                    help="answer mode (default: RAG_LLM, else openai when OPENAI_API_KEY/OPENAI_BASE_URL is set, else none)")
    sp.add_argument("--no-strict", action="store_true",
                    help="keep generated sentences that fail the citation check (marked unsupported)")
    sp.set_defaults(func=cmd_ask)

    sp = with_index(sub.add_parser("serve", help="start the web chat"))
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=7860)
    sp.set_defaults(func=cmd_serve)

    sp = with_index(sub.add_parser("mcp", help="serve search_articles and ask_articles to MCP clients over stdio"))
    sp.set_defaults(func=cmd_mcp)

    sp = with_index(sub.add_parser("eval", help="score retrieval and answers on a QA file (JSONL)"))
    sp.add_argument("qa", metavar="QA.jsonl")
    sp.add_argument("--k", type=int, default=10)
    sp.add_argument("--json", metavar="OUT", default=None, help="write the metrics and per-question details")
    sp.add_argument("--plot", metavar="OUT.png", default=None, help="save a recall@k plot (matplotlib)")
    sp.add_argument("--llm", choices=["none", "openai", "local"], default="none", help="answer mode to evaluate")
    sp.set_defaults(func=cmd_eval)
    return p


def _one_line(text: str, limit: int = 1000) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_line(e: BaseException, args=None) -> tuple[str, int]:
    """The one line (without the ``rag: error:`` prefix) and exit status for a failure ``e``:
    its cause and its fix. Index errors and document errors already name their fix."""
    from .documents import DocumentError  # lazy: only on failure (documents 0.1 s, store 0.2 s)
    from .store import IndexError_  # lazy: only on failure

    index = getattr(args, "index", None) or "the index folder"
    debug = " Run again with --debug for the traceback."
    if isinstance(e, IndexError_):
        if isinstance(e, OSError) and e.strerror:
            return _one_line(e.strerror), 1  # disk full while writing: names the folder and the space
        return _one_line(e), 2
    if isinstance(e, (DocumentError, ValueError, TypeError)):
        return _one_line(e), 2
    if isinstance(e, FileNotFoundError):
        return _one_line(f"{e.strerror}: {e.filename}" if e.filename else e) + \
            " (check the path; folders are walked)", 2
    if isinstance(e, OSError):
        where = e.filename or index
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            folder = Path(where).parent if e.filename else Path(where)
            return _one_line(f"No space left on the disk of {folder} ({e.strerror}); free some space "
                             f"there (at least the size of the files being indexed, twice over) or "
                             f"use --index DIR on another disk."), 1
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return _one_line(f"{e.strerror}: {where}; check that you may read the files and write "
                             f"the index folder, or use --index DIR elsewhere."), 1
        return _one_line(f"{e.strerror or e}: {where}; check the path and the disk.") + debug, 1
    if isinstance(e, MemoryError):
        return ("out of memory; index fewer or smaller files at a time." + debug), 1
    if isinstance(e, RuntimeError):
        return _one_line(e) + debug, 1
    return _one_line(f"unexpected {type(e).__name__}: {e}.") + debug + " Please report it.", 1


class _StderrNotes(logging.Handler):
    """Writes ``rag: MESSAGE`` to the current ``sys.stderr`` (looked up at each note, so a caller
    that swaps the stream, as pytest does, still gets them)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"rag: {record.getMessage()}", file=sys.stderr, flush=True)
        except (OSError, ValueError):  # the reader of stderr left: the note is not worth failing for
            pass


def _say_progress() -> None:
    """Print the library's INFO notes (its loggers under ``rag``) of slow one-time work (the first
    run's ONNX export and index build, ~20 s) on stderr, so the first ``rag ask`` is not silent."""
    log = logging.getLogger("rag")
    if not any(isinstance(h, _StderrNotes) for h in log.handlers):
        log.addHandler(_StderrNotes())
        log.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rag`` console script; returns the exit status: 0 done, 1 failed (the
    disk, the system, a bug), 2 bad input or a damaged index, 130 interrupted, 141 the reader of
    the output left. A failure is one line on stderr; with ``--debug`` its traceback first."""
    args = build_parser().parse_args(argv)
    _say_progress()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `rag ask ... | head`: the reader left; say nothing more
        _to_devnull(sys.stdout)
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it
    except Exception as e:
        if getattr(args, "debug", False):
            traceback.print_exc()
        line, status = error_line(e, args)
        print(f"rag: error: {line}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
