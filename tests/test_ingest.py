"""Bring your own articles: a mixed folder (HTML, PDF, Word, Markdown, text, one duplicate
article), incremental updates, removal, stats — with the real model, FAISS and BM25."""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag import Engine
from rag.cli import main as rag_main
from rag.documents import read_file
from rag.indexes import add_documents, index_stats, remove_documents
from rag.store import load_index

BAD = Path(__file__).parent / "data" / "bad_files"
MENG_TITLE = "China could pull Interpol funding after Meng Hongwei’s arrest"
MENG_URL = "https://www.aspistrategist.org.au/china-could-pull-interpol-funding-after-meng-hongweis-arrest/"

def meng_paragraphs(seed: str) -> list[str]:
    """The body paragraphs of the Meng Hongwei article inside the tag archive page."""
    blocks = seed.split("\n\n")
    i = blocks.index(MENG_TITLE)
    j = next(k for k in range(i + 1, len(blocks)) if blocks[k] == "Cyber wrap")
    return blocks[i + 1:j]

def make_folder(root: Path, seed: str) -> Path:
    """A folder as a user keeps one: the tag page, the Meng article again on its own saved web
    page (straight quotes instead of curly ones), notes, a Word report and a PDF."""
    d = root / "articles"
    d.mkdir()
    (d / "interpol-tag.txt").write_text(seed, encoding="utf-8")
    body = "".join(f"<p>{html.escape(p.replace('’', chr(39)))}</p>\n" for p in meng_paragraphs(seed))
    (d / "meng.html").write_text(
        "<html><head><title>China could pull Interpol funding | The Strategist</title>"
        f'<link rel="canonical" href="{MENG_URL}"><meta name="author" content="Malcolm Davis">'
        '<meta property="article:published_time" content="2018-10-10T05:00:00+00:00">'
        "<script>document.write('tracking')</script></head><body><nav>Home | Topics</nav>"
        f"<article><h1>{html.escape(MENG_TITLE)}</h1>{body}</article><footer>© ASPI</footer></body></html>",
        encoding="utf-8")
    (d / "notes.md").write_text("# Harbour notes\n\nThe harbour authority counted 412 container ships in "
                                "March, a record for the port.\n\nDredging of the northern channel "
                                "finished in April after two years of delays.\n")
    import docx

    doc = docx.Document()
    doc.core_properties.title = "Orchard survey 2025"
    doc.core_properties.author = "A. Grower"
    doc.add_heading("Orchard survey 2025", 0)
    doc.add_paragraph("The orchard cooperative planted 1,250 new apple trees along the river terraces in spring.")
    doc.add_paragraph("Frost in late April destroyed roughly a third of the cherry blossom, cutting the harvest.")
    table = doc.add_table(rows=2, cols=2)
    for (r, c), v in {(0, 0): "Variety", (0, 1): "Trees", (1, 0): "Braeburn", (1, 1): "800"}.items():
        table.cell(r, c).text = v
    doc.save(d / "survey.docx")
    shutil.copy(BAD / "report.pdf", d / "report.pdf")
    return d

@pytest.fixture()
def folder(tmp_path, seed_text):
    return make_folder(tmp_path, seed_text)

@pytest.fixture()
def built(tmp_path, folder, embedder):
    index_dir = tmp_path / "idx"
    report = add_documents([folder], index_dir, embedder=embedder)
    return index_dir, report

def test_html_and_docx_metadata_read(folder):
    page = read_file(folder / "meng.html")
    assert page.url == MENG_URL
    assert page.meta["author"] == "Malcolm Davis" and page.meta["date"].startswith("2018-10-10")
    assert "tracking" not in page.text and "Home | Topics" not in page.text
    assert page.text.startswith(MENG_TITLE)
    word = read_file(folder / "survey.docx")
    assert word.title == "Orchard survey 2025" and word.meta["author"] == "A. Grower"
    assert "1,250 new apple trees" in word.text and "Braeburn | 800" in word.text

def test_mixed_folder_cites_titles_urls_pages_and_stores_duplicate_once(built, embedder, seed_text):
    index_dir, report = built
    paras = meng_paragraphs(seed_text)
    assert report.documents == 5 and report.skipped == []
    assert report.duplicates == len(paras) == 19
    stored = load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim)
    # each Meng paragraph is stored once, from the article's own page (it carries the canonical URL)
    key = "Meng was involved in such egregious corruption"
    holders = [c for c in stored.chunks if key in c.text]
    assert len(holders) == 1 and holders[0].source.endswith("meng.html") and holders[0].url == MENG_URL
    assert not any(c.title == MENG_TITLE and c.source.endswith("interpol-tag.txt") for c in stored.chunks)
    # the other two articles of the tag page are still there
    assert {c.title for c in stored.chunks if c.source.endswith("interpol-tag.txt")} == {
        "The case for Taiwan: observer status at Interpol’s world congress", "Cyber wrap"}

    eng = Engine(index_dir, embedder=embedder)
    a = eng.ask("What are the two explanations for Meng Hongwei's arrest?")
    assert not a.refused
    assert {c.title for c in a.citations} == {MENG_TITLE}
    assert {c.url for c in a.citations} == {MENG_URL}
    b = eng.ask("How many apple trees did the orchard cooperative plant?")
    assert "1,250" in b.text and b.citations[0].title == "Orchard survey 2025"
    pdf = [c for c in stored.chunks if c.source.endswith("report.pdf")]
    assert sorted(c.page for c in pdf) == [1, 2]

def test_second_run_embeds_nothing_then_only_changes(built, folder, embedder):
    index_dir, first = built
    assert first.embedded == first.chunks
    again = add_documents([folder], index_dir, embedder=embedder)
    assert (again.embedded, again.embedded_sentences, again.chunks) == (0, 0, first.chunks)

    notes = folder / "notes.md"
    notes.write_text(notes.read_text().replace("412 container ships", "415 container ships"))
    changed = add_documents([folder], index_dir, embedder=embedder)
    assert changed.embedded == 1 and changed.embedded_sentences == 1 and changed.chunks == first.chunks
    eng = Engine(index_dir, embedder=embedder)
    assert "415" in eng.ask("How many container ships did the harbour count in March?").text

    notes.unlink()  # a file gone from the folder drops out of the index
    gone = add_documents([folder], index_dir, embedder=embedder)
    assert gone.embedded == 0 and gone.chunks == first.chunks - 2
    assert any("notes.md" in r and "gone" in r for r in gone.removed)
    stored = load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim)
    assert not any(c.source.endswith("notes.md") for c in stored.chunks)
    assert len(stored.vectors) == len(stored.chunks) == int(stored.bm25.scores["num_docs"])

@pytest.mark.slow  # two full index builds: in CI, not the fast tier
def test_incremental_index_answers_like_one_rebuilt_from_scratch(tmp_path, folder, embedder):
    inc = tmp_path / "incremental"
    add_documents([folder / "interpol-tag.txt", folder / "notes.md"], inc, embedder=embedder)
    add_documents([folder / "meng.html", folder / "survey.docx"], inc, embedder=embedder)
    add_documents([folder / "report.pdf"], inc, embedder=embedder)
    scratch = tmp_path / "scratch"
    from rag.ingest import build_index
    from rag.indexes import recorded_sources

    docs, _, _ = recorded_sources(inc)
    build_index(docs, scratch, embedder=embedder, reuse=False)
    a, b = (load_index(p, embedder_name=embedder.name, dim=embedder.dim) for p in (inc, scratch))
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    va, vb = (s.vectors.reconstruct(np.arange(len(s.chunks))) for s in (a, b))
    assert np.abs(va - vb).max() < 1e-4
    assert np.array_equal(a.sentences, b.sentences) and np.abs(a.sent_vectors - b.sent_vectors).max() < 1e-4
    ea, eb = Engine(inc, embedder=embedder), Engine(scratch, embedder=embedder)
    for q in ["Why is Taiwan denied observer status at Interpol?", "What happened to Meng Hongwei?",
              "When did the dredging of the northern channel finish?", "What destroyed the cherry blossom?",
              "What is the capital of Peru?"]:
        x, y = ea.ask(q), eb.ask(q)
        assert (x.text, x.refused) == (y.text, y.refused), q
        assert [p.chunk.id for p in x.passages] == [p.chunk.id for p in y.passages], q

def test_remove_and_stats_from_the_command_line(built, embedder, capsys):
    index_dir, report = built
    assert rag_main(["stats", "--index", str(index_dir), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["documents"], s["chunks"], s["embedder"]) == (5, report.chunks, embedder.name)
    # the tag page keeps two of its three articles (Meng's is stored once, from its own page): 2 + 4 articles
    assert s["articles"] == 6 and [len(x["articles"]) for x in s["sources"]] == [2, 1, 1, 1, 1]
    assert s["index_type"] == "IndexIDMap2(IndexFlatIP)" and s["bytes_on_disk"] > report.chunks * 384 * 4
    assert rag_main(["remove", "survey.docx", "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "embedded 0 new or changed chunk(s)" in out and "removed " in out and "survey.docx" in out and ": removed" not in out
    after = index_stats(index_dir)
    assert after["documents"] == 4 and after["chunks"] == report.chunks - 3  # two paragraphs and the table, a chunk of its own
    assert not any(src["title"] == "Orchard survey 2025" for src in after["sources"])
    assert rag_main(["remove", "no-such.txt", "--index", str(index_dir)]) == 2
    assert "No document 'no-such.txt'" in capsys.readouterr().err
    # a Markdown file by the title `rag stats` shows it cited under (its '# ' heading)
    notes = next(src for src in after["sources"] if src["source"].endswith("notes.md"))
    assert notes["articles"] == ["Harbour notes"] and notes["title"] != "Harbour notes"
    assert rag_main(["remove", "Harbour notes", "--index", str(index_dir)]) == 0
    after = index_stats(index_dir)
    assert after["documents"] == 3 and not any(s["source"].endswith("notes.md") for s in after["sources"])
    with pytest.raises(ValueError, match="empty"):
        remove_documents([src["source"] for src in after["sources"]], index_dir, embedder=embedder)
    assert rag_main(["stats", "--index", str(index_dir.parent / "nothing")]) == 2


def test_page_chrome_captioned_copies_word_tables_and_sidecar_titles(tmp_path, embedder):
    """What a newcomer's folder showed: a site banner taken for the title, a copy that escaped
    dedup behind a title line, a table header taken for an article title, a sidecar title that
    citations ignored."""
    d = tmp_path / "docs"
    d.mkdir()
    (d / "council.html").write_text(
        "<html><head><title>City council votes to ban leaf blowers | Eastbay Herald</title></head><body>"
        "<nav>Home | Sports</nav><header><div>Menu Login Register</div></header><article>"
        "<h1>City council votes to ban leaf blowers</h1><p>The Eastbay city council voted 7 to 2 on "
        "Monday night to ban gas-powered leaf blowers starting January 2028.</p></article></body></html>")
    story = ("The Port of Eastbay authority approved a $42 million dredging plan on Tuesday, board chair "
             "Alicia Moreno said.\n\nThe plan will deepen the main shipping channel to 15 metres so that "
             "larger container vessels can dock.\n")
    (d / "harbour.md").write_text("# Port authority approves harbour dredging plan\n\n" + story)
    (d / "harbour.md.meta.json").write_text('{"title": "Harbour dredging approved", "url": "https://example.org/h"}')
    (d / "roundup.txt").write_text("Weekly roundup\n\nPort authority approves harbour dredging plan\n\n" + story)
    import docx

    doc = docx.Document()
    doc.core_properties.title = "Library extends weekend hours"
    doc.add_paragraph("The city library will open its branches on Sundays from next month, the board said.")
    table = doc.add_table(rows=2, cols=2)
    for (r, c), v in {(0, 0): "Branch", (0, 1): "Sunday hours", (1, 0): "Northside branch",
                      (1, 1): "noon to 5 p.m."}.items():
        table.cell(r, c).text = v
    doc.save(d / "library.docx")

    index_dir = tmp_path / "idx"
    report = add_documents([d], index_dir, embedder=embedder)
    assert report.duplicates == 2  # both paragraphs of the roundup's copy
    stored = load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim)
    assert not any("Menu Login" in c.text or "Menu Login" in c.title for c in stored.chunks)
    assert {c.title for c in stored.chunks if c.source.endswith("council.html")} == {
        "City council votes to ban leaf blowers"}
    assert not any(c.source.endswith("roundup.txt") for c in stored.chunks)
    assert {(c.title, c.url) for c in stored.chunks if c.source.endswith("harbour.md")} == {
        ("Harbour dredging approved", "https://example.org/h")}
    assert {c.title for c in stored.chunks if c.source.endswith("library.docx")} == {"Library extends weekend hours"}
    a = Engine(index_dir, embedder=embedder).ask("How much will the dredging plan cost?")
    assert "$42 million" in a.text and {c.title for c in a.citations} == {"Harbour dredging approved"}


def test_copy_inside_a_digest_is_cited_from_the_articles_own_file(tmp_path, embedder):
    """A digest whose sections are '## ' headings reads as one article, like the article's own
    file: the smaller file (the article itself) keeps the shared paragraphs."""
    d = tmp_path / "docs"
    d.mkdir()
    volcano = ("Lindmark is a dormant volcano on the island of Sorvik, rising 2,140 metres above the sea.\n\n"
               "It last erupted in 1642, burying the old harbour town under ash for a whole season.\n")
    (d / "volcano.md").write_text("# The Quiet Volcano of Lindmark\n\n" + volcano)
    (d / "digest.md").write_text("# Weekly Digest\n\n## The Quiet Volcano of Lindmark\n\n" + volcano +
                                 "\n## River otters return\n\nRiver otters were seen again in the Sorvik estuary "
                                 "this spring after an absence of forty years, rangers said.\n")
    index_dir = tmp_path / "idx"
    report = add_documents([d], index_dir, embedder=embedder)
    assert report.duplicates == 2
    stored = load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim)
    holders = [c for c in stored.chunks if "It last erupted in 1642" in c.text]
    assert len(holders) == 1 and holders[0].source.endswith("volcano.md")
    assert holders[0].title == "The Quiet Volcano of Lindmark"
    assert any("River otters" in c.text and c.source.endswith("digest.md") for c in stored.chunks)
    # a section heading is not a sentence of the answer
    a = Engine(index_dir, embedder=embedder).ask("River otters return?")
    assert not a.refused and "forty years" in a.text and "##" not in a.text, a.text


def test_sections_kickers_tables_and_soft_hyphens_end_to_end(tmp_path, embedder):
    """A second newcomer's files: section headings stay in their article and are never quoted;
    a kicker before the <h1> is no title; a table answers by its row; a soft hyphen in a title
    is not shown."""
    d = tmp_path / "docs"
    d.mkdir()
    (d / "ferry.txt").write_text(
        "Ferry Strike Ends After Nine Days\n\nThe ferry workers' union ended its strike on Friday after nine "
        "days of cancelled crossings.\n\nWhat the union won\n\nCrews will get a 6 percent raise over two years "
        "and a cap on night shifts.\n\nReaction\n\nCommuter Lena Holt said she had spent 300 euros on taxis "
        "during the strike.\n")
    (d / "rain.html").write_text(
        "<html><body><article><p>Weather</p><h1>Rain and snow at the ridge stations</h1><p>The ridge stations "
        "logged rain and snow days through 2024, the weather office said.</p><table><tr><th>Station</th>"
        "<th>Rain mm</th><th>Snow days</th></tr><tr><td>Velmo</td><td></td><td>57</td></tr><tr><td>Kestrel"
        "</td><td>1,240</td><td>12</td></tr></table></article></body></html>")
    (d / "kron.md").write_text("# Investi\u00adgators Close the Kron\u00adberg Case\n\nInvestigators closed the "
                               "Kronberg fraud case on Monday after four years, prosecutors said.\n")
    index_dir = tmp_path / "idx"
    add_documents([d], index_dir, embedder=embedder)
    stored = load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim)
    titles = {Path(c.source).name: c.title for c in stored.chunks}
    assert titles == {"ferry.txt": "Ferry Strike Ends After Nine Days",
                      "rain.html": "Rain and snow at the ridge stations",
                      "kron.md": "Investigators Close the Kronberg Case"}
    engine = Engine(index_dir, embedder=embedder)
    a = engine.ask("What raise will the ferry crews get?")
    assert "6 percent raise" in a.text and "What the union won" not in a.text
    assert {c.title for c in a.citations} == {"Ferry Strike Ends After Nine Days"}
    a = engine.ask("How much did Lena Holt spend on taxis?")
    assert "300 euros" in a.text and "Reaction" not in a.text
    top = engine.retrieve("How many snow days did Velmo have?", k=1)[0].chunk
    lo, hi = stored.sentence_range(stored.row_of[top.id])
    assert [top.text[s:e] for _, s, e in stored.sentences[lo:hi]] == [
        "Station | Rain mm | Snow days", "Velmo | | 57", "Kestrel | 1,240 | 12"]  # a row per sentence


def test_duplicate_is_kept_in_the_articles_own_document_whatever_the_path_order(tmp_path, embedder):
    """A tag page holding one full copy of an article (so it holds one article, and fewer chunks
    than the article's own page) comes first in path order; the own page keeps the paragraphs,
    given in either order."""
    body = ("Interpol's president Meng Hongwei was detained in China in late September, his wife said.\n\n"
            "The organisation said it had received his resignation with immediate effect on Sunday.\n")
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a-tag-interpol.txt").write_text(
        "Posts tagged Interpol\nhttps://example.org/tag/interpol/\n\n"
        "Interpol president detained in China\n\n" + body)
    (d / "z-meng.txt").write_text(
        "Interpol president detained in China\nhttps://example.org/2018/10/meng-detained/\n\n" + body +
        "\nHis successor will be elected at the general assembly in Dubai in November this year.\n")
    kept = []
    for order in ([d / "a-tag-interpol.txt", d / "z-meng.txt"], [d / "z-meng.txt", d / "a-tag-interpol.txt"]):
        idx = tmp_path / f"idx{len(kept)}"
        report = add_documents(order, idx, embedder=embedder)
        assert report.duplicates == 2  # both paragraphs of the tag page's copy
        stored = load_index(idx, embedder_name=embedder.name, dim=embedder.dim)
        holder = [c for c in stored.chunks if "detained in China in late September" in c.text]
        assert len(holder) == 1
        kept.append((holder[0].source.rsplit("/", 1)[-1], holder[0].url, holder[0].title))
        a = Engine(idx, embedder=embedder).ask("Where was Meng Hongwei detained?")
        assert {c.url for c in a.citations} == {"https://example.org/2018/10/meng-detained/"}, a.citations
    assert kept == [("z-meng.txt", "https://example.org/2018/10/meng-detained/",
                     "Interpol president detained in China")] * 2
