import re

import pytest

from rag import CANNOT_ANSWER, ask
from rag.evaluate import answer_hit


def _answerable(rows):
    return [r for r in rows if r["answerable"]]


def test_gold_article_in_top3_and_evidence_in_top5(engine, dev_rows):
    for row in _answerable(dev_rows):
        passages = engine.retrieve(row["question"], k=5)
        titles = [p.chunk.title for p in passages[:3]]
        assert any(t.startswith(row["article"]) for t in titles), (row["id"], titles)
        assert any(row["evidence"] in p.chunk.text for p in passages), row["id"]


#: Seed rows the SQuAD-fitted answerer still gets wrong (issue 12 stays open for them); strict:
#: the test fails as soon as one is answered right, so the mark must then be removed.
SEED_MISSES = {
    "d02": "answered (answerability 0.19 over the threshold 0.107), but the lead sentence is the 1984 "
           "General Assembly resolution, not the World Health Organization one",
}


def _seed_rows():
    import json

    from conftest import DEV

    rows = [json.loads(x) for x in DEV.read_text().splitlines() if x.strip()]
    return [pytest.param(r, id=r["id"], marks=[pytest.mark.xfail(reason=SEED_MISSES[r["id"]], strict=True)]
                         if r["id"] in SEED_MISSES else []) for r in rows if r["answerable"]]


@pytest.mark.parametrize("row", _seed_rows())
def test_answerable_rows_answered_with_citation_to_gold(engine, row):
    a = engine.ask(row["question"])
    assert not a.refused, (row["id"], a.reason)
    assert answer_hit(a.text, row["answer_any"]), (row["id"], a.text)
    assert any(c.title.startswith(row["article"]) for c in a.citations), row["id"]


def test_unanswerable_rows_refused_with_reason(engine, dev_rows):
    for row in dev_rows:
        if row["answerable"]:
            continue
        a = engine.ask(row["question"])
        assert a.refused, (row["id"], a.text)
        assert a.text == CANNOT_ANSWER and a.citations == []
        assert "threshold" in a.reason and re.search(r"\d\.\d{3}", a.reason)


def test_citations_are_numbered_in_order_and_quote_their_passage(engine):
    a = engine.ask("Why is Taiwan still denied observer status at Interpol?")
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", a.text)]
    first_use = list(dict.fromkeys(markers))
    assert first_use == list(range(1, len(first_use) + 1))
    assert [c.number for c in a.citations] == first_use
    assert len({c.chunk_id for c in a.citations}) == len(a.citations)  # one number per passage
    chunks = {c.id: c for c in engine.chunks}
    for c in a.citations:
        assert c.quote and c.quote in chunks[c.chunk_id].text
        assert c.paragraph == chunks[c.chunk_id].paragraphs[0]
    # every sentence of the answer is copied from the passage it cites
    for sentence, n in re.findall(r"(.+?) \[(\d+)\]\s*", a.text):
        assert sentence.strip() in chunks[a.citations[int(n) - 1].chunk_id].text


def test_module_level_ask_and_answer_fields(engine):
    a = ask("How many active Chinese investigations were running through Interpol by September 2017?")
    assert "3,000" in a.text
    assert a.citations[0].title == "China could pull Interpol funding after Meng Hongwei’s arrest"
    d = a.to_dict()
    assert {"question", "text", "citations", "passages", "refused", "reason"} <= set(d)
    assert {"number", "chunk_id", "title", "url", "paragraph", "quote", "score"} <= set(d["citations"][0])
    assert len(a.passages) == 5 and a.passages[0].score >= a.passages[-1].score


@pytest.mark.parametrize("q", ["", "   ", "\n\t "])
def test_empty_question_is_a_plain_value_error(engine, q):
    with pytest.raises(ValueError, match="empty"):
        engine.ask(q)


def test_huge_question_is_cut_with_notice(engine):
    a = engine.ask("How many investigations did China run through Interpol? " * 5000)
    assert any("characters" in n for n in a.notices)
    assert not a.refused and "3,000" in a.text


def test_follow_up_carries_subject(engine):
    history = [("Who is Meng Hongwei?", "…")]
    a = engine.ask("When was he elected?", history=history)
    assert "Meng Hongwei" in a.standalone_question
    assert any("November 2016" in p.chunk.text for p in a.passages[:3])


def test_a_why_question_leads_with_the_sentence_stating_the_cause(engine):
    """'Why ...?' is answered by a sentence that states a cause ("results from"): when the likelier
    sentence states none, the causal one within reach leads."""
    a = engine.ask("Why is Taiwan still denied observer status at Interpol?")
    lead = a.text[: a.text.index("[1]")]
    assert "results from China blocking the decision" in lead, a.text
