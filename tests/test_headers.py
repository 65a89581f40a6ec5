"""Saved articles' header lines (issue 15, item 1): a title line over its URL, "Title | Site", and
YAML front matter give the article's title, URL, author and date; a sidecar still wins; the header
is never quoted and offsets into the file do not move."""
from __future__ import annotations

import json

from rag import Engine
from rag.documents import read_file, read_header
from rag.indexes import add_documents


def test_title_line_over_url_line(tmp_path):
    f = tmp_path / "otters.txt"
    text = "River otters return\nhttps://example.org/otters\n\nOtters were seen again on the Lune in 2024.\n"
    f.write_text(text, encoding="utf-8")
    d = read_file(f)
    assert d.title == "River otters return" and d.url == "https://example.org/otters"
    assert "https://" not in d.text and len(d.text) == len(text)
    assert d.text.index("Otters were seen") == text.index("Otters were seen")


def test_title_and_site_line_and_front_matter():
    text, found = read_header("Harbour crane record | Port Weekly\n\nThe crane lifted 41 containers.\n")
    assert found == {"title": "Harbour crane record", "site": "Port Weekly"}
    assert text.startswith("Harbour crane record   ") and "Port Weekly" not in text
    fm = "---\ntitle: Mill reopens\nurl: https://example.org/mill\nauthor: A. Writer\ndate: 2024-05-04\n---\n\nBody.\n"
    text, found = read_header(fm)
    assert found == {"title": "Mill reopens", "url": "https://example.org/mill", "author": "A. Writer",
                     "date": "2024-05-04"}
    assert text.strip() == "Body." and len(text) == len(fm)
    text, found = read_header("# The history of tea\nhttps://example.net/tea\n\nBody.\n")
    assert found == {"title": "The history of tea", "url": "https://example.net/tea"}  # no "#" in the title
    plain = "Tag Archive for: Interpol\n\nThe case for Taiwan\n\nBody text here.\n"
    assert read_header(plain) == (plain, {})  # no header: unchanged
    assert read_header("Notes\n\n---\ntitle: x\n---\n")[1] == {}  # front matter only at the very start


def test_headers_end_to_end_and_sidecar_wins(tmp_path, embedder):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "otters.txt").write_text("River otters return\nhttps://example.org/otters\n\nOtters were seen again on "
                                  "the Lune in 2024, forty years after they vanished.\n", encoding="utf-8")
    (d / "mill.md").write_text("---\ntitle: Mill reopens\nurl: https://example.org/mill\n---\n\nThe Kessel mill "
                               "reopened on Friday after a fire in March.\n", encoding="utf-8")
    (d / "crane.txt").write_text("Harbour crane record | Port Weekly\n\nThe harbour crane lifted 41 containers "
                                 "on Monday, a record.\n", encoding="utf-8")
    (d / "crane.meta.json").write_text(json.dumps({"title": "Crane sets record"}), encoding="utf-8")
    add_documents([d], tmp_path / "idx", embedder=embedder)
    eng = Engine(tmp_path / "idx", embedder=embedder)
    a = eng.ask("When were otters seen again on the Lune?")
    assert a.citations[0].title == "River otters return" and a.citations[0].url == "https://example.org/otters"
    assert "https://" not in a.text, a.text
    a = eng.ask("When did the Kessel mill reopen?")
    assert a.citations[0].title == "Mill reopens" and a.citations[0].url == "https://example.org/mill"
    assert "title:" not in a.text
    a = eng.ask("How many containers did the harbour crane lift?")
    assert a.citations[0].title == "Crane sets record", a.citations[0]
