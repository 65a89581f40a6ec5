"""An OpenAI-compatible chat endpoint over the engine: ``/v1/models`` and ``/v1/chat/completions``.

Clients that speak the OpenAI chat format (the ``openai`` SDK, Open WebUI, LibreChat) get the
engine's checked answer: the reply's content is the answer with its ``[n]`` markers and a
"Sources" list; the structured citations ride in an extra top-level field ``citations`` (and
``refused``, ``reason``, ``short_answer``, ``standalone_question``). A refusal is a normal reply.
The earlier messages are the conversation history; the model name picks the index (``default``
is the index the server was started on; ``/v1/models`` lists the others under the index root).

Access: with ``RAG_API_KEYS`` set (comma-separated), a request needs ``Authorization: Bearer
KEY`` with one of them; else, with ``RAG_UI_AUTH`` set, the key is a login ``user:password``;
else the endpoint is open (the server listens on loopback by default). A wrong key gets HTTP 401
in OpenAI's error shape.

Usage::

    router = openai_router(engine_for=lambda model: engine, models=lambda: ["default"])
    app.include_router(router)        # any FastAPI app; ``rag serve`` adds it beside the chat
"""
from __future__ import annotations

import hmac
import json
import os
import time
import uuid
from typing import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from .engine import _text_of
from .settings import MAX_K, Settings

#: Words per streamed chunk of a reply (the answer is checked before the first chunk is sent).
STREAM_WORDS = 8


def api_keys_from_env() -> list[str]:
    """The keys of ``RAG_API_KEYS`` (comma-separated), else the logins of ``RAG_UI_AUTH`` as
    ``user:password`` keys, else none (open)."""
    keys = Settings.from_env().api_key_list
    if keys:
        return keys
    return [f"{u}:{p}" for u, p in auth_from_env() or []]


def auth_from_env(value: str | None = None) -> list[tuple[str, str]] | None:
    """Logins from ``RAG_UI_AUTH``: ``user:password``, several separated by commas, or the path of
    a file with one ``user:password`` a line. ``None`` when unset. Raises ``ValueError`` for an
    entry without a colon (the message names the entry's position, never the password)."""
    if value is None:
        secret = Settings.from_env().ui_auth
        value = secret.get_secret_value() if secret else ""
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


def bearer_ok(authorization: str, allowed: list[str]) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer KEY`` with one of the ``allowed``
    keys (compared in constant time)."""
    given = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    return any(hmac.compare_digest(given.encode(), k.encode()) for k in allowed)


def _error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}},
                        status_code=status)


def sources_block(answer) -> str:
    """The "Sources" list appended to a reply: ``[n] Title, paragraph P (page G) — URL``."""
    if not answer.citations:
        return ""
    lines = ["", "", "Sources:"]
    for c in answer.citations:
        where = f"paragraph {c.paragraph}" + (f", page {c.page}" if c.page else "")
        lines.append(f"[{c.number}] {c.title}, {where}" + (f" — {c.url}" if c.url else f" — {c.file}" if c.file else ""))
    return "\n".join(lines)


def reply_text(answer) -> str:
    """The reply's content: the answer with its markers and sources, or the refusal and why."""
    if answer.refused:
        return f"{answer.text} ({answer.reason})" if answer.reason else answer.text
    return answer.text + sources_block(answer)


def _extra(answer) -> dict:
    d = answer.to_dict()
    return {"citations": d["citations"], "refused": d["refused"], "reason": d["reason"],
            "short_answer": d["short_answer"], "standalone_question": d["standalone_question"],
            "notices": d["notices"]}


def split_messages(messages) -> tuple[str, list[dict]]:
    """``(question, history)`` from OpenAI chat messages: the last user message is the question,
    the user and assistant messages before it the history. Raises ``ValueError`` (plain message)
    when the list is empty or has no user message."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages must be a non-empty list of {role, content} objects")
    last = max((i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"), default=None)
    if last is None:
        raise ValueError("messages hold no user message to answer")
    question = _text_of(messages[last].get("content"))
    if not question or not question.strip():
        raise ValueError("the last user message has no text")
    history = [m for m in messages[:last] if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    return question, history


def openai_router(engine_for: Callable[[str], object | None], models: Callable[[], list[str]],
                  keys: Callable[[], list[str]] = api_keys_from_env) -> APIRouter:
    """The ``/v1`` routes. ``engine_for(model)`` gives the :class:`rag.Engine` of a model name
    (``None``: unknown model, HTTP 404); ``models()`` the names ``/v1/models`` lists; ``keys()``
    the accepted bearer keys (empty: open)."""
    router = APIRouter(prefix="/v1")

    def denied(request: Request) -> JSONResponse | None:
        allowed = keys()
        if not allowed:
            return None
        if bearer_ok(request.headers.get("authorization", ""), allowed):
            return None
        return _error(401, "Invalid or missing API key (Authorization: Bearer KEY; see RAG_API_KEYS).",
                      "invalid_request_error", "invalid_api_key")

    @router.get("/models")
    def list_models(request: Request):
        if (r := denied(request)) is not None:
            return r
        now = int(time.time())
        return {"object": "list", "data": [{"id": m, "object": "model", "created": now, "owned_by": "rag"}
                                           for m in models()]}

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        if (r := denied(request)) is not None:
            return r
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "The request body is not JSON.", "invalid_request_error")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.", "invalid_request_error")
        model = body.get("model") or "default"
        engine = engine_for(model) if isinstance(model, str) else None
        if engine is None:
            return _error(404, f"The model {model!r} does not exist; GET /v1/models lists them.",
                          "invalid_request_error", "model_not_found")
        k = body.get("k", body.get("top_k"))
        try:
            question, history = split_messages(body.get("messages"))
            if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K):
                raise ValueError(f"k must be an integer between 1 and {MAX_K}, got {k!r}")
            if not isinstance(body.get("stream", False), bool):
                raise ValueError(f"stream must be true or false, got {body.get('stream')!r}")
            if body.get("n", 1) != 1 or isinstance(body.get("n", 1), bool):
                raise ValueError("n must be 1: there is one checked answer per question")
            answer = await run_in_threadpool(engine.ask, question, k=k, history=history)
        except (ValueError, TypeError) as e:
            return _error(400, str(e), "invalid_request_error")
        cid, now = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        text, extra = reply_text(answer), _extra(answer)
        if not body.get("stream"):
            return {"id": cid, "object": "chat.completion", "created": now, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}, **extra}

        def chunk(delta: dict, finish: str | None = None, **more) -> str:
            return "data: " + json.dumps({"id": cid, "object": "chat.completion.chunk", "created": now,
                                          "model": model, "choices": [{"index": 0, "delta": delta,
                                                                       "finish_reason": finish}], **more},
                                         ensure_ascii=False) + "\n\n"

        def events():
            yield chunk({"role": "assistant", "content": ""})
            words = text.split(" ")
            for i in range(0, len(words), STREAM_WORDS):
                yield chunk({"content": " ".join(words[i:i + STREAM_WORDS]) + (" " if i + STREAM_WORDS < len(words) else "")})
            yield chunk({}, "stop", **extra)  # the structured citations ride on the last chunk
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return router
