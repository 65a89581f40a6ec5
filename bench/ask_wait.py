"""The wait the citation check adds to a generated answer, end to end: ``Engine.ask()`` against an
OpenAI-compatible server on loopback that writes a 5-sentence reply at a model's pace.

The server emulates a model: it writes the reply (the first sentence of each of the 5 passages the
engine retrieves, each cited "... sentence. [n]") in token-like pieces (a word with its leading
space, or one punctuation mark: "fell", ".", " [", "1", "]") at ``--tokens-per-s``, streamed when
asked; asked for the whole reply, it sends it after the same time. It notes when it has written the last piece;
the wait is from then until ``ask()`` returns the checked :class:`rag.Answer` (perf_counter, one
process). Two ways, alternating round by round on the same reply:

- ``streamed``: ``Engine.ask()`` (streams; each sentence is checked while the model writes the next);
- ``whole``: ``Engine.ask_stream(stream=False)`` (the whole reply, then the check, as ``ask()``
  did before).

Each round starts with the claim check's caches cleared (a new reply). Prints a JSON last line:
``{"streamed_ms": median, "whole_ms": median, "rounds": n, "tokens_per_s": rate}``.

    python bench/ask_wait.py [--rounds 15] [--tokens-per-s 60]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grounding import five_sentence_reply  # noqa: E402
from rag import Engine, claims  # noqa: E402

Q = "How many active Chinese investigations were running through Interpol by September 2017?"


class PacedModel:
    """A loopback chat-completions server writing ``reply`` at ``rate`` token-like pieces per second."""

    def __init__(self, reply: str, rate: float):
        self.reply, self.rate = reply, rate
        self.last_piece_at = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _handler(self):
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                pieces = re.findall(r"\s?\w+|\s?[^\w\s]|\s+", model.reply)
                assert "".join(pieces) == model.reply
                if not req.get("stream"):
                    time.sleep(len(pieces) / model.rate)  # the model writing it all
                    body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                                       "choices": [{"index": 0, "finish_reason": "stop",
                                                    "message": {"role": "assistant", "content": model.reply}}]})
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body.encode())
                    self.wfile.flush()
                    model.last_piece_at = time.perf_counter()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in pieces:
                    time.sleep(1 / model.rate)  # the model writing the next piece
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                end = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                model.last_piece_at = time.perf_counter()

        return Handler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--tokens-per-s", type=float, default=60.0)
    args = ap.parse_args()
    engine = Engine()
    passages = engine.retrieve(Q, k=5)
    reply = five_sentence_reply(passages)
    model = PacedModel(reply, args.tokens_per_s)
    os.environ.update({"RAG_LLM": "openai", "OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "bench",
                       "RAG_LLM_RETRIES": "0"})
    ways = {"streamed": lambda: engine.ask(Q, k=5),
            "whole": lambda: list(engine.ask_stream(Q, k=5, stream=False))[-1]}
    for ask in ways.values():  # warm: the openai client, spaCy, the exemplar bank
        assert ask().mode == "openai"
    waits: dict[str, list[float]] = {w: [] for w in ways}
    texts: dict[str, str] = {}
    for _ in range(args.rounds):
        for way, ask in ways.items():
            claims.clear_caches()
            answer = ask()
            waits[way].append((time.perf_counter() - model.last_piece_at) * 1000)
            texts[way] = answer.text
    assert texts["streamed"] == texts["whole"], "the two ways gave different answers"
    result = {"streamed_ms": round(statistics.median(waits["streamed"]), 1),
              "whole_ms": round(statistics.median(waits["whole"]), 1),
              "rounds": args.rounds, "tokens_per_s": args.tokens_per_s}
    print(f"reply: {len(reply.split())} words, {len(passages)} sentences; answer: {texts['streamed'][:80]}...",
          file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
