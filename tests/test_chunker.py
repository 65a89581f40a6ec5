import re

from rag.chunker import approx_tokens, chunk_document, slugify, split_articles
from rag.documents import default_corpus
from rag.sentences import split_sentences

TITLES = [
    "The case for Taiwan: observer status at Interpol’s world congress",
    "China could pull Interpol funding after Meng Hongwei’s arrest",
    "Cyber wrap",
]


def test_seed_has_exactly_three_articles(seed_text):
    heading, articles = split_articles(seed_text)
    assert [a.title for a in articles] == TITLES
    assert heading == "Tag Archive for: Interpol"


def test_caption_is_not_an_article(seed_text):
    _, articles = split_articles(seed_text)
    cyber = articles[2]
    assert [seed_text[s:e] for s, e in cyber.captions] == ["John Kerry"]
    assert all(a.title != "John Kerry" for a in articles)
    assert seed_text[cyber.paragraphs[0][0]:].startswith("Last week saw the conclusion")


def test_bundled_corpus_is_the_seed(seed_text):
    assert default_corpus().text == seed_text


def test_offsets_round_trip_and_ids(seed_text, embedder):
    doc = default_corpus()
    chunks = chunk_document(doc.text, source="seed", title=doc.title, url=doc.url,
                            article_urls=doc.article_urls, count_tokens=embedder.count_tokens)
    assert len(chunks) == 45
    for c in chunks:
        assert seed_text[c.start:c.end] == c.text
        assert re.fullmatch(r"[a-z0-9-]+#p\d+(\.\d+)?", c.id)
        assert embedder.count_tokens(c.text) <= 254
    assert len({c.id for c in chunks}) == len(chunks)
    assert {c.title for c in chunks} == set(TITLES)
    first = chunks[0]
    assert first.id == "the-case-for-taiwan-observer-status-at-interpols-world-congress#p1"
    assert first.url == "https://www.aspistrategist.org.au/the-case-for-taiwan-observer-status-at-interpols-world-congress/"
    # articles without their own URL fall back to the archive page they were found on
    assert chunks[-1].url == "https://www.aspistrategist.org.au/tag/interpol/"
    # the caption joins the first chunk of its article rather than standing alone
    cyber1 = next(c for c in chunks if c.id == "cyber-wrap#p1")
    assert cyber1.text.startswith("John Kerry\n\nLast week saw")
    # the quoted speech paragraph of Xi stays in the Meng article
    speech = next(c for c in chunks if c.text.startswith("We had the pleasure of hearing"))
    assert speech.title == TITLES[1]


def test_ids_are_stable_across_runs(seed_text):
    a = [c.id for c in chunk_document(seed_text, source="x")]
    b = [c.id for c in chunk_document(seed_text, source="x")]
    assert a == b


def test_short_paragraph_joins_neighbour():
    text = "A title line\n\nThis first paragraph has more than ten words in it for sure, yes.\n\nToo short.\n\nAnother long paragraph that has plenty of words to stand alone as a chunk here."
    chunks = chunk_document(text, source="t")
    assert [c.paragraphs for c in chunks] == [[1], [2, 3]]
    assert chunks[1].text.startswith("Too short.\n\nAnother long")
    assert all(text[c.start:c.end] == c.text for c in chunks)


def test_long_paragraph_splits_at_sentences_within_window(embedder):
    sentence = "Interpol coordinated police forces across many member countries during the operation. "
    para = (sentence * 60).strip()
    text = f"Long report\n\n{para}"
    chunks = chunk_document(text, source="t", max_tokens=200, count_tokens=embedder.count_tokens)
    assert len(chunks) > 1
    assert chunks[0].id.endswith("#p1") and chunks[1].id.endswith("#p1.2")
    for c in chunks:
        assert embedder.count_tokens(c.text) <= 200
        assert c.text.endswith("operation.")  # cut at a sentence boundary
        assert text[c.start:c.end] == c.text


def test_document_without_titles_is_one_article():
    text = "Plain notes without any heading, written as one ordinary paragraph of prose.\n\nA second paragraph, also prose, with enough words to stand alone."
    heading, arts = split_articles(text, default_title="notes")
    assert heading is None and [a.title for a in arts] == ["notes"] and len(arts[0].paragraphs) == 2


def test_slugify_folds_accents_and_apostrophes():
    assert slugify("China could pull Interpol funding after Meng Hongwei’s arrest") == \
        "china-could-pull-interpol-funding-after-meng-hongweis-arrest"
    assert slugify("Jürgen Stock") == "jurgen-stock"


def test_sentences_keep_abbreviations_and_offsets():
    text = "Mr. Stock met the U.S. delegation. He left at 5 p.m. Then ‘Why?’ she asked. Done"
    spans = split_sentences(text)
    got = [text[s:e] for s, e in spans]
    assert got[0] == "Mr. Stock met the U.S. delegation."
    assert got[-1] == "Done"
    assert approx_tokens("one two three") >= 3
