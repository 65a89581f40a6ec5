"""The tools people already have: the real `openai` client against `rag serve`'s /v1 endpoint, and
the real `mcp` client against `rag mcp` over stdio."""
import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from conftest import free_port

pytestmark = pytest.mark.slow  # real servers and a subprocess: in CI, not in the fast tier

ROOT = Path(__file__).resolve().parents[1]
Q_3000 = "How many active Chinese investigations were running through Interpol by September 2017?"
TITLE = "China could pull Interpol funding after Meng Hongwei’s arrest"


@pytest.fixture(scope="module")
def api(engine):
    from ui.app import launch

    port = free_port()
    os.environ["RAG_API_KEYS"] = "key-one,key-two"
    demo, _ = launch(engine, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/v1"
    demo.close()
    del os.environ["RAG_API_KEYS"]


def test_openai_client_gets_the_cited_answer(api):
    import openai

    client = openai.OpenAI(base_url=api, api_key="key-two", max_retries=0)
    assert "default" in [m.id for m in client.models.list().data]
    r = client.chat.completions.create(model="default", messages=[{"role": "user", "content": Q_3000}])
    text = r.choices[0].message.content
    assert text.startswith("By September 2017") and "3,000" in text.split("\n")[0] and "[1]" in text
    assert f"Sources:\n[1] {TITLE}, paragraph 7 — https://" in text
    extra = r.model_extra
    assert extra["refused"] is False and extra["citations"][0]["title"] == TITLE
    assert extra["citations"][0]["quote"] in text and "3,000" in extra["short_answer"]["text"]


def test_openai_stream_refusal_and_history(api):
    import openai

    client = openai.OpenAI(base_url=api, api_key="key-one", max_retries=0)
    parts, last = [], None
    for chunk in client.chat.completions.create(model="default", stream=True, messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Who won the 2022 FIFA World Cup?"}]):
        parts.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert "".join(parts).startswith("The articles don't say")
    assert last.choices[0].finish_reason == "stop" and last.model_extra["refused"] is True
    assert last.model_extra["citations"] == []
    # the history comes from the messages: "he" is John Kerry, named only in the first question
    r = client.chat.completions.create(model="default", messages=[
        {"role": "user", "content": [{"type": "text", "text": "What did John Kerry say about cyber?"}]},
        {"role": "assistant", "content": "He spoke of a shared understanding [1]."},
        {"role": "user", "content": "Who did he hold a press conference with?"}])
    assert r.model_extra["standalone_question"].endswith("(John Kerry)")
    assert "Wang Yang" in r.choices[0].message.content and not r.model_extra["refused"]


def test_openai_endpoint_rejects_wrong_keys_and_bad_requests(api):
    import openai

    bad = openai.OpenAI(base_url=api, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="Invalid or missing API key"):
        bad.chat.completions.create(model="default", messages=[{"role": "user", "content": Q_3000}])
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    assert httpx.get(api + "/models", timeout=10).status_code == 401  # no key at all
    good = openai.OpenAI(base_url=api, api_key="key-one", max_retries=0)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        good.chat.completions.create(model="nope", messages=[{"role": "user", "content": Q_3000}])
    with pytest.raises(openai.BadRequestError, match="no user message"):
        good.chat.completions.create(model="default", messages=[{"role": "system", "content": "hi"}])
    for extra, message in (({"k": 10**6}, "between 1 and 50"), ({"k": True}, "between 1 and 50"),
                           ({"stream": "yes"}, "stream must be"), ({"n": 2}, "n must be 1")):
        with pytest.raises(openai.BadRequestError, match=message):
            good.chat.completions.create(model="default", messages=[{"role": "user", "content": Q_3000}],
                                         extra_body=extra)


def test_mcp_client_lists_and_calls_both_tools(index_root):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=["-m", "rag.cli", "mcp"], cwd=str(ROOT),
                                   env={**os.environ, "PYTHONPATH": str(ROOT), "RAG_INDEX_ROOT": str(index_root)})

    async def run():
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            found = await session.call_tool("search_articles", {"query": Q_3000, "k": 3})
            answered = await session.call_tool("ask_articles", {"question": Q_3000})
            refused = await session.call_tool("ask_articles", {"question": "Who won the 2022 FIFA World Cup?"})
            bad = await session.call_tool("search_articles", {"query": "Interpol", "k": 0})
            return tools, found, answered, refused, bad

    tools, found, answered, refused, bad = asyncio.run(run())
    assert set(tools) == {"search_articles", "ask_articles"}
    k_schema = tools["search_articles"].inputSchema["properties"]["k"]
    assert "query" in tools["search_articles"].inputSchema["properties"]
    assert (k_schema["minimum"], k_schema["maximum"]) == (1, 50)
    hits = found.structuredContent["result"]
    assert len(hits) == 3 and hits[0]["title"] == TITLE and "3,000" in hits[0]["text"]
    assert hits[0]["id"].startswith("china-could-pull-interpol-funding") and hits[0]["url"].startswith("https://")
    a = answered.structuredContent
    assert a["refused"] is False and "3,000" in a["answer"] and a["citations"][0]["title"] == TITLE
    assert refused.structuredContent["refused"] is True and refused.structuredContent["citations"] == []
    assert bad.isError and "greater than or equal to 1" in bad.content[0].text


def test_mcp_over_http_beside_the_chat(api):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    url = api.removesuffix("/v1") + "/mcp/"

    async def run(key):
        async with streamablehttp_client(url, headers={"Authorization": f"Bearer {key}"}) as (read, write, _), \
                ClientSession(read, write) as session:
            await session.initialize()
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            return tools, await session.call_tool("ask_articles", {"question": Q_3000})

    tools, answered = asyncio.run(run("key-two"))
    assert tools == ["ask_articles", "search_articles"]
    assert "3,000" in answered.structuredContent["answer"] and answered.structuredContent["citations"][0]["title"] == TITLE
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                   headers={"Authorization": "Bearer wrong", "Accept": "application/json, text/event-stream"})
    assert r.status_code == 401 and "Invalid or missing API key" in r.text
