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


FERRY = ("Ferry Strike Ends After Nine Days\n\n"
         "The ferry workers' union ended its strike on Friday after nine days of cancelled crossings.\n\n"
         "What the union won\n\n"
         "Crews will get a 6 percent raise over two years and a cap on night shifts.\n\n"
         "Reaction\n\n"
         "Commuter Lena Holt said she had spent 300 euros on taxis during the strike.\n")


def test_section_headings_of_a_text_file_stay_in_its_one_article():
    heading, arts = split_articles(FERRY, default_title="ferry")
    assert heading is None and [a.title for a in arts] == ["Ferry Strike Ends After Nine Days"]
    assert [FERRY[s:e] for s, e in arts[0].paragraphs][1:3] == [
        "What the union won", "Crews will get a 6 percent raise over two years and a cap on night shifts."]


def test_label_lines_and_sections_of_markdown_are_not_articles():
    md = ("# Copper Mine Approved\n\nThe regional council approved the copper mine on Tuesday.\n\n"
          "Key facts:\n\nThe mine is owned by Harlan Resources.\n\n## Water\n\nIt will draw river water.\n\n"
          "# Second Story\n\nA second article follows in the same file.\n")
    _, arts = split_articles(md, default_title="mine")
    assert [a.title for a in arts] == ["Copper Mine Approved", "Second Story"]
    assert "Key facts:" in [md[s:e] for s, e in arts[0].paragraphs]


def test_archive_page_still_splits_into_articles_and_a_colon_line_is_no_title():
    page = ("Tag Archive for: Harbours\n\nPort plan approved\n\nThe port plan was approved by the city council.\n\n"
            "Figures for the year:\n\nShips rose by a tenth.\n\nDredging finished late\n\nThe dredging of the channel finished in April.\n")
    heading, arts = split_articles(page, default_title="tag")
    assert heading == "Tag Archive for: Harbours"
    assert [a.title for a in arts] == ["Port plan approved", "Dredging finished late"]


def test_prose_or_a_title_starting_with_archives_or_results_is_no_archive_heading():
    for first in ("Archives in the town of Belsford were flooded, destroying the records of 40 families.",
                  "Results of the Dunmore Council Election"):
        text = f"{first}\n\nTurnout\n\nTurnout in the council election reached 61 percent this year.\n"
        heading, arts = split_articles(text, default_title="file", markdown=False)
        assert heading is None and len(arts) == 1
        assert first in [text[s:e] for s, e in arts[0].paragraphs] or arts[0].title == first
    for archive in ("Tag Archive for: Interpol", "Category Archives: News", "Search results for: ferry",
                    "Archives", "Posts tagged ‘ferry’"):
        assert split_articles(f"{archive}\n\nFirst story\n\nBody of the first story is here.\n")[0] == archive


def test_markdown_heading_without_blank_line_fenced_comment_and_hash_in_plain_text():
    md = ("# Tram Line Opens in Ostrava\nThe tram line carries 9,000 passengers a day.\n\n"
          "```\n# install the firmware\n\npip install picker\n```\n\nThe depot is in the east.\n")
    _, arts = split_articles(md, default_title="t10")
    assert [a.title for a in arts] == ["Tram Line Opens in Ostrava"]
    assert md[arts[0].paragraphs[0][0]:arts[0].paragraphs[0][1]] == "The tram line carries 9,000 passengers a day."
    txt = "Club Annual Meeting Notes\n\n# of members present: 23\n\nThe club met on Monday evening at the hall.\n"
    _, arts = split_articles(txt, default_title="k3", markdown=False)
    assert [a.title for a in arts] == ["Club Annual Meeting Notes"]


def test_metadata_title_wins_over_a_kicker_or_date_line_before_it():
    text = "Transport\n\n12 March 2024\n\nNew tram line opens in Ostrava\n\nThe tram line opened on Monday with free rides.\n"
    _, arts = split_articles(text, default_title="k1", markdown=False, title_hint="New tram line opens in Ostrava")
    assert [a.title for a in arts] == ["New tram line opens in Ostrava"]
    assert [text[s:e] for s, e in arts[0].captions] == ["Transport", "12 March 2024"]


def test_table_rows_are_sentences():
    text = "The station log follows.\n\nStation | Rain | Snow\nVelmo | | 57\n\nEnd of log."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The station log follows.", "Station | Rain | Snow", "Velmo | | 57", "End of log."]


# ---------------------------------------------------------------- sections and tables (issue 15, item 4)

MD_SECTIONS = """# Harbour year in review

The harbour authority published its yearly review on Monday, with figures for every berth.

## Traffic

Container traffic rose by a tenth, to 4,120 ships over the twelve months of the year.

Short line.

### Night shifts

Pilots worked 310 night shifts, most of them in the stormy weeks of January and February.

## Money

Dredging the northern channel cost 41 million, four million more than the port had planned.
"""


def test_markdown_subheadings_are_sections_not_paragraphs():
    chunks = chunk_document(MD_SECTIONS, source="review.md", title="review")
    assert [(c.paragraphs, c.section) for c in chunks] == [
        ([1], None), ([2, 3], "Traffic"), ([4], "Night shifts"), ([5], "Money")]
    assert all("#" not in c.text for c in chunks)
    assert chunks[1].text == ("Container traffic rose by a tenth, to 4,120 ships over the twelve months of the "
                              "year.\n\nShort line.")
    assert [c.cited_as for c in chunks[2:]] == ["Harbour year in review › Night shifts", "Harbour year in review › Money"]
    assert chunks[0].cited_as == "Harbour year in review"
    # a .txt file keeps its lines as they are: "## " is text there
    plain = chunk_document(MD_SECTIONS, source="review.txt", title="review", markdown=False)
    assert all(c.section is None for c in plain) and any("## Traffic" in c.text for c in plain)


def test_a_short_html_paragraph_never_merges_into_a_table():
    from rag.documents import html_document

    text, _ = html_document("<article><h1>Market day</h1><p>Prices on Saturday.</p>"
                            "<table><tr><th>Crop</th><th>Crates</th></tr><tr><td>Tomatoes</td><td>12</td></tr></table>"
                            "<p>Stalls opened at seven and closed at noon, as every week of the summer season.</p>"
                            "</article>")
    chunks = chunk_document(text, source="market.html", title="market", markdown=False)
    assert [c.text for c in chunks] == [
        "Prices on Saturday.", "Crop | Crates\nTomatoes | 12",
        "Stalls opened at seven and closed at noon, as every week of the summer season."]
    assert [c.paragraphs for c in chunks] == [[1], [2], [3]]


def test_answer_cites_article_and_section(tmp_path, embedder):
    from rag import Engine
    from rag.indexes import add_documents

    (tmp_path / "review.md").write_text(MD_SECTIONS)
    add_documents([tmp_path / "review.md"], tmp_path / "idx", embedder=embedder)
    a = Engine(tmp_path / "idx", embedder=embedder).ask("How many night shifts did pilots work?")
    assert "310" in a.text
    c = a.citations[0]
    assert (c.title, c.section, c.cited_as, c.paragraph) == (
        "Harbour year in review", "Night shifts", "Harbour year in review › Night shifts", 4)


def test_listing_snippets_without_blank_lines_are_articles():
    """A tag page whose snippets (title line, then its text) run together without blank lines:
    each snippet is its own article; hard-wrapped prose on the same page is left as it is."""
    from rag.chunker import split_articles

    page = ("Tag Archive for: Ports\n\n"
            "Harbour dredging finished early\n"
            "The port authority said the dredging of the main channel finished two weeks early.\n"
            "New cranes arrive in Fremantle\n"
            "Four ship-to-shore cranes arrived on Tuesday, the largest ever delivered there.\n"
            "It took a month to unload them.\n"
            "Strike ends at the container terminal\n"
            "Workers voted to accept a 4% pay rise, ending a nine-day strike.\n\n"
            "Wrapped prose stays whole\n"
            "The port authority said that the dredging of\n"
            "the main channel finished early. Officials were\n"
            "pleased.\n")
    heading, arts = split_articles(page, markdown=False)
    assert heading == "Tag Archive for: Ports"
    assert [a.title for a in arts] == ["Harbour dredging finished early", "New cranes arrive in Fremantle",
                                       "Strike ends at the container terminal"]
    assert [len(a.paragraphs) for a in arts] == [1, 2, 2]
    last = page[arts[2].paragraphs[1][0]:arts[2].paragraphs[1][1]]
    assert last.startswith("Wrapped prose stays whole\nThe port authority said that") and last.endswith("pleased.")
    # not a listing: fewer than three snippets, or outside an archive page
    two = "Tag Archive for: Ports\n\nA title here\nIts text ends here.\nB title here\nIts text too.\n"
    assert len(split_articles(two, markdown=False)[1]) == 1
    plain = page.replace("Tag Archive for: Ports\n\n", "")
    assert len(split_articles(plain, markdown=False)[1]) == 1
