"""The two embedding backends give the same vectors; the ONNX one answers without torch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embedder import Embedder


def test_onnx_and_torch_backends_agree(embedder, seed_text):
    assert embedder.backend == "onnx"
    texts = [seed_text[:4000],  # longer than the 256-token window: both truncate alike
             "Who is Meng Hongwei?", "Jürgen Stock’s “45-year career”", "x", "红色通缉令 🚨 Interpol"]
    onnx = embedder.encode(texts)
    assert embedder.onnx_path.exists() and embedder.onnx_path.parent.parent == Path(os.environ["RAG_INDEX_ROOT"])
    torch = Embedder(backend="torch").encode(texts)
    assert onnx.shape == torch.shape == (5, 384) and onnx.dtype == np.float32
    assert np.abs(onnx - torch).max() < 1e-5
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([embedder.encode([t]) for t in texts])  # padding does not change a vector
    assert np.abs(one_by_one - onnx).max() < 1e-5


def test_engine_answers_without_importing_torch(engine, index_root):
    code = ("import json, sys; from rag import Engine; a = Engine().ask('Who is Meng Hongwei?'); "
            "print(json.dumps([a.refused, [m for m in ('torch', 'sentence_transformers', 'transformers') "
            "if m in sys.modules]]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, RAG_INDEX_ROOT=str(index_root)))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [False, []]


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown embedding backend 'tensorflow'"):
        Embedder(backend="tensorflow")


def test_questions_embedded_at_once_share_the_cores(index_root):
    """A lone question runs on all the session's threads; one that arrives while another is being
    embedded runs on a one-thread session instead (two multi-threaded runs fight over the cores).
    The vectors are the same either way."""
    from concurrent.futures import ThreadPoolExecutor

    emb = Embedder(threads=2)
    questions = [f"What did Interpol decide about red notice number {i}?" for i in range(48)]
    alone = np.vstack([emb.encode([q]) for q in questions])
    assert list(emb._sessions) == [2]  # nothing ran concurrently: the 2-thread session only
    with ThreadPoolExecutor(4) as pool:
        together = np.vstack(list(pool.map(lambda q: emb.encode([q]), questions)))
    assert sorted(emb._sessions) == [1, 2] and emb._in_flight == 0
    assert np.abs(together - alone).max() < 1e-5
    assert emb.query_threads == min(2, os.cpu_count() or 1)
    assert Embedder(backend="torch").query_threads == 1


@pytest.mark.slow
def test_the_onnx_export_shows_no_progress_bar_after_gradio_imported_huggingface_hub(tmp_path):
    """rag serve imports Gradio, which imports huggingface_hub before the export sets its quiet
    variables: the export still prints no "Loading weights" bar."""
    code = ("import sys, gradio; from rag.embedder import export_onnx, model_path; "
            "export_onnx(model_path(), sys.argv[1]); print('exported')")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "model.onnx")], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False"))
    assert r.returncode == 0 and r.stdout.strip().endswith("exported"), r.stderr[-2000:]
    assert (tmp_path / "model.onnx").stat().st_size > 1_000_000
    assert "Loading weights" not in r.stderr and "it/s]" not in r.stderr, r.stderr[-2000:]
