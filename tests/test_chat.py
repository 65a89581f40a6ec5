"""The chat as people use it: follow-ups in every message format, each answer's own sources,
sessions kept apart, conversations saved in SQLite (and surviving SIGKILL), and a server that
follows its index on disk. Real Gradio servers on loopback, real chromium, real `rag` processes."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import add_files, free_port, name_collection
from fake_openai import FakeOpenAI, first_sentence, source_text

ROOT = Path(__file__).resolve().parents[1]
KERRY = ["What did John Kerry say about cyber?", "Who did he hold a press conference with?",
         "What did he say the two countries need to develop?"]


# --- follow-ups: the engine reads every history format ---------------------------------------

def test_history_in_every_message_format():
    from gradio import ChatMessage

    from rag.engine import _turns, condense_offline

    q = "What did John Kerry say about cyber?"
    forms = {
        "pairs": [(q, "an answer")],
        "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "an answer"}],
        "gradio blocks": [{"role": "user", "content": [{"type": "text", "text": q}]},
                          {"role": "assistant", "content": [{"type": "text", "text": "an answer"}]}],
        "openai parts": [{"role": "user", "content": [{"type": "text", "text": q},
                                                      {"type": "image_url", "image_url": {"url": "x"}}]}],
        "ChatMessage": [ChatMessage(role="user", content=q), ChatMessage(role="assistant", content="x")],
    }
    for name, history in forms.items():
        assert _turns(history) == [q], name
        assert condense_offline("Who did he meet?", history) == "Who did he meet? (John Kerry)", name
    # a third turn reaches back past a follow-up that names nobody
    history = forms["messages"] + [{"role": "user", "content": [{"type": "text", "text": KERRY[1]}]}]
    assert condense_offline(KERRY[2], history) == KERRY[2] + " (John Kerry)"
    assert condense_offline("Who is Meng Hongwei?", history) == "Who is Meng Hongwei?"  # no pronoun


# --- saved conversations -----------------------------------------------------------------------

def _answer(engine, question, history=None):
    return engine.ask(question, history=history).to_dict()


def test_conversation_store_keeps_each_users_turns(tmp_path, engine):
    from rag.conversations import NEW_TITLE, ConversationNotFound, ConversationStore

    store = ConversationStore(tmp_path / "c.sqlite3")
    import sqlite3

    with sqlite3.connect(store.path) as db:  # the write-ahead log is a property of the file
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    a = store.create("alice", index="default")
    b = store.create("bob")
    assert store.info(a, "alice").title == NEW_TITLE
    q1 = "How many active Chinese investigations were running through Interpol by September 2017?"
    assert store.add_turn(a, "alice", q1, _answer(engine, q1)) == 1
    assert store.add_turn(a, "alice", KERRY[0], _answer(engine, KERRY[0])) == 2
    assert store.info(a, "alice").title == q1[:79] + "…"  # the first question names it
    assert [c.id for c in store.list("alice")] == [a] and [c.id for c in store.list("bob")] == [b]
    for call in (lambda: store.turns(a, "bob"), lambda: store.rename(a, "bob", "x"), lambda: store.delete(a, "bob")):
        with pytest.raises(ConversationNotFound):
            call()
    store.rename(a, "alice", "  Interpol   questions ")
    assert store.info(a, "alice").title == "Interpol questions"
    with pytest.raises(ValueError, match="empty"):
        store.rename(a, "alice", "   ")
    turns = store.turns(a, "alice")
    assert [t.question for t in turns] == [q1, KERRY[0]] and "3,000" in turns[0].answer["text"]

    md = store.to_markdown(a, "alice")
    assert md.startswith("# Interpol questions\n") and "**Q1: " + q1 + "**" in md
    # both answers cite their first passage as [1]; the export numbers them [1] and [2]
    assert "3,000" in md and "[1]" in md and "[2]" in md and "## Sources" in md
    bib = md.split("## Sources")[1]
    assert "[1] China could pull Interpol funding after Meng Hongwei’s arrest. https://" in bib
    assert "paragraph " in bib and bib.count("\n[") >= 1
    data = store.to_json(a, "alice")
    assert [t["n"] for t in data["turns"]] == [1, 2] and data["turns"][0]["answer"]["citations"][0]["number"] == 1
    store.delete(a, "alice")
    assert store.list("alice") == []
    with pytest.raises(ConversationNotFound):
        store.turns(a, "alice")


def test_saved_answer_reopens_as_the_same_answer(engine):
    from rag import Answer

    a = engine.ask("How many active Chinese investigations were running through Interpol by September 2017?")
    b = Answer.from_dict(json.loads(json.dumps(a.to_dict())))
    assert b.to_dict() == a.to_dict() and b.marked() == a.marked() and "3,000**" in b.marked()


# --- a real server following its index on disk -------------------------------------------------

@pytest.mark.slow
def test_server_follows_cli_ingest_while_clients_ask(tmp_path, embedder):
    from gradio_client import Client

    from rag import Engine
    from rag.documents import Document
    from rag.ingest import build_index
    from ui.app import launch

    idx = tmp_path / "served"
    build_index([Document(text="Harbour notes\n\nThe old lighthouse keeper retired in 1990 after thirty years.",
                          source=str(tmp_path / "harbour.txt"), title="Harbour notes")], idx, embedder=embedder)
    new = tmp_path / "bridge.txt"
    new.write_text("Bridge report\n\nThe Kessel suspension bridge reopened in March 2024 after a "
                   "fourteen-month repair of its corroded main cables.\n", encoding="utf-8")
    question = "When did the Kessel suspension bridge reopen?"
    port = free_port()
    demo, _ = launch(Engine(idx, embedder=embedder), "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    stop, seen, errors = threading.Event(), [], []

    def client_loop():  # a client asking all along: every answer comes from one version or the other
        c = Client(f"http://127.0.0.1:{port}/", verbose=False)
        while not stop.is_set():
            try:
                r = c.predict(question, 3, api_name="/ask")
            except Exception as e:  # noqa: BLE001
                errors.append(e)
                return
            seen.append(r)

    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert client.predict(question, 3, api_name="/ask")["refused"] is True
        t = threading.Thread(target=client_loop)
        t.start()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(new), "--index", str(idx)],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr
        committed = time.monotonic()
        deadline = committed + 30
        while time.monotonic() < deadline:  # wait on the condition: the new fact is answered
            r = client.predict(question, 3, api_name="/ask")
            if not r["refused"]:
                break
        picked_up = time.monotonic() - committed
        stop.set()
        t.join(60)
        assert not errors, errors
        assert not r["refused"] and "March 2024" in r["text"], r
        assert r["citations"][0]["title"] == "Bridge report"
        assert picked_up < 10, picked_up  # the engine checks CURRENT every 0.5 s
        assert seen and all(x["refused"] or "March 2024" in x["text"] for x in seen)
        titles = {p["title"] for x in seen for p in x["passages"]}
        assert titles <= {"Harbour notes", "Bridge report"}
    finally:
        stop.set()
        demo.close()


# --- in the browser ---------------------------------------------------------------------------



def _ask(page, question, turn):
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    # the answer of this turn is in when its chip (or a refusal) is shown
    page.wait_for_function(
        f"document.querySelectorAll('#chat a[href^=\"#source-{turn}-\"]').length > 0"
        f" || document.querySelector('#chat').innerText.split('No answer in the articles').length > {turn}",
        timeout=60_000)


@pytest.fixture()
def chat_server(engine, tmp_path):
    from rag.conversations import ConversationStore
    from ui.app import launch

    port = free_port()
    store = ConversationStore(tmp_path / "conversations.sqlite3")
    demo, _ = launch(engine, "127.0.0.1", port, prevent_thread_lock=True, quiet=True, store=store)
    yield f"http://127.0.0.1:{port}/", store
    demo.close()


@pytest.mark.slow
def test_browser_follow_ups_and_old_chips(chat_server, browser):
    url, store = chat_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    for turn, q in enumerate(KERRY, 1):
        _ask(page, q, turn)
    chat = page.locator("#chat").inner_text()
    assert chat.count("Searched for: ") == 2 and "(John Kerry)" in chat
    assert "Wang Yang" in chat and "shared understanding" in chat
    assert "No answer in the articles" not in chat
    for turn in (1, 2, 3):
        assert page.locator(f'#chat a[href="#source-{turn}-1"]').count() >= 1
    # the first answer's chip opens the first answer's passage, not the newest one's
    page.locator('#chat a[href="#source-1-1"]').first.click()
    page.wait_for_function("document.querySelector('#source-1-1.active') !== null")
    assert page.locator("#answer-1").get_attribute("class").split() == ["answer-sources", "shown"]
    assert "shown" not in page.locator("#answer-3").get_attribute("class")
    assert page.locator("#answer-1 h4").inner_text() == "Answer 1: " + KERRY[0]
    assert page.locator("#source-1-1").is_visible() and not page.locator("#source-3-1").is_visible()
    # the conversation is saved with its three turns, under the browser's own id
    (conv,) = [c for u in _users(store) for c in store.list(u)]
    assert conv.turns == 3 and conv.title == KERRY[0]
    page.get_by_text("Copy the answer with its citations").click()
    copy = page.locator("#answer-md textarea")
    copy.wait_for(timeout=10_000)
    assert "shared understanding" in copy.input_value()  # the copy box: the latest answer
    # the chat's own clear button starts a new conversation: nothing of the old one carries over
    page.locator("#chat button[aria-label='Clear']").first.click()
    page.wait_for_function("document.querySelectorAll('#chat a[href^=\"#source-\"]').length === 0")
    page.wait_for_function("document.querySelector('#answer-md textarea').value === ''")
    _ask(page, "Who won the 2022 FIFA World Cup?", 1)  # refused
    _ask(page, "What is Interpol's main function?", 2)
    assert "Searched for" not in page.locator("#chat").inner_text()
    convs = sorted((c.turns, c.title) for u in _users(store) for c in store.list(u))
    assert convs == [(2, "Who won the 2022 FIFA World Cup?"), (3, KERRY[0])]
    page.close()


def _users(store):
    import sqlite3

    with sqlite3.connect(store.path) as db:
        return [u for (u,) in db.execute("SELECT DISTINCT user FROM conversations")]


@pytest.mark.slow
def test_browser_two_users_never_see_each_other(chat_server, browser, tmp_path):
    url, store = chat_server
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    a, b = a_ctx.new_page(), b_ctx.new_page()
    a.goto(url)
    b.goto(url)
    doc = tmp_path / "orchard.md"
    doc.write_text("# Orchard log\n\nThe Brambleton orchard harvested 412 crates of quince in October 2025.\n",
                   encoding="utf-8")
    name_collection(a, "orchards")
    add_files(a, [doc], "added 1 file(s) to the collection orchards")
    _ask(a, "How many crates of quince did the Brambleton orchard harvest?", 1)
    assert "412" in a.locator("#chat").inner_text()
    # B, at the same time: its own index (the bundled one), no collection of A's, no conversation of A's
    _ask(b, "How many crates of quince did the Brambleton orchard harvest?", 1)
    assert "No answer in the articles" in b.locator("#chat").inner_text()
    assert "412" not in b.locator("#chat").inner_text()
    b.get_by_text("Settings").click()
    b.locator("#index input").click()
    options = b.locator("ul[role=listbox] li").all_inner_texts()
    assert options and not any("orchards" in o for o in options), options
    b.keyboard.press("Escape")
    b_convs = b.locator("#conversations").inner_text()
    assert "quince" in b_convs and "Brambleton" in b_convs  # B's own question
    users = _users(store)
    assert len(users) == 2 and all(len(store.list(u)) == 1 for u in users)
    # A reloads the page: A's conversation and collection are still A's (kept in this browser)
    a.reload()
    a.locator("#conversations").get_by_text("How many crates of quince").wait_for(timeout=30_000)
    a.locator("#conversations").get_by_text("How many crates of quince").click()
    a.locator('#chat a[href="#source-1-1"]').first.wait_for(timeout=30_000)
    assert "412" in a.locator("#chat").inner_text()
    a_ctx.close()
    b_ctx.close()


def _serve(port, env):
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:  # ready when it prints its address
        if "chat at http://" in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc
    raise AssertionError(f"rag serve exited with {proc.wait()}")


@pytest.mark.slow
def test_browser_conversation_survives_sigkill_mid_answer(browser, index_root, tmp_path):
    """Turn 1 is answered and saved; turn 2 is in flight (the model is still answering) when the
    server gets SIGKILL. A new server on the same index root reopens turn 1 with its sources."""
    answering, release = threading.Event(), threading.Event()

    def reply(req):
        text = req["messages"][-1]["content"]
        if text.startswith("Rewrite the last question"):  # turn 2's condense call: hang there
            answering.set()
            release.wait(120)
            return "Who did John Kerry hold a press conference with?"
        return first_sentence(source_text(req, 1)) + " [1]"

    port = free_port()
    with FakeOpenAI([{"content": reply}]) as fake:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_INDEX_ROOT": str(index_root), "RAG_LLM": "openai",
               "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-test", "RAG_LLM_TIMEOUT": "120",
               "GRADIO_ANALYTICS_ENABLED": "False"}
        server = _serve(port, env)
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            _ask(page, KERRY[0], 1)
            first = page.locator("#chat").inner_text()
            page.locator("#question textarea").fill(KERRY[1])
            page.locator("#ask").click()
            assert answering.wait(60)  # turn 2 is mid-answer
            server.send_signal(signal.SIGKILL)
            server.wait(30)
        finally:
            release.set()
        server = _serve(port, env)
        try:
            page.reload()
            saved = page.locator("#conversations").get_by_text(KERRY[0])
            saved.wait_for(timeout=30_000)
            saved.click()
            page.locator('#chat a[href="#source-1-1"]').first.wait_for(timeout=30_000)
            assert page.locator("#chat").inner_text().strip() == first.strip()
            assert KERRY[1] not in page.locator("#chat").inner_text()  # the unfinished turn is not half-saved
            assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        finally:
            ctx.close()
            server.send_signal(signal.SIGTERM)
            server.wait(30)


def _login(browser, url, user, password):
    ctx = browser.new_context()  # a fresh browser: nothing in its local storage
    page = ctx.new_page()
    page.goto(url)
    page.locator("input:not([type=password])").first.fill(user)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#question textarea").wait_for(timeout=30_000)
    return ctx, page


@pytest.mark.slow
def test_browser_conversations_belong_to_the_login(engine, browser, tmp_path):
    from rag.conversations import ConversationStore
    from ui.app import launch

    port = free_port()
    store = ConversationStore(tmp_path / "conversations.sqlite3")
    demo, _ = launch(engine, "127.0.0.1", port, prevent_thread_lock=True, quiet=True, store=store,
                     auth=[("ana", "s3cret"), ("bo", "pw2")])
    url = f"http://127.0.0.1:{port}/"
    try:
        ctx, page = _login(browser, url, "ana", "s3cret")
        _ask(page, KERRY[0], 1)
        ctx.close()
        assert [c.title for c in store.list("ana")] == [KERRY[0]] and store.list("bo") == []
        # ana on another browser sees her conversation; bo does not
        ctx, page = _login(browser, url, "ana", "s3cret")
        page.locator("#conversations").get_by_text(KERRY[0]).wait_for(timeout=30_000)
        ctx.close()
        ctx, page = _login(browser, url, "bo", "pw2")
        page.locator("#conversations").wait_for(timeout=30_000)
        page.wait_for_function("document.querySelector('#conversations') !== null")
        assert KERRY[0] not in page.locator("#conversations").inner_text()
        _ask(page, "Who is Meng Hongwei?", 1)
        assert [c.title for c in store.list("bo")] == ["Who is Meng Hongwei?"]
        ctx.close()
    finally:
        demo.close()
