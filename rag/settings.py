"""One settings object, read from environment variables (all optional).

| variable | meaning | default |
|---|---|---|
| ``RAG_INDEX_ROOT`` | folder holding the indexes | ``index/`` of a source checkout, else ``~/.cache/rag-articles/index`` |
| ``RAG_TOP_K`` | passages retrieved per question (at most 50) | 5 |
| ``RAG_HYBRID_ALPHA`` | weight of dense cosine vs. normalised BM25 in the fused score | 0.8 |
| ``RAG_REFUSE_BELOW`` | answerability probability under which the offline answerer refuses | fitted, ``rag.answer_model.REFUSE_BELOW`` |
| ``RAG_RERANK`` | ``0`` turns off the feature-weighted second stage (``rag.rerank``) | on |
| ``RAG_EMBED_THREADS`` | threads that embed one question (FAISS searches on one) | 2 (ONNX Runtime; at most the cores), 1 (torch) |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .answer_model import REFUSE_BELOW

DEFAULT_INDEX_NAME = "default"
#: Most passages one question may retrieve (``k``): an API caller cannot page through a whole index.
MAX_K = 50
#: Longest question accepted, in characters; longer ones are cut (with a notice), not rejected.
MAX_QUESTION_CHARS = 100_000


def default_index_root() -> Path:
    """``RAG_INDEX_ROOT``, else ``index/`` beside ``pyproject.toml`` in a source checkout, else
    ``~/.cache/rag-articles/index``."""
    env = os.environ.get("RAG_INDEX_ROOT")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").exists():
        return repo / "index"
    return Path.home() / ".cache" / "rag-articles" / "index"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as e:
        raise ValueError(f"{name}={raw!r} is not a number") from e


@dataclass
class Settings:
    """Engine settings; :meth:`from_env` reads the variables in the module docstring."""

    index_root: Path = field(default_factory=default_index_root)
    k: int = 5
    alpha: float = 0.8
    refuse_below: float = REFUSE_BELOW
    rerank: bool = True
    #: Threads that embed one question; None: :attr:`rag.embedder.Embedder.query_threads` (2 for
    #: ONNX Runtime, which falls back to one thread for questions that arrive while another is
    #: being embedded; 1 for torch, whose spinning threads made a busy server ~10x slower). See
    #: docs/benchmarks.md. Ingest is not affected unless an Engine is open.
    embed_threads: int | None = None

    @classmethod
    def from_env(cls) -> "Settings":
        """Settings from the environment. Raises ``ValueError`` for a malformed or out-of-range
        number."""
        threads = os.environ.get("RAG_EMBED_THREADS", "").strip()
        s = cls(k=int(_env_float("RAG_TOP_K", 5)), alpha=_env_float("RAG_HYBRID_ALPHA", 0.8),
                refuse_below=_env_float("RAG_REFUSE_BELOW", REFUSE_BELOW),
                rerank=os.environ.get("RAG_RERANK", "1").strip().lower() not in {"0", "false", "no", "off"},
                embed_threads=max(1, int(_env_float("RAG_EMBED_THREADS", 1))) if threads else None)
        if not 0.0 <= s.alpha <= 1.0:
            raise ValueError(f"RAG_HYBRID_ALPHA={s.alpha} must be between 0 and 1")
        if not 1 <= s.k <= MAX_K:
            raise ValueError(f"RAG_TOP_K={s.k} must be between 1 and {MAX_K}")
        return s

    @property
    def default_index_dir(self) -> Path:
        return self.index_root / DEFAULT_INDEX_NAME
