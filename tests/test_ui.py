"""The web chat, for real: Gradio on free loopback ports, gradio_client, and Debian chromium
driven by Playwright."""
import json
import os
import re
from pathlib import Path

import httpx
import pytest

from conftest import add_files, free_port, name_collection

ROOT = Path(__file__).resolve().parents[1]
Q_3000 = "How many active Chinese investigations were running through Interpol by September 2017?"


def _start(engine, **kw):
    from ui.app import launch

    port = free_port()
    demo, _ = launch(engine, "127.0.0.1", port, prevent_thread_lock=True, quiet=True, **kw)
    return demo, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def server(engine):
    demo, url = _start(engine)
    yield url
    demo.close()




def _ask(page, question):
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def test_gradio_client_gets_structured_answer(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    r = client.predict(Q_3000, 5, api_name="/ask")
    assert r["refused"] is False and "3,000" in r["text"] and "[1]" in r["text"]
    assert r["citations"][0]["title"] == "China could pull Interpol funding after Meng Hongwei’s arrest"
    assert r["citations"][0]["chunk_id"].startswith("china-could-pull-interpol-funding")
    refused = client.predict("Who won the 2022 FIFA World Cup?", 5, api_name="/ask")
    assert refused["refused"] is True and refused["citations"] == []
    assert all("/" not in p["source"] and "\\" not in p["source"] for p in r["passages"])  # no server paths
    with pytest.raises(Exception, match="between 1 and 50"):
        client.predict("Who is Meng Hongwei?", 10**12, api_name="/ask")  # no paging through the index
    with pytest.raises(Exception, match="Unknown answer mode"):
        client.predict("Who is Meng Hongwei?", 5, "bogus", api_name="/ask")
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", 5, api_name="/ask")


@pytest.mark.slow  # a real browser: in CI, not the fast tier
def test_browser_cited_answer_chip_opens_highlighted_source(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    page.get_by_text(Q_3000[:40]).first.click()  # an example question fills the box
    page.wait_for_function("document.querySelector('#question textarea').value.includes('September 2017')")
    page.locator("#ask").click()
    chat = page.locator("#chat")
    chip = chat.locator('a[href="#source-1-1"]').first
    chip.wait_for(timeout=60_000)
    assert "3,000" in chat.inner_text()
    assert chat.locator("strong", has_text="3,000").count() >= 1  # the short answer in bold
    sources = page.locator("#sources")
    sources.get_by_text("China could pull Interpol funding").first.wait_for(timeout=10_000)
    chip.click()
    active = page.locator("#sources .source.active")
    active.wait_for(timeout=5_000)
    assert active.get_attribute("id") == "source-1-1"
    assert "paragraph 7" in active.inner_text() and re.search(r"retrieved #\d, similarity 0\.\d\d", active.inner_text())
    assert "3,000 active investigations" in active.locator("mark").first.inner_text()
    link = active.locator("a").first.get_attribute("href")
    assert link.startswith("https://www.aspistrategist.org.au/")
    assert "Other retrieved passages" in sources.inner_text()
    # the README's screenshot is refreshed on request only (tests do not touch tracked files)
    shot = ROOT / "docs" / "ui.png" if os.environ.get("RAG_UPDATE_SCREENSHOT") == "1" else tmp_path / "ui.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()


@pytest.mark.slow  # a real browser: in CI, not the fast tier
def test_browser_refusal_looks_different(server, browser):
    page = browser.new_page()
    page.goto(server)
    _ask(page, "Who won the 2022 FIFA World Cup?")
    chat = page.locator("#chat")
    chat.get_by_text("No answer in the articles").first.wait_for(timeout=60_000)
    assert "Why: The evidence is weak" in chat.inner_text()
    assert page.locator("#sources .refusal").count() == 1
    assert page.locator('#chat a[href^="#source-"]').count() == 0
    page.close()


@pytest.mark.slow  # a real browser: in CI, not the fast tier
def test_hostile_document_markup_is_shown_as_text(tmp_path, embedder, browser):
    from rag import Engine
    from rag.documents import Document
    from rag.ingest import build_index

    text = ("Harbour bulletin\n\nThe harbour counted 412 container ships in March <img src=x onerror=alert(1)> "
            "and <script>alert(2)</script> a record for the port, officials said on Monday.")
    build_index([Document(text=text, source="evil.txt", title="evil")], tmp_path / "evil", embedder=embedder)
    demo, url = _start(Engine(tmp_path / "evil", embedder=embedder))
    try:
        page = browser.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        _ask(page, "How many container ships did the harbour count in March?")
        page.locator('#chat a[href="#source-1-1"]').first.wait_for(timeout=60_000)
        page.wait_for_function("document.querySelector('#sources').innerText.includes('onerror=alert(1)')",
                               timeout=10_000)  # the sources panel rendered
        assert "<img src=x onerror=alert(1)>" in page.locator("#sources").inner_text()
        assert "<script>alert(2)</script>" in page.locator("#chat").inner_text()
        assert page.locator("#sources img, #chat img[src=x]").count() == 0
        assert dialogs == []
        page.close()
    finally:
        demo.close()


def test_login_required_when_auth_is_on(engine):
    from ui.app import auth_from_env

    assert auth_from_env("ana:s3cret, bo:pw") == [("ana", "s3cret"), ("bo", "pw")]
    with pytest.raises(ValueError, match="entry 1") as e:
        auth_from_env("no-colon")
    assert "no-colon" not in str(e.value)
    demo, url = _start(engine, auth=[("ana", "s3cret")])
    try:
        wrong = httpx.post(url + "login", data={"username": "ana", "password": "nope"})
        right = httpx.post(url + "login", data={"username": "ana", "password": "s3cret"})
        assert wrong.status_code in (400, 401)
        assert right.status_code == 200
        assert httpx.get(url + "config").status_code in (401, 403) or "login" in httpx.get(url).text.lower()
    finally:
        demo.close()


def test_safe_upload_names():
    from ui.app import safe_name

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\boot.ini") == "boot.ini"
    assert safe_name("..") == "upload"
    assert safe_name(".bashrc.txt") == "bashrc.txt"
    assert safe_name("Rapport d’été.md") == "Rapport d_été.md"
    assert len(safe_name("x" * 300 + ".txt")) == 100 and safe_name("x" * 300 + ".txt").endswith(".txt")


@pytest.mark.slow  # a real browser: in CI, not the fast tier
def test_browser_upload_then_ask(tmp_path, embedder, browser):
    from rag import Engine
    from rag.documents import Document
    from rag.ingest import build_index

    build_index([Document(text="Port notes\n\nThe old lighthouse keeper retired in 1990 after thirty years of service.",
                          source="seed.txt", title="notes")], tmp_path / "mine", embedder=embedder)
    up = tmp_path / "in"
    up.mkdir()
    good = up / "Rapport d’été.md"
    good.write_text("# Glacier survey\n\nThe survey team measured the Aletsch glacier retreating 51 metres in 2023, "
                    "the largest loss since records began.\n", encoding="utf-8")
    bad = up / "tool.exe"
    bad.write_bytes(b"MZ\x00\x01")
    demo, url = _start(Engine(tmp_path / "mine", embedder=embedder))
    try:
        page = browser.new_page()
        page.goto(url)
        name_collection(page, "glaciers")
        add_files(page, [good, bad], "added 1 file(s) to the collection glaciers")
        _ask(page, "How far did the Aletsch glacier retreat in 2023?")
        page.locator('#chat a[href="#source-1-1"]').first.wait_for(timeout=60_000)
        assert "51 metres" in page.locator("#chat").inner_text()
        assert "Glacier survey" in page.locator("#sources").inner_text()
        page.close()
        # the file went into the user's own collection; the index the chat started on is unchanged
        root = Path(os.environ["RAG_INDEX_ROOT"])
        stored = list(root.glob("users/*/uploads/glaciers/*"))
        assert [p.name for p in stored] == ["Rapport d_été.md"]
        assert [s["title"] for s in json.loads(next((tmp_path / "mine").glob("v-*/manifest.json")).read_text())["sources"]] == ["notes"]
    finally:
        demo.close()
