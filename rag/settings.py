"""One settings object, read from environment variables (all optional) and validated.

:class:`Settings` holds every environment variable ``rag`` reads; the README's "Settings" section
is the same list as one table. ``Settings.from_env()`` reads them (a malformed value is one
:class:`SettingsError` line naming the variable, e.g. ``RAG_LLM_TIMEOUT must be a number of
seconds, got 'abc'``); the other modules ask it instead of ``os.environ``.

Importing this module is cheap: pydantic-settings only (no numpy, FAISS, torch or spaCy); the
fitted refusal threshold is read from :mod:`rag.answer_model` when a ``Settings`` is made.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_INDEX_NAME = "default"
#: Most passages one question may retrieve (``k``): an API caller cannot page through a whole index.
MAX_K = 50
#: Longest question accepted, in characters; longer ones are cut (with a notice), not rejected.
MAX_QUESTION_CHARS = 100_000
#: Answer modes (``RAG_LLM``): extractive, an OpenAI-compatible server, SmolLM2 in-process.
LLM_MODES = ("none", "openai", "local")


class SettingsError(ValueError):
    """An environment variable holds a value ``rag`` cannot use; the message is one line naming
    the variable, what it must be and what it holds (never the value of a secret)."""


def _checkout_or_cache_root() -> Path:
    """``index/`` beside ``pyproject.toml`` in a source checkout, else ``~/.cache/rag-articles/index``."""
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").exists():
        return repo / "index"
    return Path.home() / ".cache" / "rag-articles" / "index"


def _fitted_refuse_below() -> float:
    from .answer_model import REFUSE_BELOW  # lazy: answer_model imports numpy (110 ms) for its weights

    return REFUSE_BELOW


#: What each variable must hold, for the one-line error (by field name).
_EXPECTED = {
    "index_root": "a folder path",
    "k": f"a whole number from 1 to {MAX_K}",
    "alpha": "a number from 0 to 1",
    "refuse_below": "a probability from 0 to 1",
    "rerank": "1 or 0 (also true/false, yes/no, on/off)",
    "embed_threads": "a whole number of threads, 1 or more",
    "embed_backend": "onnx or torch",
    "model_cache": "a folder path",
    "llm": "one of " + ", ".join(LLM_MODES),
    "llm_model": "a model name",
    "openai_base_url": "a URL",
    "llm_timeout": "a number of seconds (more than 0)",
    "llm_retries": "a whole number of retries, 0 or more",
    "ui_max_upload_mb": "a number of megabytes (more than 0)",
    "store": "empty or milvus://HOST:PORT/COLLECTION",
    "milvus_index": "FLAT, HNSW, IVF_FLAT or AUTOINDEX",
    "milvus_shards": "a whole number of shards, 1 or more",
    "milvus_replicas": "a whole number of replicas, 1 or more",
}
#: Variables whose value is never repeated in an error.
_SECRET = {"openai_api_key", "api_keys", "ui_auth"}


class Settings(BaseSettings):
    """Every setting of ``rag``, each read from the environment variable named in its
    ``validation_alias`` (unset or empty: the default). ``Settings.from_env()`` is the usual way
    to get one; ``Settings(k=3, ...)`` sets fields by name (the others still come from the
    environment). Raises :class:`SettingsError` (a ``ValueError``) for a bad value.
    """

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore",
                                      populate_by_name=True, use_attribute_docstrings=True,
                                      protected_namespaces=(), validate_default=False)

    # --- indexes and retrieval ----------------------------------------------------------------
    index_root: Path = Field(default_factory=_checkout_or_cache_root, validation_alias="RAG_INDEX_ROOT")
    """``RAG_INDEX_ROOT``: the folder holding the indexes (``default/`` is the bundled corpus's),
    the shared ones, the users' collections and ``conversations.sqlite3``. Default: ``index/`` of a
    source checkout, else ``~/.cache/rag-articles/index``."""

    store: str = Field("", validation_alias="RAG_STORE")
    """``RAG_STORE``: where the index lives: empty = the embedded FAISS + bm25s folders under the
    index root; ``milvus://HOST:PORT/COLLECTION`` = a Milvus server. Default: empty."""

    milvus_index: Literal["FLAT", "HNSW", "IVF_FLAT", "AUTOINDEX"] = Field("FLAT", validation_alias="RAG_MILVUS_INDEX")
    """``RAG_MILVUS_INDEX``: the dense index of a new Milvus collection: ``FLAT`` (exact, the same
    results as the embedded backend; fine to a few million passages per query node), ``HNSW``
    (M 16, efConstruction 200, ef 96 at search: approximate, for tens of millions), ``IVF_FLAT``
    (nlist 4 * sqrt(n) chosen by the server's defaults) or ``AUTOINDEX`` (the server's choice).
    Read when a collection is created. Default ``FLAT``."""

    milvus_shards: int = Field(1, ge=1, validation_alias="RAG_MILVUS_SHARDS")
    """``RAG_MILVUS_SHARDS``: shards of a new Milvus collection (write parallelism on a cluster:
    one per data node is the usual start). Read when a collection is created. Default 1."""

    milvus_replicas: int = Field(1, ge=1, validation_alias="RAG_MILVUS_REPLICAS")
    """``RAG_MILVUS_REPLICAS``: in-memory replicas a Milvus collection is loaded with (read
    throughput and availability on a cluster; at most the query nodes). Default 1."""

    k: int = Field(5, ge=1, le=MAX_K, validation_alias="RAG_TOP_K")
    """``RAG_TOP_K``: passages retrieved per question (1 to 50). Default 5."""

    alpha: float = Field(0.8, ge=0.0, le=1.0, validation_alias="RAG_HYBRID_ALPHA")
    """``RAG_HYBRID_ALPHA``: weight (0 to 1) of the dense cosine against the normalised BM25 score
    in the first stage's fused score. Default 0.8."""

    rerank: bool = Field(True, validation_alias="RAG_RERANK")
    """``RAG_RERANK``: ``0`` turns off the feature-weighted second stage of retrieval
    (:mod:`rag.rerank`). Default on."""

    refuse_below: float = Field(default_factory=_fitted_refuse_below, ge=0.0, le=1.0,
                                validation_alias="RAG_REFUSE_BELOW")
    """``RAG_REFUSE_BELOW``: answerability probability (0 to 1) under which the offline answerer
    refuses. Default: the fitted :data:`rag.answer_model.REFUSE_BELOW` (0.107)."""

    # --- the embedder -------------------------------------------------------------------------
    embed_threads: Optional[int] = Field(None, ge=1, validation_alias="RAG_EMBED_THREADS")
    """``RAG_EMBED_THREADS``: threads that embed one question (FAISS searches on one). Default
    (unset): :attr:`rag.embedder.Embedder.query_threads`, 2 with ONNX Runtime (at most the cores;
    it falls back to one thread for questions that arrive while another is being embedded), 1 with
    torch (whose spinning threads made a busy server ~10x slower). See docs/benchmarks.md. Ingest
    is not affected unless an Engine is open."""

    embed_backend: Literal["auto", "onnx", "torch"] = Field("auto", validation_alias="RAG_EMBED_BACKEND")
    """``RAG_EMBED_BACKEND``: ``onnx`` (ONNX Runtime; no torch at question time) or ``torch``
    (sentence-transformers); the same vectors. Default ``auto``: ``onnx`` when onnxruntime is
    installed, else ``torch``."""

    model_cache: Optional[Path] = Field(None, validation_alias="RAG_MODEL_CACHE")
    """``RAG_MODEL_CACHE``: folder of the embedder's one-time ONNX export. Default:
    ``<index root>/.models`` (:attr:`model_cache_dir`)."""

    # --- generated answers --------------------------------------------------------------------
    llm: Optional[Literal["none", "openai", "local"]] = Field(None, validation_alias="RAG_LLM")
    """``RAG_LLM``: answer mode: ``none`` (extractive), ``openai`` (an OpenAI-compatible server) or
    ``local`` (SmolLM2 in-process). Default: ``openai`` when ``OPENAI_API_KEY`` or
    ``OPENAI_BASE_URL`` is set, else ``none`` (:attr:`llm_mode`)."""

    llm_model: str = Field("gpt-4o-mini", validation_alias="RAG_LLM_MODEL")
    """``RAG_LLM_MODEL``: model name sent to the server. Default ``gpt-4o-mini``."""

    openai_api_key: Optional[SecretStr] = Field(None, validation_alias="OPENAI_API_KEY")
    """``OPENAI_API_KEY``: the ``openai`` client's key (never logged, shown or put in an error).
    Default: none."""

    openai_base_url: Optional[str] = Field(None, validation_alias="OPENAI_BASE_URL")
    """``OPENAI_BASE_URL``: the ``openai`` client's server, e.g. ``http://127.0.0.1:8080/v1`` for
    llama.cpp, vLLM or Ollama. Default: OpenAI's."""

    llm_timeout: float = Field(30.0, gt=0, validation_alias="RAG_LLM_TIMEOUT")
    """``RAG_LLM_TIMEOUT``: seconds one request to the model may take. Default 30."""

    llm_retries: int = Field(2, ge=0, validation_alias="RAG_LLM_RETRIES")
    """``RAG_LLM_RETRIES``: retries on HTTP 429, 5xx and timeouts (exponential backoff, by the
    ``openai`` client). Default 2."""

    # --- the web chat and its endpoints -------------------------------------------------------
    ui_auth: Optional[SecretStr] = Field(None, validation_alias="RAG_UI_AUTH")
    """``RAG_UI_AUTH``: web chat logins, ``user:password`` (several comma-separated) or the path of
    a file of such lines (parsed by :func:`rag.openai_compat.auth_from_env`). Default: none (no
    login)."""

    api_keys: Optional[SecretStr] = Field(None, validation_alias="RAG_API_KEYS")
    """``RAG_API_KEYS``: bearer keys (comma-separated) of the OpenAI-compatible endpoint ``/v1`` and
    of ``/mcp/``. Default: none (the ``RAG_UI_AUTH`` logins, else open)."""

    ui_max_upload_mb: float = Field(20.0, gt=0, validation_alias="RAG_UI_MAX_UPLOAD_MB")
    """``RAG_UI_MAX_UPLOAD_MB``: largest file the chat accepts for upload, in MB. Default 20."""

    @field_validator("index_root", "model_cache", mode="after")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @field_validator("llm", "embed_backend", mode="before")
    @classmethod
    def _lower(cls, v):
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("store", "llm_model", "openai_base_url", mode="before")
    @classmethod
    def _strip(cls, v):
        return v.strip() if isinstance(v, str) else v

    def __init__(self, **values):
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise SettingsError(_one_line(e)) from None

    # --- derived values -----------------------------------------------------------------------
    @property
    def default_index_dir(self) -> Path:
        """The bundled corpus's index: ``<index root>/default``."""
        return self.index_root / DEFAULT_INDEX_NAME

    @property
    def model_cache_dir(self) -> Path:
        """Where the embedder's ONNX export is kept: ``RAG_MODEL_CACHE``, else ``<index root>/.models``."""
        return self.model_cache if self.model_cache is not None else self.index_root / ".models"

    @property
    def llm_mode(self) -> str:
        """``RAG_LLM``, else ``openai`` when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set, else ``none``."""
        return self.llm or ("openai" if self.openai_api_key or self.openai_base_url else "none")

    @property
    def api_key_list(self) -> list[str]:
        """The keys of ``RAG_API_KEYS`` (comma-separated), empty when unset."""
        raw = self.api_keys.get_secret_value() if self.api_keys else ""
        return [k.strip() for k in raw.split(",") if k.strip()]

    @classmethod
    def from_env(cls) -> "Settings":
        """Settings from the environment (a fresh copy; the parse is reused while the variables
        are unchanged, so calling this per question costs microseconds). Raises
        :class:`SettingsError`, one line naming the variable, for a malformed or out-of-range value."""
        key = tuple(os.environ.get(name) for name in ENV_VARS)
        with _cache_lock:
            hit = _cache.get(key)
            if hit is None:
                hit = cls()
                _cache.clear()
                _cache[key] = hit
        return hit.model_copy()


#: Every environment variable :class:`Settings` reads, in field order.
ENV_VARS = tuple(f.validation_alias for f in Settings.model_fields.values())
#: Field name of each environment variable.
_FIELD_OF = {f.validation_alias: name for name, f in Settings.model_fields.items()}
_cache: dict[tuple, Settings] = {}
_cache_lock = threading.Lock()


def _one_line(e: ValidationError) -> str:
    """The errors of ``e`` as one line: ``VAR must be WHAT, got 'VALUE'`` for each."""
    parts = []
    for err in e.errors(include_url=False):
        loc = str(err["loc"][0]) if err["loc"] else ""
        name = _FIELD_OF.get(loc, loc)
        var = Settings.model_fields[name].validation_alias if name in Settings.model_fields else loc
        what = _EXPECTED.get(name, "valid")
        if name in _SECRET:
            parts.append(f"{var} is not valid ({err['msg']})")
        else:
            parts.append(f"{var} must be {what}, got {err.get('input')!r}")
    return "; ".join(dict.fromkeys(parts))


def default_index_root() -> Path:
    """``RAG_INDEX_ROOT``, else ``index/`` beside ``pyproject.toml`` in a source checkout, else
    ``~/.cache/rag-articles/index``."""
    return Settings.from_env().index_root
