"""The Gradio chat over an index, using only ``rag``'s public API.

``build_app(engine)`` returns the ``gr.Blocks``; ``launch(engine)`` serves it on 127.0.0.1 by default
(``rag serve`` calls it),
with share links off. The named endpoint ``/ask`` returns the ``Answer`` fields as JSON::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Who is Meng Hongwei?", 5, api_name="/ask")
"""
from __future__ import annotations

import html
import os
import re

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

import shutil  # noqa: E402
import threading  # noqa: E402
import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402

from rag import CANNOT_ANSWER, SUFFIXES, Engine, list_indexes  # noqa: E402
from rag.engine import ingest  # noqa: E402  (rag.ingest is the module of the same name)

#: Largest file the chat accepts for upload, in MB (``RAG_UI_MAX_UPLOAD_MB``).
MAX_UPLOAD_MB = float(os.environ.get("RAG_UI_MAX_UPLOAD_MB") or 20)


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


class EngineHolder:
    """The engine the chat currently uses: switchable between indexes, reloadable after uploads."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._cache = {str(engine.index_dir): engine}
        self._lock = threading.Lock()

    def choices(self) -> list[str]:
        """Index folders the chat can switch to: those under the index root, and the current one."""
        paths = [str(p) for p in list_indexes(self.engine.settings.index_root)]
        cur = str(self.engine.index_dir)
        return paths if cur in paths else [cur, *paths]

    def use(self, index_dir: str) -> Engine:
        with self._lock:
            if index_dir not in self._cache:
                self._cache[index_dir] = Engine(index_dir, embedder=self.engine.embedder)
            self.engine = self._cache[index_dir]
            return self.engine

    def add_files(self, paths: list[str]) -> str:
        """Copy uploaded files (allowed types, size limit, safe names) beside the index and add
        them to it; returns a Markdown report. The new articles are answerable at once."""
        eng = self.engine
        folder = eng.index_dir.parent / "uploads" / eng.index_dir.name
        folder.mkdir(parents=True, exist_ok=True)
        kept, notes = [], []
        for src in paths:
            name = safe_name(Path(src).name)
            suffix = Path(name).suffix.lower()
            size = Path(src).stat().st_size
            if suffix not in SUFFIXES:
                notes.append(f"{name}: not accepted (allowed: {', '.join(sorted(SUFFIXES))})")
            elif size > MAX_UPLOAD_MB * 1e6:
                notes.append(f"{name}: {size / 1e6:.1f} MB is over the {MAX_UPLOAD_MB:g} MB limit")
            else:
                dest = folder / name
                shutil.copyfile(src, dest)
                kept.append(dest)
        if kept:
            with self._lock:
                default = eng.index_dir.resolve() == eng.settings.default_index_dir.resolve()
                try:
                    report = ingest(kept, eng.index_dir, include_default=default, embedder=eng.embedder)
                except ValueError as e:
                    return md_escape(str(e))
                notes = [f"added {len(kept)} file(s): the index now holds {report.documents} document(s), "
                         f"{report.chunks} passages"] + [f"skipped {r}" for r in report.skipped] + notes
                fresh = Engine(eng.index_dir, embedder=eng.embedder)
                self._cache[str(eng.index_dir)] = fresh
                self.engine = fresh
        return "\n".join(f"- {md_escape(n)}" for n in notes) or "Nothing to add."

EXAMPLES = [
    "How many active Chinese investigations were running through Interpol by September 2017?",
    "Why is Taiwan denied observer status at Interpol?",
    "Who handled much of Interpol's day-to-day work after Meng Hongwei left?",
    "What would Australia's draft telecommunications bill require companies to do?",
]

CSS = """
.source { border-left: 3px solid #2563eb; padding: 6px 10px; margin: 8px 0; }
.source mark { background: #fde68a; }
.source.active { background: #eff6ff; outline: 2px solid #2563eb; }
.source.active mark { background: #facc15; }
.refusal { border-left: 3px solid #b45309; padding: 6px 10px; background: #fff7ed; }
.planted { border-left: 3px solid #b91c1c; padding: 6px 10px; background: #fef2f2; margin-bottom: 8px; }
.other-source { border-left: 3px solid #d1d5db; padding: 4px 10px; margin: 6px 0; color: #374151; }
"""

#: Clicking a citation chip [n] in the chat scrolls the sources panel to passage n and marks it.
HEAD = """
<script>
document.addEventListener("click", (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href^="#source-"]');
  if (!a) return;
  ev.preventDefault(); ev.stopPropagation();
  const el = document.getElementById(a.getAttribute("href").slice(1));
  if (!el) return;
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


def with_chips(escaped: str) -> str:
    """Turn the escaped ``[n]`` markers of an answer into links to ``#source-n`` (citation chips)."""
    return re.sub(r"\\\[(\d+)\\\]", r"[\[\1\]](#source-\1)", escaped)


def sources_html(answer) -> str:
    """The sources panel: each cited passage with its title (linked to its URL), paragraph number
    and text, the quoted sentences highlighted; every string HTML-escaped."""
    planted = _planted(answer)
    if answer.refused:
        return (planted + f'<div class="refusal"><b>No answer in the articles.</b><br>'
                f"{html.escape(answer.reason)}</div>" + _others(answer, set()))
    parts = []
    by_id = {p.chunk.id: p for p in answer.passages}
    for c in answer.citations:
        title = html.escape(c.title)
        head = (f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener">{title}</a>' if c.url
                else f'{title} <span class="file">({html.escape(c.file)})</span>' if c.file else title)
        text = by_id[c.chunk_id].chunk.text if c.chunk_id in by_id else c.quote
        i = text.find(c.quote)
        body = (html.escape(text[:i]) + "<mark>" + html.escape(c.quote) + "</mark>" + html.escape(text[i + len(c.quote):])
                if i >= 0 else "<mark>" + html.escape(c.quote) + "</mark>")
        page = f", page {c.page}" if c.page else ""
        parts.append(f'<div class="source" id="source-{c.number}"><b>[{c.number}]</b> {head} '
                     f"<small>(paragraph {c.paragraph}{page}{_match(by_id.get(c.chunk_id))})</small>"
                     f"<p>{body}</p></div>")
    return planted + "\n".join(parts) + _others(answer, {c.chunk_id for c in answer.citations})


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


def chat_text(answer) -> str:
    """The chat bubble's text: the answer (escaped), notices and, for a refusal, its reason."""
    # the short answer in bold: marked with control characters md_escape leaves alone, then **
    text = with_chips(md_escape(answer.marked("\x02", "\x03")).replace("\x02", "**").replace("\x03", "**"))
    if answer.refused:
        text = f"⚠️ **No answer in the articles.** {md_escape(answer.text)}\n\n*Why: {md_escape(answer.reason)}*"
    if answer.standalone_question and answer.standalone_question != answer.question:
        text = f"*Searched for: {md_escape(answer.standalone_question)}*\n\n" + text
    for n in answer.notices:
        text += f"\n\nℹ️ *Note: {md_escape(n)}*"
    for f in answer.flagged:
        text += f"\n\n⚠️ *{md_escape(f['title'])}: {md_escape(PLANTED_NOTICE)}*"
    return text


def build_app(engine: Engine) -> gr.Blocks:
    """The chat UI, starting on ``engine``'s index."""
    holder = EngineHolder(engine)

    def respond(message: str, history: list, k: int, mode_label: str):
        history = list(history or [])
        if not (message or "").strip():
            gr.Warning("Type a question about the articles.")
            yield history, gr.update(), message, gr.update()
            return
        prior = [m for m in history if isinstance(m, dict)]
        history += [{"role": "user", "content": md_escape(message)},
                     {"role": "assistant", "content": "…"}]
        yield history, gr.update(), "", gr.update()
        partial, answer = "", None
        try:
            for item in holder.engine.ask_stream(message, k=int(k), history=prior, mode=MODES.get(mode_label)):
                if isinstance(item, str):
                    partial += item
                    history[-1] = {"role": "assistant", "content": md_escape(partial)}
                    yield history, gr.update(), "", gr.update()
                else:
                    answer = item
        except ValueError as e:  # a bad question or mode: say so, never a stack trace
            history[-1] = {"role": "assistant", "content": md_escape(str(e))}
            yield history, gr.update(), "", gr.update()
            return
        history[-1] = {"role": "assistant", "content": chat_text(answer)}
        yield history, sources_html(answer), "", answer.to_markdown()

    def api_ask(question: str, k: int = 5, mode: str = "") -> dict:
        """Ask a question; returns the Answer fields (question, text, citations, passages,
        refused, reason, ...) as JSON. ``mode``: none | openai | local ("" = server default)."""
        try:
            return holder.engine.ask(question, k=int(k), mode=mode or None).to_dict()
        except (ValueError, TypeError) as e:  # bad input: the plain message reaches the client
            raise gr.Error(str(e)) from None

    with gr.Blocks(title="Ask the articles") as demo:
        gr.Markdown("## Ask the articles\nAnswers quote the articles and cite them as [n]; "
                    f"when the articles don't say, the bot says so (\u201c{CANNOT_ANSWER}\u201d).")
        with gr.Row():
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
                    index = gr.Dropdown(holder.choices(), value=str(engine.index_dir), label="Index",
                                        allow_custom_value=False, elem_id="index")
                with gr.Accordion("Add articles to this index", open=False):
                    files = gr.File(file_count="multiple", file_types=sorted(SUFFIXES), elem_id="upload",
                                    label=f"Text, Markdown, HTML or PDF, up to {MAX_UPLOAD_MB:g} MB each")
                    add = gr.Button("Add to the index", elem_id="add")
                    added = gr.Markdown(elem_id="added")
                gr.Examples(EXAMPLES, inputs=box, label="Example questions")
                with gr.Accordion("Copy the answer with its citations (Markdown)", open=False):
                    md = gr.Textbox(show_label=False, lines=5, buttons=["copy"], elem_id="answer-md")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML("<i>Cited passages appear here.</i>", elem_id="sources")
        gr.Markdown(_credit(engine))
        send.click(respond, [box, chat, k, mode], [chat, sources, box, md], api_visibility="private")
        box.submit(respond, [box, chat, k, mode], [chat, sources, box, md], api_visibility="private")
        gr.api(api_ask, api_name="ask")

        def switch(index_dir: str):
            try:
                holder.use(index_dir)
            except Exception as e:  # noqa: BLE001 - a broken index: say so, keep the current one
                gr.Warning(f"Cannot open {index_dir}: {e}")
            return [], "<i>Cited passages appear here.</i>"

        def upload(paths):
            if not paths:
                return "Choose files first."
            return holder.add_files([p if isinstance(p, str) else p.name for p in paths])

        index.change(switch, [index], [chat, sources], api_visibility="private")
        add.click(upload, [files], [added], api_visibility="private")
    return demo


def _credit(engine: Engine) -> str:
    sources = engine.stored.manifest.get("sources", [])
    if any(s.get("source", "").startswith("bundled:") for s in sources):
        return ("<small>Default corpus: articles from *The Strategist* (Australian Strategic Policy "
                "Institute), tag archive [aspistrategist.org.au/tag/interpol](https://www.aspistrategist.org.au/tag/interpol/).</small>")
    return f"<small>Index: {html.escape(str(engine.index_dir))}</small>"


def auth_from_env(value: str | None = None) -> list[tuple[str, str]] | None:
    """Logins from ``RAG_UI_AUTH``: ``user:password``, several separated by commas, or the path of
    a file with one ``user:password`` a line. ``None`` when unset. Raises ``ValueError`` for an
    entry without a colon (the message names the entry's position, never the password)."""
    value = os.environ.get("RAG_UI_AUTH", "") if value is None else value
    if not value.strip():
        return None
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            entries = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    else:
        entries = [e.strip() for e in value.split(",") if e.strip()]
    pairs = []
    for i, e in enumerate(entries, 1):
        user, sep, password = e.partition(":")
        if not sep or not user or not password:
            raise ValueError(f"RAG_UI_AUTH entry {i} is not of the form user:password")
        pairs.append((user, password))
    return pairs


def launch(engine: Engine, host: str = "127.0.0.1", port: int = 7860, *, prevent_thread_lock: bool = False,
           auth: list[tuple[str, str]] | None = None, quiet: bool = False):
    """Launch the chat for ``engine`` on ``host:port``: share links off, a queue running at most
    4 answers at once, optional logins. Returns ``(demo, launch result)``."""
    demo = build_app(engine)
    demo.queue(default_concurrency_limit=4, max_size=64)
    result = demo.launch(server_name=host, server_port=port, share=False, css=CSS, head=HEAD,
                         max_file_size=f"{MAX_UPLOAD_MB:g}mb",
                         prevent_thread_lock=prevent_thread_lock, footer_links=["api"], auth=auth,
                         quiet=quiet)
    return demo, result

