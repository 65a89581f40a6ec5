"""The engine: loads the embedder and an index once, then answers questions.

``Engine()`` opens the bundled corpus's index (``index/default``), building it first when it is
missing or stale (another embedder, chunker version or corpus text). ``Engine(index_dir)`` opens
any index built with ``rag ingest``.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .answerer import ExtractiveAnswerer
from .chunker import CHUNKER_VERSION
from .documents import Document, DocumentError, default_corpus, read_file
from .embedder import Embedder
from .ingest import IngestReport, build_index
from .prompts import EMPTY_QUESTION, TRUNCATED_QUESTION
from .retriever import HybridRetriever
from .settings import MAX_K, MAX_QUESTION_CHARS, Settings
from .store import (FORMAT_VERSION, IndexCorruptError, IndexError_, IndexNotFoundError, check_manifest, check_sizes,
                    current_version, is_milvus, load_index, open_store, read_manifest, rebuild_fix,
                    write_lock)
from .text import strip_invisible
from .types import Answer, Passage
from .vectors import set_search_threads

#: Control characters (C0, DEL, C1): a space in questions (a line or field break separates words).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PRONOUN = re.compile(r"\b(he|she|it|they|him|his|her|its|their|them|this|that|these|those)\b", re.I)


#: How often, in seconds, an engine looks at its index's ``CURRENT`` file for a newer version.
RELOAD_CHECK_S = 0.5


@dataclass(frozen=True)
class _Snapshot:
    """One loaded index version and the components built on it."""

    version: str
    store: object   #: the :class:`rag.store.Store` read by everything below
    retriever: HybridRetriever
    answerer: ExtractiveAnswerer
    checker: object


def default_sources() -> list[Document]:
    """The documents of the default index: the bundled corpus."""
    return [default_corpus()]


def _build_matches(m: dict | None, embedder: Embedder) -> bool:
    return bool(m) and (m.get("embedder") == embedder.name and m.get("dim") == embedder.dim
                        and m.get("chunker_version") == CHUNKER_VERSION and m.get("format") == FORMAT_VERSION)


def index_is_fresh(index_dir: str | Path, documents: list[Document], embedder: Embedder) -> bool:
    """True when ``index_dir`` was made with this embedder, chunker version and store format and
    holds every one of ``documents`` (by text hash); it may hold more (files a user added)."""
    m = read_manifest(index_dir)
    if not _build_matches(m, embedder):
        return False
    have = {s.get("sha256", "") for s in m.get("sources", [])}
    return all(d.sha256 in have for d in documents)


def recorded_sources(index_dir: str | Path) -> tuple[list[Document], list[str], list[str]]:
    """Re-read the files an index was built from (its manifest's sources that are file paths).
    Returns ``(documents, skipped reasons, removed)``: ``removed`` names the files that no longer
    exist (they drop out of the index); bundled sources are not included. Raises
    :class:`~rag.store.IndexCorruptError` when ``CURRENT`` or the manifest's sources are damaged
    (the files the index held cannot be known: ``rag ingest --rebuild`` starts afresh)."""
    current_version(index_dir)  # garbage in CURRENT: IndexCorruptError, not a silent fresh start
    m = read_manifest(index_dir) or {}
    sources = m.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(x, dict) and isinstance(x.get("source", ""), str)
                                                for x in sources):
        raise IndexCorruptError(f"The index at {index_dir} is damaged (its manifest's list of sources is "
                                f"unreadable). {rebuild_fix(index_dir)}")
    docs, skipped, removed = [], [], []
    for src in sources:
        path = src.get("source", "")
        if path.startswith("bundled:"):
            continue
        try:
            docs.append(read_file(path))
        except FileNotFoundError:
            removed.append(f"{path}: the file is gone")
        except (DocumentError, OSError) as e:
            skipped.append(f"{path}: no longer readable ({e})")
    return docs, skipped, removed


def ensure_default_index(index_dir: str | Path, embedder: Embedder) -> IngestReport | None:
    """Build the default index at ``index_dir`` when it is missing or stale (another embedder,
    chunker version, store format or bundled text); files a user added with ``rag ingest`` are
    re-read and kept. Returns the build's report, or ``None`` when the index was fresh. Safe
    against concurrent starters: the build runs under the writer lock and re-checks first."""
    docs = default_sources()
    if index_is_fresh(index_dir, docs, embedder):
        return None
    with write_lock(index_dir):
        if index_is_fresh(index_dir, docs, embedder):
            return None
        try:
            extra, skipped, removed = recorded_sources(index_dir)
        except IndexCorruptError as e:  # a damaged default index is rebuilt from the bundled corpus
            extra, skipped, removed = [], [f"files added before: lost ({e})"], []
        return build_index(docs + extra, index_dir, embedder=embedder, lock=False, skipped=skipped,
                           removed=removed)


def clean_question(question: str, embedder: Embedder) -> tuple[str, list[str]]:
    """Validate and normalise a question: returns ``(question, notices)``.

    Control characters become spaces, soft hyphens, zero-width and bidi-control characters are
    removed, and runs of whitespace become one space; a question over the embedder's window (256 tokens; first cut to
    ``MAX_QUESTION_CHARS`` characters) is cut to it, with a notice in ``notices``. Raises
    ``ValueError`` (plain message) when it is empty or only whitespace, and ``TypeError`` when it
    is not a string.
    """
    if not isinstance(question, str):
        raise TypeError(f"question must be a string, not {type(question).__name__}")
    question = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    q = " ".join(_CONTROL.sub(" ", strip_invisible(question)).split())
    if not q:
        raise ValueError(EMPTY_QUESTION)
    notices = []
    n_chars = len(q)
    if n_chars > MAX_QUESTION_CHARS:
        q = q[:MAX_QUESTION_CHARS]
    cut = embedder.truncate(q)
    if len(cut) < n_chars:
        notices.append(TRUNCATED_QUESTION.format(n_chars=n_chars, kept=len(cut),
                                                 max_tokens=embedder.max_tokens))
        q = cut
    return q, notices


def _text_of(content) -> str | None:
    """The text of a message's content: a string; a list of content blocks (OpenAI's and Gradio's
    ``{"type": "text", "text": ...}``, or plain strings; files and images are skipped); or one such
    block. ``None`` when it holds no text."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        return text if isinstance(text, str) else None
    if isinstance(content, (list, tuple)):
        parts = [t for t in map(_text_of, content) if t]
        return " ".join(parts) if parts else None
    return None


def _turns(history: list | None) -> list[str]:
    """The user turns of a chat history, as text. Accepted forms: ``[(user, assistant), ...]``
    pairs; role/content messages as dicts (``{"role": "user", "content": ...}``) or objects with
    ``role`` and ``content`` attributes (Gradio's ``ChatMessage``), whose content is a string or a
    list of content blocks (:func:`_text_of`)."""
    out = []
    for turn in history or []:
        role = turn.get("role") if isinstance(turn, dict) else getattr(turn, "role", None)
        if role is not None:
            content = turn.get("content") if isinstance(turn, dict) else getattr(turn, "content", None)
            text = _text_of(content) if role == "user" else None
            if text and text.strip():
                out.append(text)
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            out.append(turn[0])
    return out


def _names(text: str, question: str) -> list[str]:
    """Capitalised names in ``text`` not already in ``question``: mid-sentence ones first, else
    any that do not open with a question word."""
    names = re.findall(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*", text)
    names = [n for n in names if n.lower() not in question.lower()]
    if not names:
        words = re.findall(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*", text)
        names = [w for w in words if w.split()[0].lower() not in _QUESTION_WORDS and w.lower() not in question.lower()]
    return names


_QUESTION_WORDS = {"who", "what", "when", "where", "why", "how", "which", "is", "did", "does", "do", "was", "are"}

#: How many earlier user turns a follow-up may reach back for the names its pronouns stand for.
CONDENSE_TURNS = 3


def condense_offline(question: str, history: list | None) -> str:
    """Rewrite a follow-up into a standalone question without a model: when the question leans
    on a pronoun ("When was he elected?"), the capitalised names of the latest of the last
    :data:`CONDENSE_TURNS` user turns that has any are carried over ("When was he elected? (Meng
    Hongwei)"); a 3rd turn reaches the names of the 1st when the 2nd was a follow-up too. Other
    questions pass unchanged."""
    turns = _turns(history)
    if not turns or not _PRONOUN.search(question):
        return question
    for prev in reversed(turns[-CONDENSE_TURNS:]):
        names = _names(prev, question)
        if names:
            return f"{question} ({', '.join(dict.fromkeys(names))})"
    return question


def question_threading(embedder: Embedder, threads: int | None = None) -> None:
    """Set the threading an engine answers with (process-wide): the embedder on ``threads``
    (default :attr:`Embedder.query_threads`), FAISS searches and numpy's BLAS on one thread.
    Idle BLAS threads busy-wait and took the embedder's second core (8 ms questions became
    17 ms); a FAISS search of one question is fastest on one thread. Source of the BLAS control:
    threadpoolctl."""
    from threadpoolctl import threadpool_limits

    embedder.set_threads(threads or embedder.query_threads)
    set_search_threads(1)
    threadpool_limits(1, user_api="blas")


class Engine:
    """Loads the model and one index once; answers questions with cited passages.

    Example::

        from rag import Engine
        engine = Engine()                      # bundled Interpol corpus, built on first use
        answer = engine.ask("Who is Meng Hongwei?")
        print(answer.text, [c.title for c in answer.citations])

    Thread-safe: ``ask`` and ``retrieve`` may be called from many threads at once. Opening an
    engine sets the process-wide threading of :func:`question_threading`.
    Raises :class:`rag.store.IndexNotFoundError`, :class:`rag.store.IndexMismatchError` or
    :class:`rag.store.IndexCorruptError` when ``index_dir`` cannot be used.
    """

    def __init__(self, index_dir: str | Path | None = None, *, settings: Settings | None = None,
                 embedder: Embedder | None = None):
        self.settings = settings or Settings.from_env()
        self.embedder = embedder or Embedder()
        self.built: IngestReport | None = None
        if index_dir is None:
            index_dir = self.settings.default_index_dir
            self.built = ensure_default_index(index_dir, self.embedder)
        #: an index folder (Path), or a ``milvus://HOST:PORT/COLLECTION`` location (str)
        self.index_dir = index_dir if is_milvus(index_dir) else Path(index_dir)
        self._snap = self._load()
        self._checked = time.monotonic()
        self._reload_lock = threading.Lock()
        self._chats: dict = {}
        self._chat_lock = threading.Lock()
        question_threading(self.embedder, self.settings.embed_threads)  # after any build of the index
        self.embedder.encode(["warm-up"])  # load the model now, not on the first question

    def _load(self) -> _Snapshot:
        store = open_store(self.index_dir, embedder_name=self.embedder.name, dim=self.embedder.dim)
        retriever = HybridRetriever(store, alpha=self.settings.alpha, rerank=self.settings.rerank)
        answerer = ExtractiveAnswerer(store, refuse_below=self.settings.refuse_below)
        from .grounding import CitationChecker

        return _Snapshot(store.version, store, retriever, answerer, CitationChecker(answerer.stats, self.embedder, store))

    def snapshot(self) -> _Snapshot:
        """The index version questions are answered from now: the live version on disk, checked at
        most every :data:`RELOAD_CHECK_S` seconds. A version committed by any process (``rag
        ingest``, ``rag remove``, another server) is loaded once, by one thread, while the others
        keep answering from the old one; a question uses one snapshot from start to end, so it
        never mixes two versions. A version that cannot be loaded (removed by a newer commit while
        being read, or damaged) leaves the current one in use until the next check."""
        now = time.monotonic()
        if now - self._checked < RELOAD_CHECK_S or not self._reload_lock.acquire(blocking=False):
            return self._snap
        try:
            self._checked = now
            try:
                live = self._snap.store.live_version()
            except (IndexError_, OSError):  # CURRENT mid-replace or damaged: look again next time
                live = None
            if live is not None and live != self._snap.version:
                try:
                    self._snap = self._load()
                except (IndexError_, OSError):
                    pass  # keep answering from the version in memory; try again at the next check
            return self._snap
        finally:
            self._reload_lock.release()

    @property
    def store(self):
        """The :class:`rag.store.Store` of the current snapshot."""
        return self.snapshot().store

    @property
    def stored(self):
        """The loaded index folder (:class:`rag.store.StoredIndex`) of the current snapshot; for
        the Milvus backend, its store."""
        store = self.snapshot().store
        return getattr(store, "stored", store)

    @property
    def retriever(self) -> HybridRetriever:
        return self.snapshot().retriever

    @property
    def answerer(self) -> ExtractiveAnswerer:
        return self.snapshot().answerer

    @property
    def checker(self):
        """The citation checker (:class:`rag.grounding.CitationChecker`) of the current snapshot."""
        return self.snapshot().checker

    @property
    def chunks(self):
        """All chunks of the index (in row order for the embedded backend)."""
        return self.store.all_chunks()

    def retrieve(self, question: str, *, k: int | None = None) -> list[Passage]:
        """Top-``k`` passages for ``question`` (hybrid dense + BM25), best first."""
        q, _ = clean_question(question, self.embedder)
        return self.retriever.retrieve(q, self.embedder.encode([q])[0], k or self.settings.k)

    def llm_config(self, mode: str | None = None):
        """The :class:`rag.llm.LLMConfig` for ``mode`` (``None``: from the environment)."""
        from .llm import LLMConfig

        return LLMConfig.from_env(mode)

    def _chat(self, config):
        from .llm import make_chat

        key = (config.mode, config.model, config.base_url, hash(config.api_key), config.timeout, config.retries)
        with self._chat_lock:
            if key not in self._chats:
                self._chats[key] = make_chat(config)
            return self._chats[key]

    def _condense(self, question: str, history: list | None, chat) -> str:
        """Standalone form of a follow-up: by the LLM when one is configured, else offline."""
        if not history or chat is None:
            return condense_offline(question, history)
        from .llm import LLMError
        from .prompts import CONDENSE_PROMPT

        lines = [f"User: {t}" for t in _turns(history)[-3:]]
        try:
            text = chat.complete([{"role": "user", "content": CONDENSE_PROMPT.format(
                history="\n".join(lines), question=question)}], max_tokens=60)
        except LLMError:
            return condense_offline(question, history)
        text = " ".join(text.strip().strip('"').split())
        return text if 0 < len(text) <= 500 else condense_offline(question, history)

    def ask_stream(self, question: str, *, k: int | None = None, history: list | None = None,
                   mode: str | None = None, strict: bool = True, stream: bool = True):
        """Streaming form of :meth:`ask`: yields text deltas (``str``) of a generated answer as they
        arrive, then the final, citation-checked :class:`Answer` (always the last item). Offline
        mode yields only the Answer. Raises ``ValueError`` for an empty question or a bad mode."""
        from .llm import LLMError
        from .grounding import MODEL_REFUSED
        from .prompts import FALLBACK_NOTICE, GATE_REASON, UNSUPPORTED_NOTICE, qa_messages

        k = self.settings.k if k is None else int(k)
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        q, notices = clean_question(question, self.embedder)
        config = self.llm_config(mode)
        chat = self._chat(config)
        standalone = self._condense(q, history, chat)
        qvec = self.embedder.encode([standalone])[0]
        snap = self.snapshot()  # one index version for the whole question
        passages = snap.retriever.retrieve(standalone, qvec, k)
        views = [snap.checker.view(p) for p in passages]  # sentences, vectors, text addressed to an AI
        planted = snap.checker.instructions(views)  # never an answer
        answer = snap.answerer.run(standalone, qvec, passages, skip=planted)
        answer.flagged = [{"chunk_id": p.chunk.id, "title": p.chunk.title, "instructions": planted[p.chunk.id]}
                          for p in passages if p.chunk.id in planted]
        if chat is not None and answer.refused:
            answer.reason = GATE_REASON + answer.reason
            answer.mode = config.mode
        elif chat is not None:
            messages = qa_messages(standalone, passages)
            try:
                if stream:
                    parts = []
                    for delta in chat.stream(messages):
                        parts.append(delta)
                        yield delta
                    reply = "".join(parts)
                else:
                    reply = chat.complete(messages)
                checked = snap.checker.verify(standalone, reply, passages, strict=strict, views=views)
                if checked.refused and not answer.refused and checked.reason != MODEL_REFUSED:
                    # nothing the model wrote held up against its sources: the extractive answer
                    # (every sentence quoted from them) instead, said plainly
                    notices.append(UNSUPPORTED_NOTICE)
                else:
                    answer = checked
                    answer.mode = config.mode
            except LLMError as e:
                notices.append(FALLBACK_NOTICE.format(error=str(e)))
        answer.question = question
        answer.standalone_question = standalone
        answer.notices = notices + answer.notices
        yield answer

    def ask(self, question: str, *, k: int | None = None, history: list | None = None,
            mode: str | None = None, strict: bool = True) -> Answer:
        """Answer ``question`` from the index, with citations, or refuse.

        ``history`` holds earlier turns (``[(user, assistant), ...]`` or role/content messages);
        a follow-up is rewritten into a standalone question for retrieval. ``mode`` is ``none``
        (extractive), ``openai`` or ``local`` (default: ``RAG_LLM`` / the environment); generated
        answers have every citation checked (:mod:`rag.grounding`), and with ``strict`` unsupported
        sentences are removed. A failing model gives the extractive answer with a notice.
        Raises ``ValueError`` for an empty question, ``k`` outside 1..50 or an unknown mode.
        """
        *_, answer = self.ask_stream(question, k=k, history=history, mode=mode, strict=strict, stream=False)
        return answer


def list_indexes(root: str | Path) -> list[Path]:
    """Index folders directly under ``root`` (those with a ``CURRENT`` version), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "CURRENT").is_file())


_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The process-wide engine over the bundled corpus (created on first call, thread-safe)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Engine()
    return _default


def ask(question: str, *, k: int | None = None, history: list | None = None, mode: str | None = None,
        strict: bool = True) -> Answer:
    """Answer ``question`` from the bundled articles (or ``RAG_INDEX_ROOT``'s default index).

    Returns an :class:`~rag.types.Answer` whose text cites passages as ``[n]``, or a refusal
    (``refused=True``, text :data:`rag.prompts.CANNOT_ANSWER`, ``reason`` with the scores).
    ``k`` defaults to ``RAG_TOP_K`` (5). Raises ``ValueError`` with a plain message when the
    question is empty or whitespace, or ``k`` is outside 1..50.
    """
    return default_engine().ask(question, k=k, history=history, mode=mode, strict=strict)


def ask_stream(question: str, *, k: int | None = None, history: list | None = None, mode: str | None = None,
               strict: bool = True):
    """Streaming :func:`ask`: yields text deltas, then the final checked :class:`Answer`."""
    yield from default_engine().ask_stream(question, k=k, history=history, mode=mode, strict=strict)


def ingest(paths: list[str | Path], index_dir: str | Path, *, include_default: bool = False,
           rebuild: bool = False, show_progress: bool = False, embedder: Embedder | None = None) -> IngestReport:
    """Add the text, Markdown, HTML, PDF and Word files under ``paths`` (files or folders) to the index
    at ``index_dir``.

    The index keeps the files it already holds (re-read from their paths; a file read again
    replaces its old version) unless ``rebuild`` is true, in which case it holds only ``paths``
    (plus the bundled corpus when ``include_default``). Files that cannot be used (binary, empty,
    no text layer, over the size limit, unreadable) are skipped with a one-line reason each in
    ``report.skipped``. Raises ``ValueError`` when no document could be read and
    ``FileNotFoundError`` for a path that does not exist.
    """
    from .documents import iter_paths

    new, skipped = [], []
    for path in iter_paths(paths):
        try:
            new.append(read_file(path))
        except DocumentError as e:
            skipped.append(" ".join(str(e).split()))
        except OSError as e:
            skipped.append(f"{path.name}: cannot be read ({e.strerror or e})")
    with write_lock(index_dir):
        old, old_skipped, removed = ([], [], []) if rebuild else recorded_sources(index_dir)
        fresh = {d.source for d in new}
        docs = (default_sources() if include_default else []) + [d for d in old if d.source not in fresh] + new
        if not docs:
            raise ValueError("No readable documents: " + "; ".join(skipped or ["no files found"]))
        return build_index(docs, index_dir, skipped=skipped + old_skipped, show_progress=show_progress,
                           embedder=embedder, lock=False, removed=removed)


def _matches(src: dict, name: str) -> bool:
    path = src.get("source", "")
    try:
        resolved = str(Path(name).resolve())
    except OSError:
        resolved = name
    # the titles its articles are cited under count too (`rag stats` lists them)
    return name in (path, src.get("title"), *src.get("articles", [])) or resolved == path or Path(path).name == name


def remove_documents(names: list[str], index_dir: str | Path, *, embedder: Embedder | None = None) -> IngestReport:
    """Drop documents from the index at ``index_dir``; each name is a file path as ingested, its
    file name, its title, or a title its articles are cited under. The rest is kept without re-embedding (vectors are reused).

    Raises ``ValueError`` when a name matches no document, or when nothing would be left (delete
    the index folder instead), and :class:`~rag.store.IndexNotFoundError` when there is no index.
    """
    with write_lock(index_dir):
        m = read_manifest(index_dir)
        if m is None:
            raise IndexNotFoundError(f"No index at {index_dir}.")
        sources = m.get("sources", [])
        gone = []
        for n in names:
            hits = [s for s in sources if _matches(s, n)]
            if not hits:
                held = ", ".join(Path(s["source"]).name for s in sources) or "nothing"
                raise ValueError(f"No document {n!r} in the index at {index_dir} (it holds: {held}).")
            gone += [s for s in hits if s not in gone]
        keep = [s for s in sources if s not in gone]
        if not keep:
            raise ValueError(f"Removing {', '.join(names)} would leave the index at {index_dir} empty; "
                             f"delete the folder instead.")
        docs = default_sources() if any(s["source"].startswith("bundled:") for s in keep) else []
        old, skipped, removed = recorded_sources(index_dir)
        kept_paths = {s["source"] for s in keep}
        docs += [d for d in old if d.source in kept_paths]
        return build_index(docs, index_dir, embedder=embedder, lock=False, skipped=skipped,
                           removed=removed + [s["source"] for s in gone])


def index_stats(index_dir: str | Path) -> dict:
    """Figures of the index at ``index_dir``: documents, chunks, sentences, embedder, index type,
    size on disk (bytes, live version), creation time and the documents with their chunk counts
    and the titles their articles are cited under.
    Raises :class:`~rag.store.IndexNotFoundError` when there is no index and
    :class:`~rag.store.IndexCorruptError` (or ``IndexMismatchError`` for another format) when its
    manifest is damaged or a file it lists is missing or of the wrong size."""
    version = current_version(index_dir)
    if version is None:
        raise IndexNotFoundError(f"No index at {index_dir}. Build one with: rag ingest PATH... --index {index_dir}")
    try:
        m = json.loads((version / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"The index at {index_dir} is damaged (its manifest is unreadable: "
                                f"{type(e).__name__}). {rebuild_fix(index_dir)}") from e
    check_manifest(m, index_dir)
    check_sizes(version, m, index_dir)
    size = sum(f.stat().st_size for f in version.rglob("*") if f.is_file())
    return {"index": str(index_dir), "version": version.name, "documents": len(m.get("sources", [])),
            "chunks": m.get("count"), "sentences": m.get("sentences"), "embedder": m.get("embedder"),
            "dim": m.get("dim"), "index_type": m.get("index_type"), "bytes_on_disk": size,
            "created": m.get("created"), "duplicates_dropped": m.get("duplicates_dropped", 0),
            "sources": [{"source": s.get("source"), "title": s.get("title"), "chunks": s.get("chunks"),
                         "articles": s.get("articles", [])}
                        for s in m.get("sources", [])]}
