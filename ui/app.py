"""The Gradio chat over an index, using only ``rag``'s public API.

``build_app(engine)`` returns the ``gr.Blocks``; ``serve()`` launches it on 127.0.0.1 by default,
with share links off. The named endpoint ``/ask`` returns the ``Answer`` fields as JSON::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Who is Meng Hongwei?", 5, api_name="/ask")
"""
from __future__ import annotations

import html
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import CANNOT_ANSWER, Engine  # noqa: E402

EXAMPLES = [
    "How many active Chinese investigations were running through Interpol by September 2017?",
    "Why is Taiwan denied observer status at Interpol?",
    "Who handled much of Interpol's day-to-day work after Meng Hongwei left?",
    "What would Australia's draft telecommunications bill require companies to do?",
]

CSS = """
.source { border-left: 3px solid #2563eb; padding: 6px 10px; margin: 8px 0; }
.source mark { background: #fde68a; }
.refusal { border-left: 3px solid #b45309; padding: 6px 10px; }
"""


def sources_html(answer) -> str:
    """The sources panel: each cited passage with its title (linked to its URL), paragraph number
    and text, the quoted sentences highlighted; every string HTML-escaped."""
    if answer.refused:
        return (f'<div class="refusal"><b>No answer in the articles.</b><br>'
                f"{html.escape(answer.reason)}</div>")
    parts = []
    by_id = {p.chunk.id: p for p in answer.passages}
    for c in answer.citations:
        title = html.escape(c.title)
        head = f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener">{title}</a>' if c.url else title
        text = by_id[c.chunk_id].chunk.text if c.chunk_id in by_id else c.quote
        i = text.find(c.quote)
        body = (html.escape(text[:i]) + "<mark>" + html.escape(c.quote) + "</mark>" + html.escape(text[i + len(c.quote):])
                if i >= 0 else "<mark>" + html.escape(c.quote) + "</mark>")
        page = f", page {c.page}" if c.page else ""
        parts.append(f'<div class="source" id="source-{c.number}"><b>[{c.number}]</b> {head} '
                     f"<small>(paragraph {c.paragraph}{page}, score {c.score:.2f})</small>"
                     f"<p>{body}</p></div>")
    return "\n".join(parts)


MODES = {"Offline (extractive)": "none", "LLM server (OpenAI-compatible)": "openai",
         "Local model (SmolLM2)": "local"}


def chat_text(answer) -> str:
    """The chat bubble's text: the answer (escaped), notices and, for a refusal, its reason."""
    text = html.escape(answer.text, quote=False)
    if answer.standalone_question and answer.standalone_question != answer.question:
        text = f"*Searched for: {html.escape(answer.standalone_question, quote=False)}*\n\n" + text
    if answer.refused:
        text += f"\n\n*{html.escape(answer.reason, quote=False)}*"
    for n in answer.notices:
        text += f"\n\n*Note: {html.escape(n, quote=False)}*"
    return text


def build_app(engine: Engine) -> gr.Blocks:
    """The chat UI bound to ``engine``."""

    def respond(message: str, history: list, k: int, mode_label: str):
        history = list(history or [])
        if not (message or "").strip():
            gr.Warning("Type a question about the articles.")
            yield history, gr.update(), message
            return
        prior = [m for m in history if isinstance(m, dict)]
        history += [{"role": "user", "content": html.escape(message, quote=False)},
                     {"role": "assistant", "content": "…"}]
        yield history, gr.update(), ""
        partial, answer = "", None
        try:
            for item in engine.ask_stream(message, k=int(k), history=prior, mode=MODES.get(mode_label)):
                if isinstance(item, str):
                    partial += item
                    history[-1] = {"role": "assistant", "content": html.escape(partial, quote=False)}
                    yield history, gr.update(), ""
                else:
                    answer = item
        except ValueError as e:  # a bad question or mode: say so, never a stack trace
            history[-1] = {"role": "assistant", "content": html.escape(str(e), quote=False)}
            yield history, gr.update(), ""
            return
        history[-1] = {"role": "assistant", "content": chat_text(answer)}
        yield history, sources_html(answer), ""

    def api_ask(question: str, k: int = 5, mode: str = "") -> dict:
        """Ask a question; returns the Answer fields (question, text, citations, passages,
        refused, reason, ...) as JSON. ``mode``: none | openai | local ("" = server default)."""
        try:
            return engine.ask(question, k=int(k), mode=mode or None).to_dict()
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
                gr.Examples(EXAMPLES, inputs=box, label="Example questions")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML("<i>Cited passages appear here.</i>", elem_id="sources")
        gr.Markdown(_credit(engine))
        send.click(respond, [box, chat, k, mode], [chat, sources, box], api_visibility="private")
        box.submit(respond, [box, chat, k, mode], [chat, sources, box], api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return demo


def _credit(engine: Engine) -> str:
    sources = engine.stored.manifest.get("sources", [])
    if any(s.get("source", "").startswith("bundled:") for s in sources):
        return ("<small>Default corpus: articles from *The Strategist* (Australian Strategic Policy "
                "Institute), tag archive [aspistrategist.org.au/tag/interpol](https://www.aspistrategist.org.au/tag/interpol/).</small>")
    return f"<small>Index: {html.escape(str(engine.index_dir))}</small>"


def serve(index_dir: str | None = None, host: str = "127.0.0.1", port: int = 7860,
          prevent_thread_lock: bool = False):
    """Load the engine and launch the chat on ``host:port`` (share links off, queue of 4
    concurrent answers). Returns what ``Blocks.launch`` returns."""
    engine = Engine(index_dir)
    demo = build_app(engine)
    demo.queue(default_concurrency_limit=4)
    return demo.launch(server_name=host, server_port=port, share=False, css=CSS,
                       prevent_thread_lock=prevent_thread_lock, footer_links=["api"])
