"""Grounded question answering over articles: every answer sentence cites a passage, or refuses.

Public API::

    from rag import ask, Engine, Answer, Citation, Passage, ShortAnswer
    answer = ask("Who is Meng Hongwei?")

Names are imported lazily, so ``import rag`` does not load torch, FAISS or the model.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "ask": "engine", "ask_stream": "engine", "Engine": "engine", "LLMError": "llm", "LLMConfig": "llm", "default_engine": "engine",
    "add_documents": "indexes", "remove_documents": "indexes", "index_stats": "indexes", "list_indexes": "indexes",
    "ConversationStore": "conversations", "ConversationNotFound": "conversations",
    "Answer": "types", "Citation": "types", "Passage": "types", "Chunk": "types", "ShortAnswer": "types",
    "Settings": "settings", "CANNOT_ANSWER": "prompts",
    "IndexMismatchError": "store", "IndexNotFoundError": "store", "IndexCorruptError": "store",
    "IndexLockedError": "store", "DocumentError": "documents", "SUFFIXES": "documents", "Embedder": "embedder",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
