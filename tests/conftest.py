"""Shared fixtures: one real engine over the bundled corpus, built once per test session into a
temporary index root (real all-MiniLM-L6-v2, real FAISS, real BM25)."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED = SHARED / "seeds" / "000_38410aa59c9afed2.txt"
DEV = SHARED / "eval" / "seed_dev.jsonl"


@pytest.fixture(scope="session")
def index_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("index_root")
    os.environ["RAG_INDEX_ROOT"] = str(root)  # the product and any `rag` subprocess use it
    return root


@pytest.fixture(scope="session")
def embedder(index_root):
    from rag.embedder import Embedder  # default backend: ONNX Runtime, model exported under index_root

    return Embedder()


@pytest.fixture(scope="session")
def engine(index_root, embedder):
    from rag import Engine

    return Engine(embedder=embedder)


@pytest.fixture(scope="session")
def dev_rows():
    return [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_text():
    return SEED.read_text(encoding="utf-8")


#: Debian's chromium, driven by Playwright (never `playwright install`).
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def llm_env(monkeypatch):
    """Point the engine's openai client at a scripted server: ``llm_env(fake, timeout=, retries=)``."""
    def use(fake, **extra):
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-123")
        monkeypatch.setenv("RAG_LLM", "openai")
        monkeypatch.setenv("RAG_LLM_TIMEOUT", str(extra.get("timeout", 10)))
        monkeypatch.setenv("RAG_LLM_RETRIES", str(extra.get("retries", 2)))
    return use


def name_collection(page, name: str) -> None:
    """Open the chat's "add articles" box and type ``name`` as the collection, waiting until the
    box is mounted (its upload field and button shown) and the field holds ``name`` after it lost
    focus. Under load a name typed while the box was still mounting was lost twice (once the
    upload went to the default collection, once the field never held the name): the name is typed
    again, up to three times, whenever the field does not hold it 10 s after losing focus."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_text("Add articles to a collection of yours").click()
    page.locator("#add").wait_for(state="visible", timeout=30_000)
    page.locator("#upload").wait_for(state="visible", timeout=30_000)
    box = page.locator("#collection input, #collection textarea").first
    held = []
    for _ in range(3):
        box.fill(name)
        box.press("Tab")
        try:
            page.wait_for_function("(n) => { const b = document.querySelector('#collection input, "
                                   "#collection textarea'); return b !== null && b.value === n; }",
                                   arg=name, timeout=10_000)
            return
        except PlaywrightTimeout:
            held.append(box.input_value())
    raise AssertionError(f"typed {name!r} three times; the collection field held {held}")


def add_files(page, files, expect: str) -> None:
    """Upload ``files`` in the chat's "add articles" box and wait until ``#added`` reports
    ``expect``. The file's row shows before its upload has reached the server; an "Add" pressed
    too soon reports "Choose files first.", and is pressed again once the upload is done."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.locator("#upload input[type=file]").set_input_files([str(f) for f in files])
        page.wait_for_function("document.querySelector('#upload').innerText.includes('.')", timeout=30_000)
        page.locator("#add").click()
        js = ("(want) => { const t = document.querySelector('#added').innerText; "
              "return t.includes(want) || t.includes('Choose files first'); }")
        page.wait_for_function(js, arg=expect, timeout=120_000)
        if expect not in page.locator("#added").inner_text():
            page.wait_for_function("!document.querySelector('#upload').innerText.includes('Uploading')",
                                   timeout=60_000)
            page.locator("#add").click()
            page.locator("#added").get_by_text(expect).wait_for(timeout=120_000)
    except PlaywrightTimeout as e:  # say what the page showed instead, so a CI failure explains itself
        shown = {sel: page.locator(sel).inner_text() for sel in ("#added", "#upload")}
        shown["collection field"] = page.locator("#collection input, #collection textarea").first.input_value()
        raise AssertionError(f"waited for {expect!r}; the page showed {shown}") from e
