"""One settings object, read from environment variables (all optional).

| variable | meaning | default |
|---|---|---|
| ``RAG_INDEX_ROOT`` | folder holding the indexes | ``index/`` of a source checkout, else ``~/.cache/rag-articles/index`` |
| ``RAG_TOP_K`` | passages retrieved per question | 5 |
| ``RAG_HYBRID_ALPHA`` | weight of dense cosine vs. normalised BM25 in the fused score | 0.8 |
| ``RAG_REFUSE_BELOW`` | evidence score under which the offline answerer refuses | 0.46 |
| ``RAG_RERANK`` | ``0`` turns off the feature-weighted second stage (``rag.rerank``) | on |
| ``RAG_TORCH_THREADS`` | embedder (ONNX Runtime or torch) and FAISS threads an engine uses per question | 1 |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .answerer import REFUSE_BELOW

DEFAULT_INDEX_NAME = "default"
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
    #: A question is a few dozen tokens: splitting its matrix products across threads costs more
    #: than it saves (on 2 busy cores, 2 threads made ask() ~10x slower than 1), and concurrent
    #: users already keep the cores busy. Ingest is not affected unless an Engine is open.
    torch_threads: int = 1

    @classmethod
    def from_env(cls) -> "Settings":
        """Settings from the environment. Raises ``ValueError`` for a malformed or out-of-range
        number."""
        s = cls(k=int(_env_float("RAG_TOP_K", 5)), alpha=_env_float("RAG_HYBRID_ALPHA", 0.8),
                refuse_below=_env_float("RAG_REFUSE_BELOW", REFUSE_BELOW),
                rerank=os.environ.get("RAG_RERANK", "1").strip().lower() not in {"0", "false", "no", "off"},
                torch_threads=max(1, int(_env_float("RAG_TORCH_THREADS", 1))))
        if not 0.0 <= s.alpha <= 1.0:
            raise ValueError(f"RAG_HYBRID_ALPHA={s.alpha} must be between 0 and 1")
        if s.k < 1:
            raise ValueError(f"RAG_TOP_K={s.k} must be at least 1")
        return s

    @property
    def default_index_dir(self) -> Path:
        return self.index_root / DEFAULT_INDEX_NAME
