"""The engine: loads the embedder and an index once, then answers questions.

``Engine()`` opens the bundled corpus's index (``index/default``), building it first when it is
missing or stale (another embedder, chunker version or corpus text). ``Engine(index_dir)`` opens
any index built with ``rag ingest``. Building and changing indexes (the index lifecycle) is
:mod:`rag.indexes`'s.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from . import claims
from .answerer import ExtractiveAnswerer
from .embedder import Embedder
from .grounding import MODEL_REFUSED, CitationChecker, StreamedReply
from .indexes import ensure_default_index
from .ingest import IngestReport
from .llm import LLMConfig, LLMError, make_chat
from .prompts import (CONDENSE_PROMPT, EMPTY_QUESTION, FALLBACK_NOTICE, GATE_REASON, TRUNCATED_QUESTION,
                      UNSUPPORTED_NOTICE, qa_messages)
from .retriever import HybridRetriever
from .settings import MAX_K, MAX_QUESTION_CHARS, Settings
from .store import IndexError_, is_milvus, open_store
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
        if index_dir is None and self.settings.store:
            index_dir = self.settings.store  # RAG_STORE: a Milvus collection
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
    def index_name(self) -> str:
        """A short name of the index: its folder's name, or ``NAME (Milvus)`` for a collection."""
        if isinstance(self.index_dir, Path):
            return self.index_dir.name
        return f"{str(self.index_dir).rstrip('/').rsplit('/', 1)[-1]} (Milvus)"

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
        return LLMConfig.from_env(mode)

    def _chat(self, config):
        key = (config.mode, config.model, config.base_url, hash(config.api_key), config.timeout, config.retries)
        with self._chat_lock:
            if key not in self._chats:
                self._chats[key] = make_chat(config)
            return self._chats[key]

    def _condense(self, question: str, history: list | None, chat) -> str:
        """Standalone form of a follow-up: by the LLM when one is configured, else offline."""
        if not history or chat is None:
            return condense_offline(question, history)
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
        """Streaming form of :meth:`ask`: yields the sentences (``str``) of a generated answer as
        each is written and its citation checked (a sentence that fails the check is never
        yielded; the last one comes with the answer), then the final, citation-checked
        :class:`Answer` (always the last item). Offline mode yields only the Answer.
        ``stream=False`` asks the server for the whole reply at once (for a server that cannot
        stream) and checks it after it arrives. Raises ``ValueError`` for an empty question or a
        bad mode."""
        k = self.settings.k if k is None else int(k)
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        q, notices = clean_question(question, self.embedder)
        config = self.llm_config(mode)
        chat = self._chat(config)
        if chat is not None:  # the claim check's parser loads while retrieval runs and the model
            claims.load_in_background()  # writes, not after its last token (a process's first question)
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
                streamed = None
                if stream:  # each sentence is checked as soon as the next one starts; only those that hold are shown
                    streamed = StreamedReply(snap.checker, passages, views)
                    for delta in chat.stream(messages):
                        shown = streamed.add(delta)
                        if shown:
                            yield shown
                    reply = streamed.text
                else:
                    reply = chat.complete(messages)
                checked = snap.checker.verify(standalone, reply, passages, strict=strict, views=views,
                                              streamed=streamed)
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
        The model's reply is streamed and each sentence checked while the next is written, so
        the check adds little to the wait after the model's last token (see :meth:`ask_stream`).
        Raises ``ValueError`` for an empty question, ``k`` outside 1..50 or an unknown mode.
        """
        *_, answer = self.ask_stream(question, k=k, history=history, mode=mode, strict=strict)
        return answer


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
    """Streaming :func:`ask`: yields the checked sentences of a generated answer, then the final :class:`Answer`."""
    yield from default_engine().ask_stream(question, k=k, history=history, mode=mode, strict=strict)
