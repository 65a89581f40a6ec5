"""The one settings object (issue 16, item 6): every environment variable, validated, one-line errors."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.settings import ENV_VARS, MAX_K, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(monkeypatch):
    """A clean environment for the settings: none of their variables set."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_importing_settings_loads_no_heavy_module():
    code = ("import json, sys; import rag.settings; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'faiss', 'torch', 'spacy', 'numpy'})))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_defaults(env):
    s = Settings.from_env()
    assert (s.k, s.alpha, s.rerank, s.embed_threads, s.embed_backend, s.llm_mode, s.llm_model, s.llm_timeout,
            s.llm_retries, s.ui_max_upload_mb, s.store) == (5, 0.8, True, None, "auto", "none", "gpt-4o-mini",
                                                            30.0, 2, 20.0, "")
    from rag.answer_model import REFUSE_BELOW

    assert s.refuse_below == REFUSE_BELOW
    assert s.default_index_dir == s.index_root / "default" and s.model_cache_dir == s.index_root / ".models"
    assert s.api_key_list == [] and s.ui_auth is None and s.openai_api_key is None


def test_good_values_are_parsed(env, tmp_path):
    for name, value in {"RAG_INDEX_ROOT": str(tmp_path), "RAG_TOP_K": "7", "RAG_HYBRID_ALPHA": "0.5",
                        "RAG_RERANK": "off", "RAG_REFUSE_BELOW": "0.2", "RAG_EMBED_THREADS": "3",
                        "RAG_EMBED_BACKEND": " Torch ", "RAG_MODEL_CACHE": str(tmp_path / "m"), "RAG_LLM": "OpenAI",
                        "RAG_LLM_MODEL": "smollm2", "OPENAI_BASE_URL": "http://127.0.0.1:8080/v1",
                        "RAG_LLM_TIMEOUT": "2.5", "RAG_LLM_RETRIES": "0", "RAG_UI_MAX_UPLOAD_MB": "1.5",
                        "RAG_API_KEYS": "k1, k2,", "RAG_STORE": "milvus://127.0.0.1:19530/articles"}.items():
        env.setenv(name, value)
    s = Settings.from_env()
    assert (s.index_root, s.k, s.alpha, s.rerank, s.refuse_below, s.embed_threads, s.embed_backend,
            s.model_cache_dir, s.llm_mode, s.llm_model, s.openai_base_url, s.llm_timeout, s.llm_retries,
            s.ui_max_upload_mb, s.api_key_list, s.store) == (
        tmp_path, 7, 0.5, False, 0.2, 3, "torch", tmp_path / "m", "openai", "smollm2", "http://127.0.0.1:8080/v1",
        2.5, 0, 1.5, ["k1", "k2"], "milvus://127.0.0.1:19530/articles")
    assert s.default_index_dir == tmp_path / "default"


def test_empty_is_unset_and_the_environment_is_read_again(env):
    env.setenv("RAG_TOP_K", "")
    assert Settings.from_env().k == 5
    env.setenv("RAG_TOP_K", "9")
    assert Settings.from_env().k == 9  # a changed variable is seen at once
    a = Settings.from_env()
    a.k = 1
    assert Settings.from_env().k == 9  # each caller gets its own copy


def test_an_api_key_makes_openai_the_default_mode_and_is_never_shown(env):
    env.setenv("OPENAI_API_KEY", "sk-test-SECRET-123")
    s = Settings.from_env()
    assert s.llm_mode == "openai" and "SECRET" not in repr(s) and "SECRET" not in str(s.model_dump())


@pytest.mark.parametrize("name, value, message", [
    ("RAG_LLM_TIMEOUT", "abc", "RAG_LLM_TIMEOUT must be a number of seconds (more than 0), got 'abc'"),
    ("RAG_LLM_TIMEOUT", "0", "RAG_LLM_TIMEOUT must be a number of seconds (more than 0), got '0'"),
    ("RAG_LLM_RETRIES", "two", "RAG_LLM_RETRIES must be a whole number of retries, 0 or more, got 'two'"),
    ("RAG_TOP_K", "0", f"RAG_TOP_K must be a whole number from 1 to {MAX_K}, got '0'"),
    ("RAG_TOP_K", "51", f"RAG_TOP_K must be a whole number from 1 to {MAX_K}, got '51'"),
    ("RAG_HYBRID_ALPHA", "1.5", "RAG_HYBRID_ALPHA must be a number from 0 to 1, got '1.5'"),
    ("RAG_REFUSE_BELOW", "high", "RAG_REFUSE_BELOW must be a probability from 0 to 1, got 'high'"),
    ("RAG_RERANK", "maybe", "RAG_RERANK must be 1 or 0 (also true/false, yes/no, on/off), got 'maybe'"),
    ("RAG_EMBED_THREADS", "0", "RAG_EMBED_THREADS must be a whole number of threads, 1 or more, got '0'"),
    ("RAG_EMBED_BACKEND", "tensorflow", "RAG_EMBED_BACKEND must be onnx or torch, got 'tensorflow'"),
    ("RAG_LLM", "gpt", "RAG_LLM must be one of none, openai, local, got 'gpt'"),
    ("RAG_UI_MAX_UPLOAD_MB", "lots", "RAG_UI_MAX_UPLOAD_MB must be a number of megabytes (more than 0), got 'lots'"),
])
def test_a_bad_value_is_one_line_naming_the_variable(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(SettingsError) as e:
        Settings.from_env()
    assert str(e.value) == message
    assert isinstance(e.value, ValueError) and e.value.__cause__ is None and e.value.__suppress_context__


def test_two_bad_values_are_one_line(env):
    env.setenv("RAG_TOP_K", "x")
    env.setenv("RAG_LLM_TIMEOUT", "y")
    with pytest.raises(SettingsError) as e:
        Settings.from_env()
    assert "\n" not in str(e.value) and "RAG_TOP_K must be" in str(e.value) and "RAG_LLM_TIMEOUT must be" in str(e.value)


def test_the_cli_reports_a_bad_value_in_one_line(env, capsys):
    from rag.cli import main

    env.setenv("RAG_LLM_TIMEOUT", "abc")
    assert main(["stats"]) == 2
    assert capsys.readouterr().err == "rag: error: RAG_LLM_TIMEOUT must be a number of seconds (more than 0), got 'abc'\n"


def test_the_modules_read_the_settings(env, tmp_path):
    from rag.embedder import onnx_cache_dir
    from rag.llm import LLMConfig
    from rag.openai_compat import api_keys_from_env, auth_from_env

    env.setenv("RAG_MODEL_CACHE", str(tmp_path / "models"))
    env.setenv("RAG_LLM_TIMEOUT", "7")
    env.setenv("RAG_LLM_RETRIES", "0")
    env.setenv("RAG_LLM_MODEL", "m")
    env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    env.setenv("RAG_UI_AUTH", "ann:pw1,bob:pw2")
    assert onnx_cache_dir() == tmp_path / "models"
    cfg = LLMConfig.from_env()
    assert (cfg.mode, cfg.model, cfg.base_url, cfg.timeout, cfg.retries) == ("openai", "m", "http://127.0.0.1:9/v1", 7.0, 0)
    assert auth_from_env() == [("ann", "pw1"), ("bob", "pw2")]
    assert api_keys_from_env() == ["ann:pw1", "bob:pw2"]
    env.setenv("RAG_API_KEYS", "key-one,key-two")
    assert api_keys_from_env() == ["key-one", "key-two"]


def test_the_readme_table_lists_every_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = [v for line in rows for v in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])]
    assert sorted(set(ENV_VARS)) == sorted(v for v in set(named) if v != "GRADIO_ANALYTICS_ENABLED")
    assert len(named) == len(set(named))
