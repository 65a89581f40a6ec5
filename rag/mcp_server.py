"""A Model Context Protocol server: the articles as two tools for agents and editor assistants.

- ``search_articles(query, k=5)``: the top-``k`` passages (hybrid retrieval), each with its chunk
  id, title, URL, paragraph, score and text.
- ``ask_articles(question)``: the grounded answer with its ``[n]`` citations (title, URL,
  paragraph, the quoted sentence), or a refusal with its reason.

``rag mcp`` serves them over stdio (the ``mcp`` package's FastMCP), and ``rag serve`` over
streamable HTTP at ``/mcp/`` beside the chat (:func:`http_mount`). Client configuration, e.g.
for Claude Desktop or an editor::

    {"mcpServers": {"articles": {"command": "/path/to/.venv/bin/rag", "args": ["mcp"]}}}
"""
from __future__ import annotations

import contextlib
import sys
from typing import Annotated, Any

from mcp.server.fastmcp import FastMCP
from pydantic import Field
from starlette.responses import JSONResponse
from starlette.routing import Mount

from .engine import Engine
from .openai_compat import bearer_ok
from .settings import MAX_K


def build_server(engine, **settings):
    """The FastMCP server with both tools over ``engine`` (a :class:`rag.Engine`); ``settings``
    go to ``FastMCP`` (e.g. ``streamable_http_path``)."""
    server = FastMCP("articles", **settings, instructions=(
        "Search and question the indexed articles. Answers cite passages as [n]; when the articles "
        "don't say, ask_articles says so (refused=true)."))

    @server.tool()
    def search_articles(query: str, k: Annotated[int, Field(ge=1, le=MAX_K)] = 5) -> list[dict[str, Any]]:
        """Search the articles: the top-k passages for the query (1 <= k <= 50), best first, each
        with chunk id, title, URL, paragraph number, retrieval score and text."""
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k!r}")
        return [{"id": p.chunk.id, "title": p.chunk.title, "url": p.chunk.url, "paragraph": p.chunk.paragraph,
                 "page": p.chunk.page, "rank": p.rank, "score": round(float(p.score), 4), "text": p.chunk.text}
                for p in engine.retrieve(query, k=k)]

    @server.tool()
    def ask_articles(question: str) -> dict[str, Any]:
        """Answer a question from the articles: the answer with [n] citations (title, URL,
        paragraph, quoted sentence), or refused=true with the reason when the articles don't say."""
        a = engine.ask(question).to_dict()
        return {"answer": a["text"], "refused": a["refused"], "reason": a["reason"],
                "short_answer": (a["short_answer"] or {}).get("text"),
                "citations": [{k: c[k] for k in ("number", "title", "url", "paragraph", "page", "quote", "chunk_id")}
                              for c in a["citations"]]}

    return server


def http_mount(engine, keys, path: str = "/mcp"):
    """The tools over MCP's streamable HTTP transport, to serve beside the chat: returns
    ``(route, lifespan)``: a Starlette ``Mount`` at ``path`` and the lifespan that runs the MCP
    session manager (give both to the web app). ``keys()`` are the accepted bearer keys (empty:
    open), as for the OpenAI-compatible endpoint; a request without one of them gets HTTP 401."""
    server = build_server(engine, streamable_http_path="/", stateless_http=True, json_response=True,
                          log_level="WARNING")
    inner = server.streamable_http_app()

    async def app(scope, receive, send):
        allowed = keys() if scope["type"] == "http" else []
        if allowed:
            auth = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            if not bearer_ok(auth, allowed):
                await JSONResponse({"error": "Invalid or missing API key (Authorization: Bearer KEY)."},
                                   status_code=401)(scope, receive, send)
                return
        await inner(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with server.session_manager.run():
            yield

    return Mount(path, app=app), lifespan


def serve_stdio(index_dir=None) -> None:
    """Load the engine (its messages go to stderr: stdout is the protocol's channel), then serve
    the tools over stdio until the client closes it."""
    with contextlib.redirect_stdout(sys.stderr):
        engine = Engine(index_dir)
    build_server(engine, log_level="WARNING").run("stdio")
