"""A scripted OpenAI-compatible server on loopback, for faults a real model produces only sometimes.

It is a real HTTP server (``http.server``) speaking the chat-completions protocol, JSON and SSE
streaming; each request takes the next scripted step (the last step repeats). A step is a dict:

- ``{"content": str | callable(request) -> str}``: a normal reply (streamed when asked);
- ``{"status": 500}`` / ``{"status": 429}``: an error response;
- ``{"delay": seconds, ...}``: wait before answering (to exceed the client's timeout);
- ``{"cut": True, "content": ...}``: stream half the reply, then drop the connection;
- ``{"raw": bytes}``: a 200 response with this body (malformed JSON).
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, steps: list[dict]):
        self.steps = list(steps)
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _next(self) -> dict:
        i = min(len(self.requests) - 1, len(self.steps) - 1)
        return self.steps[i]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, status: int, body: bytes, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(req)
                step = fake._next()
                if step.get("delay"):
                    time.sleep(step["delay"])  # a fixed pause: a server that answers too late is the behaviour under test
                if "status" in step:
                    body = json.dumps({"error": {"message": "scripted failure", "type": "server_error"}}).encode()
                    return self._send(step["status"], body)
                if "raw" in step:
                    return self._send(200, step["raw"])
                content = step.get("content", "")
                if callable(content):
                    content = content(req)
                if not req.get("stream"):
                    body = {"id": "x", "object": "chat.completion", "created": 0, "model": req.get("model", "m"),
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}]}
                    return self._send(200, json.dumps(body).encode())
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = content.split(" ")
                pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                if step.get("cut"):
                    pieces = pieces[: max(1, len(pieces) // 2)]
                for piece in pieces:
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                if step.get("cut"):
                    self.close_connection = True
                    return
                end = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()

        return Handler


def source_text(req: dict, n: int) -> str:
    """The text of source ``[n]`` in a chat request built by ``rag.prompts.qa_messages``."""
    user = req["messages"][-1]["content"]
    start = user.index(f"[{n}] (")
    body = user[user.index(") ", start) + 2:]
    end = body.find(f"\n\n[{n + 1}] (")
    body = body[: end if end >= 0 else body.index("\n\nQuestion:")]
    return body


def first_sentence(text: str) -> str:
    from rag.sentences import split_sentences

    s, e = split_sentences(text)[0]
    return text[s:e]
