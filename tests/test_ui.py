"""The web chat, for real: Gradio on a free loopback port, gradio_client, and Debian chromium
driven by Playwright."""
from pathlib import Path

import pytest

from conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]


@pytest.fixture(scope="module")
def server(engine):
    from ui.app import CSS, build_app

    port = free_port()
    demo = build_app(engine)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name="127.0.0.1", server_port=port, share=False, prevent_thread_lock=True,
                css=CSS, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_gradio_client_gets_structured_answer(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    r = client.predict("How many active Chinese investigations were running through Interpol by September 2017?",
                       5, api_name="/ask")
    assert r["refused"] is False and "3,000" in r["text"] and "[1]" in r["text"]
    assert r["citations"][0]["title"] == "China could pull Interpol funding after Meng Hongwei’s arrest"
    assert r["citations"][0]["chunk_id"].startswith("china-could-pull-interpol-funding")
    refused = client.predict("Who won the 2022 FIFA World Cup?", 5, api_name="/ask")
    assert refused["refused"] is True and refused["citations"] == []


def test_browser_question_shows_cited_answer_and_sources(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server)
        page.locator("#question textarea").fill(
            "How many active Chinese investigations were running through Interpol by September 2017?")
        page.locator("#ask").click()
        chat = page.locator("#chat")
        chat.get_by_text("3,000", exact=False).first.wait_for(timeout=60_000)
        assert "[1]" in chat.inner_text()
        sources = page.locator("#sources")
        sources.get_by_text("China could pull Interpol funding").first.wait_for(timeout=10_000)
        assert "paragraph 7" in sources.inner_text()
        assert "3,000 active investigations" in sources.locator("mark").first.inner_text()
        link = sources.locator("a").first.get_attribute("href")
        assert link.startswith("https://www.aspistrategist.org.au/")
        (ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "docs" / "ui.png"), full_page=True)
        browser.close()
