"""The Gradio chat over an index, using only ``rag``'s public API.

``build_app(engine)`` returns the ``gr.Blocks``; ``launch(engine)`` serves it on 127.0.0.1 by default
(``rag serve`` calls it),
with share links off. The named endpoint ``/ask`` returns the ``Answer`` fields as JSON::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Who is Meng Hongwei?", 5, api_name="/ask")
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import tempfile
import uuid

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

import shutil  # noqa: E402
import threading  # noqa: E402
import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402

from rag import (CANNOT_ANSWER, SUFFIXES, Answer, ConversationNotFound, ConversationStore, Engine,  # noqa: E402
                 Settings, add_documents, list_indexes)
from rag.mcp_server import http_mount  # noqa: E402
from rag.text import strip_invisible  # noqa: E402
from rag.openai_compat import api_keys_from_env, auth_from_env, openai_router  # noqa: E402,F401  (auth_from_env: re-exported)

#: Longest question the chat shows and saves, in characters (the engine reads at most its window
#: of 256 tokens; the rest is cut with a notice).
MAX_SHOWN_QUESTION = 2000

#: Largest file the chat accepts for upload, in MB (``RAG_UI_MAX_UPLOAD_MB``, read at import).
MAX_UPLOAD_MB = Settings.from_env().ui_max_upload_mb


def safe_name(name: str) -> str:
    """A file name safe to store: the last path component only (no ``..`` or folders), letters,
    digits, spaces, dots, dashes and underscores, no leading dot, at most 100 characters.
    "../../etc/passwd" -> "passwd"; "Café report.pdf" stays."""
    base = unicodedata.normalize("NFKC", name.replace("\\", "/").split("/")[-1])
    base = re.sub(r"[^\w .-]", "_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if dot and len(base) > 100:
        base = stem[: 99 - len(suffix)] + "." + suffix
    return base[:100] or "upload"


def user_key(user: str) -> str:
    """A user's folder name under the index root's ``users/``: a hash, so logins and browser ids
    never become paths."""
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:20]


def slug(name: str, space: str = "_") -> str:
    """A name safe as a folder or file name, from all of ``name`` (not just its last path
    component): letters, digits, dots, dashes and underscores; other runs become ``space``.
    "Q3 2024/2025 report" -> "Q3_2024_2025_report"; "" or "../.." -> ""."""
    text = unicodedata.normalize("NFKC", name)
    return re.sub(r"[^\w.-]+", space, text).strip(space + ".-_")[:100]


class EnginePool:
    """The engines of the chat's indexes, one per index folder, shared by every session (an
    engine is read-only and follows its index on disk, see :meth:`rag.Engine.snapshot`). What a
    session sees (its index, uploads, conversation) lives in the session, not here."""

    def __init__(self, engine: Engine):
        self.default = engine
        self.root = Path(engine.settings.index_root)
        self._cache = {str(engine.index_dir): engine}
        self._lock = threading.Lock()

    def get(self, index_dir: str) -> Engine:
        """The engine of ``index_dir`` (opened on first use). Raises the store's index errors."""
        with self._lock:
            if index_dir not in self._cache:
                self._cache[index_dir] = Engine(index_dir, embedder=self.default.embedder)
            return self._cache[index_dir]

    def user_dir(self, user: str) -> Path:
        """Where ``user``'s collections and uploaded files live."""
        return self.root / "users" / user_key(user)

    def choices(self, user: str) -> list[tuple[str, str]]:
        """``(label, index folder)`` of the indexes ``user`` may use: the starting index, the
        shared ones under the index root, and the user's own collections."""
        out = {str(self.default.index_dir): self.default.index_name}
        for p in list_indexes(self.root):
            out.setdefault(str(p), p.name)
        for p in list_indexes(self.user_dir(user) / "collections"):
            out.setdefault(str(p), f"{p.name} (my collection)")
        return [(label, path) for path, label in out.items()]

    def add_files(self, user: str, collection: str, paths: list[str]) -> tuple[str, str | None]:
        """Copy uploaded files (allowed types, size limit, safe names) into ``user``'s collection
        ``collection`` (created if new) and index them. Returns ``(Markdown report, the
        collection's index folder or None when nothing was added)``. Shared indexes and the bundled
        default are never changed from the browser."""
        name = slug(collection or "", "-")[:60]
        if not name:
            return "Name the collection to add the files to.", None
        base = self.user_dir(user)
        folder, index_dir = base / "uploads" / name, base / "collections" / name
        folder.mkdir(parents=True, exist_ok=True)
        kept, notes = [], []
        for src in paths:
            fname = safe_name(Path(src).name)
            suffix = Path(fname).suffix.lower()
            size = Path(src).stat().st_size
            if suffix not in SUFFIXES:
                notes.append(f"{fname}: not accepted (allowed: {', '.join(sorted(SUFFIXES))})")
            elif size > MAX_UPLOAD_MB * 1e6:
                notes.append(f"{fname}: {size / 1e6:.1f} MB is over the {MAX_UPLOAD_MB:g} MB limit")
            else:
                dest = folder / fname
                shutil.copyfile(src, dest)
                kept.append(dest)
        if not kept:
            return "\n".join(f"- {md_escape(n)}" for n in notes) or "Nothing to add.", None
        try:
            report = add_documents(kept, index_dir, embedder=self.default.embedder)
        except ValueError as e:
            return md_escape(str(e)), None
        added_n = sum(1 for d in kept if not any(r.startswith(d.name + ":") for r in report.skipped))
        notes = [f"added {added_n} file(s) to the collection {name}: it now holds {report.documents} "
                 f"document(s), {report.chunks} passages"] + [f"skipped {r}" for r in report.skipped] + notes
        return "\n".join(f"- {md_escape(n)}" for n in notes), str(index_dir)


EXAMPLES = [
    "How many active Chinese investigations were running through Interpol by September 2017?",
    "Why is Taiwan denied observer status at Interpol?",
    "Who handled much of Interpol's day-to-day work after Meng Hongwei left?",
    "What would Australia's draft telecommunications bill require companies to do?",
]

CSS = """
.answer-sources { display: none; }
.answer-sources.shown { display: block; }
.answer-sources h4 { margin: 4px 0; color: #374151; }
.source { border-left: 3px solid #2563eb; padding: 6px 10px; margin: 8px 0; }
.source mark { background: #fde68a; }
.source.active { background: #eff6ff; outline: 2px solid #2563eb; }
.source.active mark { background: #facc15; }
.refusal { border-left: 3px solid #b45309; padding: 6px 10px; background: #fff7ed; }
.planted { border-left: 3px solid #b91c1c; padding: 6px 10px; background: #fef2f2; margin-bottom: 8px; }
.other-source { border-left: 3px solid #d1d5db; padding: 4px 10px; margin: 6px 0; color: #374151; }
"""

#: Clicking a citation chip [n] of answer t in the chat shows answer t's sources in the panel,
#: scrolls to passage n and marks it (chips link to ``#source-t-n``).
HEAD = """
<script>
document.addEventListener("click", (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href^="#source-"]');
  if (!a) return;
  ev.preventDefault(); ev.stopPropagation();
  const el = document.getElementById(a.getAttribute("href").slice(1));
  if (!el) return;
  const section = el.closest(".answer-sources");
  document.querySelectorAll(".answer-sources.shown").forEach((x) => x.classList.remove("shown"));
  if (section) section.classList.add("shown");
  document.querySelectorAll(".source.active").forEach((x) => x.classList.remove("active"));
  el.classList.add("active");
  el.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
</script>
"""

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")


def md_escape(text: str) -> str:
    """Text shown literally by the chat's Markdown renderer: HTML-escaped, Markdown marks
    backslash-escaped (a document's ``<script>`` or ``**`` is shown, never interpreted)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def with_chips(escaped: str, turn: int = 1) -> str:
    """Turn the escaped ``[n]`` markers of answer ``turn`` into links to ``#source-turn-n``
    (citation chips: each answer's chips open that answer's own passages)."""
    return re.sub(r"\\\[(\d+)\\\]", rf"[\[\1\]](#source-{turn}-\1)", escaped)


def sources_html(answer, turn: int = 1, *, shown: bool = True) -> str:
    """The sources of answer ``turn``: each cited passage (``id="source-turn-n"``) with its title
    (linked to its URL), paragraph number and text, the quoted sentences highlighted; then the
    other retrieved passages. Wrapped in a section ``id="answer-turn"`` shown only when ``shown``
    (a chip of that answer shows it). Every string HTML-escaped."""
    head = (f'<div class="answer-sources{" shown" if shown else ""}" id="answer-{turn}">'
            f"<h4>Answer {turn}: {html.escape(answer.question)}</h4>")
    planted = _planted(answer)
    if answer.refused:
        return (head + planted + f'<div class="refusal"><b>No answer in the articles.</b><br>'
                f"{html.escape(answer.reason)}</div>" + _others(answer, set()) + "</div>")
    parts = []
    by_id = {p.chunk.id: p for p in answer.passages}
    for c in answer.citations:
        title = html.escape(c.cited_as)
        link = (f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener">{title}</a>' if c.url
                else f'{title} <span class="file">({html.escape(c.file)})</span>' if c.file else title)
        text = by_id[c.chunk_id].chunk.text if c.chunk_id in by_id else c.quote
        i = text.find(c.quote)
        body = (html.escape(text[:i]) + "<mark>" + html.escape(c.quote) + "</mark>" + html.escape(text[i + len(c.quote):])
                if i >= 0 else "<mark>" + html.escape(c.quote) + "</mark>")
        page = f", page {c.page}" if c.page else ""
        parts.append(f'<div class="source" id="source-{turn}-{c.number}"><b>[{c.number}]</b> {link} '
                     f"<small>(paragraph {c.paragraph}{page}{_match(by_id.get(c.chunk_id))})</small>"
                     f"<p>{body}</p></div>")
    return (head + planted + "\n".join(parts) + _others(answer, {c.chunk_id for c in answer.citations})
            + "</div>")


def panel_html(answers: list) -> str:
    """The sources panel of a conversation: every answer's sources, the latest shown."""
    if not answers:
        return EMPTY_SOURCES
    return "\n".join(sources_html(a, t, shown=t == len(answers)) for t, a in enumerate(answers, 1))


#: The sources panel before any answer.
EMPTY_SOURCES = "<i>Cited passages appear here.</i>"

#: Shown for a source holding text addressed to an AI (rag.instructions).
PLANTED_NOTICE = "This source contains instructions addressed to an AI; they were not followed."


def _planted(answer) -> str:
    """A notice for each retrieved passage that holds instructions to an AI, with the passage's
    text shown as text."""
    out = []
    by_id = {p.chunk.id: p for p in answer.passages}
    for f in answer.flagged:
        p = by_id.get(f["chunk_id"])
        text = p.chunk.text if p else " ".join(f["instructions"])
        out.append(f'<div class="planted"><b>⚠️ {html.escape(f["title"])}:</b> {PLANTED_NOTICE}'
                   f"<p>{html.escape(text)}</p></div>")
    return "\n".join(out)


def _match(p) -> str:
    """", retrieved #rank, similarity 0.81" for a passage (cosine similarity to the question: the
    second stage's score is a share among candidates, not a measure a reader can compare)."""
    if p is None:
        return ""
    return f", retrieved #{p.rank}" + (f", similarity {p.dense:.2f}" if p.dense is not None else f", score {p.score:.2f}")


def _others(answer, cited: set) -> str:
    """The retrieved passages that were not cited, ranked with their scores, collapsed."""
    rest = [p for p in answer.passages if p.chunk.id not in cited]
    if not rest:
        return ""
    items = "".join(
        f'<div class="other-source"><b>#{p.rank}</b> {html.escape(p.chunk.title)} '
        f"<small>(paragraph {p.chunk.paragraph}{_match(p)})</small>"
        f"<p>{html.escape(p.chunk.text)}</p></div>" for p in rest)
    return f"<details><summary>Other retrieved passages ({len(rest)})</summary>{items}</details>"


MODES = {"Offline (extractive)": "none", "LLM server (OpenAI-compatible)": "openai",
         "Local model (SmolLM2)": "local"}


def chat_text(answer, turn: int = 1) -> str:
    """The chat bubble of answer ``turn``: the answer (escaped) with its chips, the short answer
    in bold, notices and, for a refusal, its reason."""
    # the short answer in bold: marked with control characters md_escape leaves alone, then **
    text = with_chips(md_escape(answer.marked("\x02", "\x03")).replace("\x02", "**").replace("\x03", "**"), turn)
    if answer.refused:
        text = f"⚠️ **No answer in the articles.** {md_escape(answer.text)}\n\n*Why: {md_escape(answer.reason)}*"
    if answer.standalone_question and answer.standalone_question != answer.question:
        text = f"*Searched for: {md_escape(answer.standalone_question)}*\n\n" + text
    for n in answer.notices:
        text += f"\n\nℹ️ *Note: {md_escape(n)}*"
    for f in answer.flagged:
        text += f"\n\n⚠️ *{md_escape(f['title'])}: {md_escape(PLANTED_NOTICE)}*"
    return text


def chat_messages(answers: list) -> list[dict]:
    """The chat's messages for a conversation's answers (a reopened conversation)."""
    out = []
    for t, a in enumerate(answers, 1):
        out += [{"role": "user", "content": md_escape(a.question)},
                {"role": "assistant", "content": chat_text(a, t)}]
    return out


def _browser_secret(root: Path) -> str:
    """The key that encrypts the browser id in local storage: random, made once and kept in
    ``.chat-secret`` under the index root (owner-only), so a restarted server still knows its
    browsers (Gradio's default key is new at every start)."""
    path = root / ".chat-secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        root.mkdir(parents=True, exist_ok=True)
        secret = uuid.uuid4().hex + uuid.uuid4().hex
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(secret)
        return secret


def _session(user: str, index: str) -> dict:
    """A browser session's state: who it is, the index it asks, the open conversation (saved
    under its id once it has a turn) and that conversation's answers."""
    return {"user": user, "index": index, "conversation": None, "answers": []}


def _conversation_choices(store: ConversationStore, user: str) -> list[tuple[str, str]]:
    return [(c.title, c.id) for c in store.list(user)]


def build_app(engine: Engine, *, store: ConversationStore | None = None, pool: EnginePool | None = None) -> gr.Blocks:
    """The chat UI, starting on ``engine``'s index. Conversations are saved in ``store``
    (default: ``conversations.sqlite3`` under the index root). Each browser session has its own
    index choice, collections and conversation; the user is the login when ``RAG_UI_AUTH`` is on,
    else a random id kept in the browser's local storage."""
    pool = pool or EnginePool(engine)
    store = store or ConversationStore(pool.root / "conversations.sqlite3")
    start_index = str(engine.index_dir)

    def on_load(browser_id: str, request: gr.Request):
        browser_id = browser_id or uuid.uuid4().hex
        user = getattr(request, "username", None) or f"browser:{browser_id}"
        sess = _session(user, start_index)
        return (browser_id, sess, gr.update(choices=pool.choices(user), value=start_index),
                gr.update(choices=_conversation_choices(store, user), value=None))

    def respond(message: str, history: list, k: int, mode_label: str, sess: dict | None, request: gr.Request):
        history = list(history or [])
        if sess is None:  # asked before the page's load event ran
            sess = _session(getattr(request, "username", None) or f"browser:{uuid.uuid4().hex}", start_index)
        if not strip_invisible(message or "").strip():
            gr.Warning("Type a question about the articles.")
            yield history, gr.update(), message, gr.update(), sess, gr.update()
            return
        answers = [Answer.from_dict(a) for a in sess["answers"]]
        # the conversation as the engine needs it: what each answered turn searched for (a
        # refused turn names nothing a later pronoun refers to)
        prior = [{"role": "user", "content": a.standalone_question or a.question} for a in answers if not a.refused]
        if len(message) > MAX_SHOWN_QUESTION:  # the engine reads at most its window; keep the record bounded
            message = message[:MAX_SHOWN_QUESTION] + "…"
        history += [{"role": "user", "content": md_escape(message)}, {"role": "assistant", "content": "…"}]
        yield history, gr.update(), "", gr.update(), sess, gr.update()
        partial, answer = "", None
        try:
            eng = pool.get(sess["index"])
            for item in eng.ask_stream(message, k=int(k), history=prior, mode=MODES.get(mode_label)):
                if isinstance(item, str):
                    partial += item
                    history[-1] = {"role": "assistant", "content": md_escape(partial)}
                    yield history, gr.update(), "", gr.update(), sess, gr.update()
                else:
                    answer = item
        except (ValueError, OSError) as e:  # a bad question or mode, an index gone: say so
            history[-1] = {"role": "assistant", "content": md_escape(str(e))}
            yield history, gr.update(), "", gr.update(), sess, gr.update()
            return
        turn = len(answers) + 1
        history[-1] = {"role": "assistant", "content": chat_text(answer, turn)}
        sess = dict(sess)
        try:
            if sess["conversation"] is None:
                sess["conversation"] = store.create(sess["user"], index=sess["index"])
            store.add_turn(sess["conversation"], sess["user"], message, answer.to_dict())
        except ConversationNotFound:  # deleted in another tab: start a new one with this turn
            sess["conversation"] = store.create(sess["user"], index=sess["index"])
            store.add_turn(sess["conversation"], sess["user"], message, answer.to_dict())
        sess["answers"] = sess["answers"] + [answer.to_dict()]
        convs = gr.update(choices=_conversation_choices(store, sess["user"]), value=sess["conversation"])
        yield history, panel_html(answers + [answer]), "", answer.to_markdown(), sess, convs

    def api_ask(question: str, k: int = 5, mode: str = "") -> dict:
        """Ask a question; returns the Answer fields (question, text, citations, passages,
        refused, reason, ...) as JSON. ``mode``: none | openai | local ("" = server default)."""
        try:
            return engine.ask(question, k=int(k), mode=mode or None).to_dict()
        except (ValueError, TypeError) as e:  # bad input: the plain message reaches the client
            raise gr.Error(str(e)) from None

    def open_conversation(cid: str, sess: dict):
        if not cid or cid == sess.get("conversation"):
            return gr.update(), gr.update(), sess, gr.update(), gr.update(), gr.update()
        try:
            turns = store.turns(cid, sess["user"])
            info = store.info(cid, sess["user"])
        except ConversationNotFound as e:
            gr.Warning(str(e))
            return gr.update(), gr.update(), sess, gr.update(), gr.update(), gr.update()
        answers = [Answer.from_dict(t.answer) for t in turns]
        allowed = {v for _, v in pool.choices(sess["user"])}
        index = info.index if info.index in allowed else sess["index"]
        sess = {**sess, "conversation": cid, "answers": [t.answer for t in turns], "index": index}
        copy = answers[-1].to_markdown() if answers else ""
        return chat_messages(answers), panel_html(answers), sess, gr.update(value=index), info.title, copy

    def new_conversation(sess: dict):
        sess = {**sess, "conversation": None, "answers": []}
        return [], EMPTY_SOURCES, sess, gr.update(value=None), "", ""

    def rename_conversation(title: str, sess: dict):
        if not sess.get("conversation"):
            gr.Warning("Ask a question first: a conversation is saved with its first answer.")
            return gr.update()
        try:
            store.rename(sess["conversation"], sess["user"], title)
        except (ValueError, ConversationNotFound) as e:
            gr.Warning(str(e))
            return gr.update()
        return gr.update(choices=_conversation_choices(store, sess["user"]), value=sess["conversation"])

    def delete_conversation(sess: dict):
        if sess.get("conversation"):
            try:
                store.delete(sess["conversation"], sess["user"])
            except ConversationNotFound:
                pass
        sess = {**sess, "conversation": None, "answers": []}
        return ([], EMPTY_SOURCES, sess, gr.update(choices=_conversation_choices(store, sess["user"]), value=None),
                "", "")

    def export_conversation(sess: dict):
        if not sess.get("conversation"):
            gr.Warning("Nothing to export yet: ask a question first.")
            return None
        cid, user = sess["conversation"], sess["user"]
        folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
        name = slug(store.info(cid, user).title)[:60] or "conversation"
        (folder / f"{name}.md").write_text(store.to_markdown(cid, user), encoding="utf-8")
        (folder / f"{name}.json").write_text(json.dumps(store.to_json(cid, user), ensure_ascii=False, indent=2),
                                             encoding="utf-8")
        return [str(folder / f"{name}.md"), str(folder / f"{name}.json")]

    def switch(index_dir: str, sess: dict):
        if not index_dir or index_dir == sess["index"]:
            return gr.update(), gr.update(), sess
        if index_dir not in {v for _, v in pool.choices(sess["user"])}:
            gr.Warning("That index is not available.")
            return gr.update(), gr.update(), sess
        try:
            pool.get(index_dir)
        except Exception as e:  # noqa: BLE001 - a broken index: say so, keep the current one
            gr.Warning(f"Cannot open {Path(index_dir).name}: {e}")
            return gr.update(), gr.update(), sess
        # a new index starts a new conversation (answers cite that index's passages)
        return [], EMPTY_SOURCES, {**sess, "index": index_dir, "conversation": None, "answers": []}

    def upload(paths, collection: str, sess: dict):
        if not paths:
            return "Choose files first.", gr.update(), sess
        report, index_dir = pool.add_files(sess["user"], collection,
                                           [p if isinstance(p, str) else p.name for p in paths])
        if index_dir is None:
            return report, gr.update(), sess
        sess = {**sess, "index": index_dir, "conversation": None, "answers": []}
        return report, gr.update(choices=pool.choices(sess["user"]), value=index_dir), sess

    with gr.Blocks(title="Ask the articles") as demo:
        browser_id = gr.BrowserState("", storage_key="rag-chat-user", secret=_browser_secret(pool.root))
        sess = gr.State(None)
        gr.Markdown("## Ask the articles\nAnswers quote the articles and cite them as [n]; "
                    f"when the articles don't say, the bot says so (\u201c{CANNOT_ANSWER}\u201d).")
        with gr.Row():
            with gr.Column(scale=1, min_width=200):
                gr.Markdown("### Conversations")
                new = gr.Button("New conversation", elem_id="new-conversation", size="sm")
                convs = gr.Radio([], label="Saved", elem_id="conversations")
                with gr.Accordion("Rename, delete, export", open=False, elem_id="manage"):
                    title = gr.Textbox(label="Title", elem_id="conversation-title", max_length=200)
                    rename = gr.Button("Rename", size="sm", elem_id="rename")
                    delete = gr.Button("Delete", size="sm", variant="stop", elem_id="delete")
                    export = gr.Button("Export (Markdown and JSON)", size="sm", elem_id="export")
                    exported = gr.File(label="Exported", file_count="multiple", elem_id="exported",
                                       interactive=False)
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=460, elem_id="chat")
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                     scale=5, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, 20, value=engine.settings.k, step=1, label="Passages to retrieve (top-k)")
                    default_mode = next(lbl for lbl, m in MODES.items() if m == engine.llm_config().mode)
                    mode = gr.Radio(list(MODES), value=default_mode, label="Answer mode")
                    index = gr.Dropdown([(engine.index_name, start_index)], value=start_index, label="Index",
                                        allow_custom_value=False, elem_id="index")
                with gr.Accordion("Add articles to a collection of yours", open=False):
                    collection = gr.Textbox(label="Collection name (new or one of yours)", value="my-articles",
                                            elem_id="collection", max_length=60)
                    files = gr.File(file_count="multiple", file_types=sorted(SUFFIXES), elem_id="upload",
                                    label=f"Text, Markdown, HTML, PDF or Word, up to {MAX_UPLOAD_MB:g} MB each")
                    add = gr.Button("Add to the collection", elem_id="add")
                    added = gr.Markdown(elem_id="added")
                gr.Examples(EXAMPLES, inputs=box, label="Example questions")
                with gr.Accordion("Copy the answer with its citations (Markdown)", open=False):
                    md = gr.Textbox(show_label=False, lines=5, buttons=["copy"], elem_id="answer-md")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(EMPTY_SOURCES, elem_id="sources")
        gr.Markdown(_credit(engine))
        demo.load(on_load, [browser_id], [browser_id, sess, index, convs], api_visibility="private")
        outs = [chat, sources, box, md, sess, convs]
        send.click(respond, [box, chat, k, mode, sess], outs, api_visibility="private")
        box.submit(respond, [box, chat, k, mode, sess], outs, api_visibility="private")
        gr.api(api_ask, api_name="ask")
        convs.input(open_conversation, [convs, sess], [chat, sources, sess, index, title, md], api_visibility="private")
        new.click(new_conversation, [sess], [chat, sources, sess, convs, title, md], api_visibility="private")
        chat.clear(new_conversation, [sess], [chat, sources, sess, convs, title, md], api_visibility="private")
        rename.click(rename_conversation, [title, sess], [convs], api_visibility="private")
        delete.click(delete_conversation, [sess], [chat, sources, sess, convs, title, md], api_visibility="private")
        export.click(export_conversation, [sess], [exported], api_visibility="private")
        index.input(switch, [index, sess], [chat, sources, sess], api_visibility="private")
        add.click(upload, [files, collection, sess], [added, index, sess], api_visibility="private")
    return demo


def _credit(engine: Engine) -> str:
    sources = engine.store.documents()
    if any(s.get("source", "").startswith("bundled:") for s in sources):
        return ("<small>Default corpus: articles from *The Strategist* (Australian Strategic Policy "
                "Institute), tag archive [aspistrategist.org.au/tag/interpol](https://www.aspistrategist.org.au/tag/interpol/).</small>")
    return f"<small>Index: {html.escape(str(engine.index_dir))}</small>"


def launch(engine: Engine, host: str = "127.0.0.1", port: int = 7860, *, prevent_thread_lock: bool = False,
           auth: list[tuple[str, str]] | None = None, quiet: bool = False, store: ConversationStore | None = None):
    """Launch the chat for ``engine`` on ``host:port``: share links off, a queue running at most
    4 answers at once, optional logins, conversations saved in ``store`` (default: under the index
    root). The same port serves the OpenAI-compatible ``/v1/models`` and ``/v1/chat/completions``
    (:mod:`rag.openai_compat`; model ``default`` is ``engine``'s index, the other names are the
    indexes under the index root) and the MCP tools at ``/mcp/`` (:func:`rag.mcp_server.http_mount`).
    Returns ``(demo, launch result)``."""
    pool = EnginePool(engine)
    demo = build_app(engine, store=store, pool=pool)

    def engine_for(model: str):
        if model == "default":
            return engine
        path = next((p for p in list_indexes(pool.root) if p.name == model), None)
        return pool.get(str(path)) if path is not None else None

    def models() -> list[str]:
        return ["default", *(p.name for p in list_indexes(pool.root) if p != engine.index_dir and p.name != "default")]

    api = openai_router(engine_for, models)
    mcp_route, mcp_lifespan = http_mount(engine, api_keys_from_env)
    demo.queue(default_concurrency_limit=4, max_size=64)
    result = demo.launch(server_name=host, server_port=port, share=False, css=CSS, head=HEAD,
                         max_file_size=f"{MAX_UPLOAD_MB:g}mb",
                         prevent_thread_lock=prevent_thread_lock, footer_links=["api"], auth=auth,
                         quiet=quiet, app_kwargs={"routes": [*api.routes, mcp_route], "lifespan": mcp_lifespan})
    return demo, result
