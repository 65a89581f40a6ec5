"""Reading documents: the bundled default corpus and files from disk (text, Markdown, HTML, PDF).

A :class:`Document` is decoded text plus what is known of its origin. Text files are streamed
and decoded strictly: UTF-8 (with or without BOM), UTF-16/32 with a BOM; text in another encoding
(Latin-1, Windows-1252, ...) is recognised by ``charset-normalizer``. HTML is reduced to its
text by Beautiful Soup (scripts, styles and page furniture dropped); PDF text is read by
``pypdf``, page by page. A file that is binary, empty, too large or has no text raises
:class:`DocumentError` with a one-line reason, and the caller skips it.
"""
from __future__ import annotations

import bisect
import codecs
import hashlib
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import yaml
from charset_normalizer import from_bytes

from .chunker import is_title_like

#: Plain-text file types :func:`read_file` accepts.
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
#: Every file type :func:`read_file` accepts.
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES
#: Largest text or PDF file read, in bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Largest HTML file read, in bytes (an HTML file is parsed into a tree, several times its size).
MAX_HTML_BYTES = 16 * 1024 * 1024
#: Largest total of a Word file's XML parts once decompressed, in bytes (python-docx parses them
#: into trees of about 15 times their size; a 0.5 MB file can hold 150 MB of XML).
MAX_DOCX_XML_BYTES = 48 * 1024 * 1024
#: Largest total of all of a Word file's parts once decompressed (images included), in bytes.
MAX_DOCX_BYTES = 2 * MAX_FILE_BYTES
#: Text files are read and decoded in blocks of this many bytes.
BLOCK_BYTES = 1 << 20
#: Share of control characters (other than tab, newline, form feed) above which text is binary.
MAX_CONTROL_SHARE = 0.01

_WINDOWS_CODEPAGES = [f"cp{n}" for n in range(1250, 1259)]
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


class DocumentError(ValueError):
    """A file that cannot be ingested; the message is a one-line reason."""


@dataclass
class Document:
    """Decoded text of one source file with its provenance.

    ``source`` identifies the file (a path, or ``bundled:<name>``); ``sha256`` is the hash of the
    decoded text; ``article_urls`` maps article titles to their own URLs where known;
    ``page_starts`` (PDF only) holds the offset in ``text`` where each page begins, so
    ``bisect_right(page_starts, offset)`` is the 1-based page of a character.
    """

    text: str
    source: str
    title: str
    url: str | None = None
    article_urls: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    page_starts: list[int] | None = None

    def page_of(self, offset: int) -> int | None:
        """1-based page holding character ``offset`` of ``text``, or ``None`` when not paged."""
        return bisect.bisect_right(self.page_starts, offset) if self.page_starts else None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bom_encoding(head: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def detect_encoding(sample: bytes, name: str = "file") -> str:
    """The encoding of non-UTF-8 text, by ``charset-normalizer``.

    Western text is the common case, so Windows-1252 is taken whenever it decodes ``sample``
    as plausibly as the detector's best guess (on short samples the detector often cannot tell
    Windows-1252 from its Central European or Mac cousins); among other near-ties a Windows code
    page wins. Short samples in rarer 8-bit encodings (KOI8-R, DOS) may still be misread. Raises :class:`DocumentError` when
    no encoding gives plausible text (binary data).
    """
    results = from_bytes(sample)
    best = results.best()
    if best is None:
        raise DocumentError(f"{name}: binary data or text in an unknown encoding, not text")
    western = from_bytes(sample, cp_isolation=["cp1252"]).best()
    if western is not None and western.chaos <= best.chaos + 0.01:
        return "cp1252"
    # among near-ties, a Windows code page is far likelier than a Mac or DOS one
    close = {m.encoding for m in results
             if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.05}
    return next((enc for enc in _WINDOWS_CODEPAGES if enc in close), best.encoding)


def _check_text(text: str, name: str) -> None:
    if len(_CONTROL.findall(text[:65536])) > MAX_CONTROL_SHARE * min(len(text), 65536):
        raise DocumentError(f"{name}: binary data, not text")


def _sniff(head: bytes, name: str) -> str:
    """The encoding to try first, from the first block of a file: a BOM's, else UTF-8. NUL bytes
    without a BOM mean binary data, unless the detector finds BOM-less UTF-16/32 text."""
    enc = _bom_encoding(head)
    if enc:
        return enc
    if b"\x00" in head[:8192]:
        best = from_bytes(head[:65536]).best()
        if best is not None and best.encoding.startswith(("utf_16", "utf_32")):
            return best.encoding
        raise DocumentError(f"{name}: binary data, not text")
    return "utf-8"


def decode_bytes(data: bytes, name: str = "file") -> str:
    """Decode file bytes to text: by BOM (UTF-8/16/32), else UTF-8, else the encoding that
    :func:`detect_encoding` finds (Latin-1, Windows-1252, ...).

    Raises :class:`DocumentError` for binary data (NUL bytes without a BOM, control characters,
    or no plausible encoding) and for bytes invalid in their BOM's encoding. Line endings are
    normalised to ``\\n``.
    """
    enc = _sniff(data, name)
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as e:
        if enc != "utf-8":
            raise DocumentError(f"{name}: invalid {enc} text ({e.reason} at byte {e.start})") from e
        enc = detect_encoding(data[:BLOCK_BYTES] + data[max(0, e.start - 32768):e.start + 32768], name)
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as e2:
            raise DocumentError(f"{name}: not valid text in {enc} or UTF-8 (byte {e2.start})") from e2
    _check_text(text, name)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_stream(f, enc: str, name: str, limit: int) -> str:
    """Read the rest of binary file ``f`` in blocks, decoding strictly with ``enc`` and
    normalising line endings block by block. Peak memory: the text twice (its parts and the
    joined result) plus one block."""
    decoder = codecs.getincrementaldecoder(enc)("strict")
    parts: list[str] = []
    carry, total = "", 0
    while True:
        block = f.read(BLOCK_BYTES)
        total += len(block)
        if total > limit:
            raise DocumentError(f"{name}: over the {limit:,}-byte limit")
        try:
            part = carry + decoder.decode(block, final=not block)
        except UnicodeDecodeError as e:
            e.file_offset = max(0, total - len(block) + e.start)  # about where (± a few bytes)
            raise
        carry = "\r" if part.endswith("\r") and block else ""
        if carry:
            part = part[:-1]
        if not parts:
            _check_text(part, name)
        parts.append(part.replace("\r\n", "\n").replace("\r", "\n"))
        if not block:
            break
    return "".join(parts)


def read_text_file(path: str | Path, *, limit: int = MAX_FILE_BYTES) -> str:
    """Stream a text file of at most ``limit`` bytes into a ``str`` (see :func:`decode_bytes`
    for the encodings understood). A file that is not UTF-8 after all is read a second time
    with the encoding :func:`detect_encoding` finds from its start and the first bad byte.
    Raises :class:`DocumentError` (binary, undecodable, over the limit) or ``OSError``."""
    path = Path(path)
    name = path.name
    with open(path, "rb") as f:
        head = f.read(BLOCK_BYTES)
        enc = _sniff(head, name)
        f.seek(0)
        try:
            return _decode_stream(f, enc, name, limit)
        except UnicodeDecodeError as e:
            if enc != "utf-8":
                raise DocumentError(f"{name}: invalid {enc} text ({e.reason})") from e
            bad = e.file_offset
        # not UTF-8: let the detector look at the start and around the first bad byte
        f.seek(max(0, bad - 32768))
        enc = detect_encoding(head + f.read(65536), name)
        f.seek(0)
        try:
            return _decode_stream(f, enc, name, limit)
        except UnicodeDecodeError as e:
            raise DocumentError(f"{name}: not valid text in {enc} or UTF-8 ({e.reason})") from e


def _article_urls(meta: dict) -> dict[str, str]:
    """Title -> URL from a metadata file's ``articles`` mapping."""
    return {t: a["url"] for t, a in meta.get("articles", {}).items() if isinstance(a, dict) and a.get("url")}


#: HTML elements whose content is never article text.
_HTML_DROP = ["script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object",
              "embed", "head", "nav", "footer", "aside", "form", "button", "select", "dialog"]
#: HTML elements that end a paragraph.
_HTML_BLOCKS = ["p", "div", "section", "article", "main", "header", "h1", "h2", "h3", "h4", "h5",
                "h6", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr",
                "td", "th", "figure", "figcaption", "hr", "address", "details", "summary"]


def table_row(cells: list[str]) -> str:
    """One table row as a line: cells' whitespace collapsed, joined by " | ", an empty cell kept
    as an empty column so every value stays in its column ("Velmo | | 57"); "" when all are
    empty. HTML and Word tables are both written this way."""
    cells = [" ".join(c.split()) for c in cells]
    return " ".join(" | ".join(cells).split()) if any(cells) else ""


def _html_meta(soup) -> dict:
    """Title, canonical URL, author, date and site name from a page's ``<head>`` (Open Graph, Dublin Core,
    ``article:*`` and plain ``<meta name>`` tags, ``<link rel=canonical>``, ``<time datetime>``).
    Keys are present only when found."""
    def meta(*names):
        for n in names:
            tag = soup.find("meta", attrs={"property": n}) or soup.find("meta", attrs={"name": n})
            if tag and tag.get("content", "").strip():
                return " ".join(tag["content"].split())
        return None

    out = {"title": meta("og:title", "dc.title", "DC.title", "twitter:title"),
           "author": meta("author", "article:author", "dc.creator", "DC.creator", "byl"),
           "date": meta("article:published_time", "date", "dc.date", "DC.date", "pubdate",
                        "og:published_time"),
           "site": meta("og:site_name", "dc.publisher", "DC.publisher")}
    link = soup.find("link", rel=lambda r: r and "canonical" in (r if isinstance(r, list) else [r]))
    url = (link.get("href") if link else None) or meta("og:url")
    if url and re.match(r"^https?://", url.strip()):
        out["url"] = url.strip()
    if not out["date"]:
        t = soup.find("time", attrs={"datetime": True})
        out["date"] = t["datetime"].strip() if t else None
    return {k: v for k, v in out.items() if v}


#: Deepest element nesting kept when reading HTML; tags deeper than this are dropped (their text
#: kept). Beautiful Soup's tree building costs time in proportion to the depth of each tag, so a
#: page nested 100,000 levels deep took minutes; real pages stay under ~60 levels.
MAX_HTML_DEPTH = 256
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/>]*)")


def _max_depth_estimate(markup: str) -> int:
    """An upper bound of the element depth of ``markup``, found with a regular expression over
    its tags: an end tag closes only an element of its own name (never more), so the estimate is
    never below what the parser builds (tags inside comments or scripts only add to it)."""
    from bs4.builder import HTMLTreeBuilder  # lazy: Beautiful Soup costs 0.1 s of every start; HTML files only

    void = HTMLTreeBuilder.DEFAULT_EMPTY_ELEMENT_TAGS
    open_: dict[str, int] = {}
    depth = deepest = 0
    for m in _TAG.finditer(markup):
        name = m.group(2).lower()
        if m.group(1):
            if open_.get(name):
                open_[name] -= 1
                depth -= 1
        elif name not in void:
            open_[name] = open_.get(name, 0) + 1
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def limit_html_depth(markup: str, max_depth: int = MAX_HTML_DEPTH) -> str:
    """``markup`` with the start and end tags of elements nested deeper than ``max_depth``
    replaced by a space (their text and everything shallower are kept, byte for byte).

    Tags are read by the standard library's ``html.parser`` tokenizer (the one Beautiful Soup's
    ``html.parser`` builder uses), and elements nest as that builder nests them: an end tag
    closes the innermost open element of its name and those inside it, and is ignored when none
    is open; void elements (``<br>``, ``<img>``, ...) do not nest. Time and memory are linear in
    the markup. Markup whose depth cannot exceed ``max_depth`` comes back unchanged, unparsed.
    """
    if _max_depth_estimate(markup) <= max_depth:
        return markup
    from bs4.builder import HTMLTreeBuilder  # lazy: Beautiful Soup costs 0.1 s of every start; HTML files only

    void = HTMLTreeBuilder.DEFAULT_EMPTY_ELEMENT_TAGS
    line_starts = [0] + [m.end() for m in re.finditer("\n", markup)]
    drop: list[tuple[int, int]] = []
    stack: list[tuple[str, bool]] = []  # open elements: name, dropped
    open_: dict[str, int] = {}

    def offset(pos: tuple[int, int]) -> int:
        return line_starts[pos[0] - 1] + pos[1]

    class DepthLimiter(HTMLParser):
        def handle_starttag(self, tag, attrs):
            dropped = len(stack) >= max_depth
            if dropped:
                start = offset(self.getpos())
                drop.append((start, start + len(self.get_starttag_text() or "")))
            if tag not in void:
                stack.append((tag, dropped))
                open_[tag] = open_.get(tag, 0) + 1

        def handle_startendtag(self, tag, attrs):
            if len(stack) >= max_depth:
                start = offset(self.getpos())
                drop.append((start, start + len(self.get_starttag_text() or "")))

        def handle_endtag(self, tag):
            if not open_.get(tag):
                return
            while True:
                name, dropped = stack.pop()
                open_[name] -= 1
                if name == tag:
                    break
            if dropped:
                start = offset(self.getpos())
                end = markup.find(">", start)
                drop.append((start, len(markup) if end < 0 else end + 1))

    parser = DepthLimiter(convert_charrefs=False)
    parser.feed(markup)
    parser.close()
    drop.sort()
    parts, pos = [], 0
    for a, b in drop:
        if a >= pos:
            parts += [markup[pos:a], " "]
            pos = b
    parts.append(markup[pos:])
    return "".join(parts)


def _soup(markup: bytes | str):
    """Beautiful Soup (``html.parser``) of ``markup``, its nesting first limited to
    :data:`MAX_HTML_DEPTH` (:func:`limit_html_depth`); bytes are decoded as Beautiful Soup
    decodes them (BOM, ``<meta charset>``, else detection)."""
    from bs4 import BeautifulSoup, UnicodeDammit  # lazy: Beautiful Soup costs 0.1 s of every start; HTML files only

    if isinstance(markup, bytes):
        markup = UnicodeDammit(markup, is_html=True).unicode_markup or markup.decode("utf-8", "replace")
    return BeautifulSoup(limit_html_depth(markup), "html.parser")


def html_document(markup: bytes | str) -> tuple[str, dict]:
    """:func:`html_to_text` plus the page's metadata: ``(text, meta)``, ``meta`` holding any of
    ``title`` (Open Graph, else the ``<h1>`` when ``<title>`` holds it or is missing, else
    ``<title>``), ``url`` (canonical), ``author``, ``date``."""
    soup = _soup(markup)
    meta = _html_meta(soup)
    h1 = soup.find("h1")
    h1 = " ".join(h1.get_text(" ").split()) if h1 else ""
    text, title = _soup_text(soup)
    if "title" not in meta:
        # "<h1> | Site name" in <title>: the page's own heading is the article's title
        title = h1 if h1 and (not title or h1 in title) else title
        if title:
            meta["title"] = title
    return text, meta


def html_to_text(markup: bytes | str) -> tuple[str, str | None]:
    """The readable text of an HTML page and its ``<title>``: ``(text, title or None)``.

    The content is the page's single ``<article>`` when it has one, else its ``<main>``, else its
    ``<body>``; scripts, styles, comments, forms, navigation, asides, footers and page headers
    holding no ``<h1>``/``<h2>`` are dropped; each block element (paragraph, heading, list item,
    ...) becomes a paragraph, paragraphs separated by a blank line, whitespace inside them
    collapsed; a table is one paragraph with a line per row, cells joined by " | " (as Word
    tables are read). Bytes are decoded by Beautiful Soup (BOM,
    ``<meta charset>``, else detection). Elements nested deeper than :data:`MAX_HTML_DEPTH` lose
    their tags, not their text (:func:`limit_html_depth`), so time stays linear in the markup.
    """
    return _soup_text(_soup(markup))


def _soup_text(soup) -> tuple[str, str | None]:
    from bs4 import Comment, Declaration, Doctype, ProcessingInstruction  # lazy: Beautiful Soup, HTML files only

    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(_HTML_DROP):
        tag.decompose()
    for node in soup.find_all(string=lambda x: isinstance(x, (Comment, Declaration, Doctype,
                                                                 ProcessingInstruction))):
        node.extract()
    body = soup.body or soup
    articles = body.find_all("article")
    root = articles[0] if len(articles) == 1 else (body.find("main") or body)
    for header in root.find_all("header"):  # site banners ("Menu Login Register"), not article heads
        if not header.find(["h1", "h2"]) and not header.find_parent(["article", "main"]):
            header.decompose()
    for table in reversed(root.find_all("table")):  # innermost first: one block, a line per row
        rows = [table_row([td.get_text(" ") for td in tr.find_all(["td", "th"])]) for tr in table.find_all("tr")]
        table.replace_with("\n\n" + _ROW.join(r for r in rows if r) + "\n\n")
    for tag in root.find_all(_HTML_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    for br in root.find_all("br"):
        br.replace_with("\n")
    paragraphs = (" ".join(p.split()).replace(_ROW, "\n") for p in re.split(r"\n\s*\n", root.get_text()))
    return "\n\n".join(p for p in paragraphs if p), (" ".join(title.split()) or None) if title else None


#: Stands for a line break between table rows until whitespace is collapsed (a private-use
#: character: ``str.split`` does not split on it).
_ROW = "\ue000"


def read_html(path: str | Path, *, limit: int = MAX_HTML_BYTES) -> tuple[str, dict]:
    """:func:`html_document` (text and metadata) of an HTML file of at most ``limit`` bytes. Raises
    :class:`DocumentError` (over the limit, binary) or ``OSError``."""
    path = Path(path)
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise DocumentError(f"{path.name}: over the {limit:,}-byte limit for HTML")
    if b"\x00" in data[:8192] and not _bom_encoding(data):
        raise DocumentError(f"{path.name}: binary data, not HTML")
    return html_document(data)


def check_docx_size(path: Path) -> None:
    """Raise :class:`DocumentError` when the zip directory of Word file ``path`` declares more
    than :data:`MAX_DOCX_XML_BYTES` of XML or :data:`MAX_DOCX_BYTES` in all once decompressed
    (a "zip bomb"). The declared sizes bound what is read: Python's ``zipfile``, which
    python-docx uses, stops decompressing a member at its declared size (and fails its CRC
    check when there is more). A file that is not a zip passes, for python-docx to reject."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError):
        return
    xml = sum(i.file_size for i in infos if i.filename.lower().endswith((".xml", ".rels")))
    total = sum(i.file_size for i in infos)
    mib = 1024 * 1024
    if xml > MAX_DOCX_XML_BYTES:
        raise DocumentError(f"{path.name}: Word document expands to {xml / mib:,.0f} MiB of XML, over the "
                            f"{MAX_DOCX_XML_BYTES // mib} MiB limit (a zip bomb, or split the document)")
    if total > MAX_DOCX_BYTES:
        raise DocumentError(f"{path.name}: Word document expands to {total / mib:,.0f} MiB, over the "
                            f"{MAX_DOCX_BYTES // mib} MiB limit")


def read_docx(path: str | Path) -> tuple[str, dict]:
    """The text of a Word document (``python-docx``): paragraphs in order, then table rows (cells
    joined by " | ", a table's rows on consecutive lines), separated by blank lines; and its core properties as metadata (``title``,
    ``author``, ``date``). Raises :class:`DocumentError` for a file that is not a readable .docx,
    and, before parsing anything, for one whose parts expand past :data:`MAX_DOCX_XML_BYTES` of XML
    (:func:`check_docx_size`)."""
    import docx  # lazy: python-docx costs 60 ms of every start; Word files only

    path = Path(path)
    check_docx_size(path)
    try:
        d = docx.Document(str(path))
        blocks = [" ".join(p.text.split()) for p in d.paragraphs]
        for table in d.tables:  # one block per table, a line per row (a header row is no title)
            rows = []
            for row in table.rows:
                # a merged cell repeats in row.cells (same XML element): once; empty cells stay
                rows.append(table_row(list({c._tc: c.text for c in row.cells}.values())))
            blocks.append("\n".join(r for r in rows if r))
        cp = d.core_properties
        meta = {"title": (cp.title or "").strip(), "author": (cp.author or "").strip(),
                "date": cp.created.date().isoformat() if cp.created else ""}
    except Exception as e:  # python-docx raises zip, XML and key errors on damaged files
        raise DocumentError(f"{path.name}: unreadable Word document ({type(e).__name__}: {_one_line(e, 120)})") from e
    return "\n\n".join(b for b in blocks if b), {k: v for k, v in meta.items() if v}


def read_pdf(path: str | Path) -> tuple[list[str], str | None]:
    """The text of each page of a PDF (``pypdf``) and its metadata title: ``(pages, title)``.

    Raises :class:`DocumentError` for a PDF that is encrypted, damaged, or has no text layer
    (a scan), and ``OSError`` when the file cannot be read.
    """
    from pypdf import PdfReader  # lazy: pypdf costs 0.15 s of every start; PDF files only

    log = logging.getLogger("pypdf")
    if log.level == logging.NOTSET:  # its repair notes ("EOF marker not found") are not for users
        log.setLevel(logging.ERROR)
    path = Path(path)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{path.name}: encrypted PDF (needs a password)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata or {}).get("/Title")
    except (DocumentError, OSError):
        raise
    except Exception as e:  # pypdf raises many types on damaged files; all mean "unreadable"
        raise DocumentError(f"{path.name}: unreadable PDF ({type(e).__name__}: {_one_line(e, 120)})") from e
    if not any(p.strip() for p in pages):
        raise DocumentError(f"{path.name}: no text layer (scanned?) in {len(pages)} page(s)")
    return pages, (str(title).strip() or None) if title else None


_URL_LINE = re.compile(r"[ \t]*(?:https?://|www\.)\S+[ \t]*$")
_SITE_TITLE = re.compile(r"^(?P<title>[^|\n]{3,200}?)\s+\|\s+(?P<site>[^|\n]{2,60})$")
_FRONT = re.compile(r"\A\ufeff?---[ \t]*\n(?P<body>.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def _blank(text: str, start: int, end: int, keep: str = "") -> str:
    """``text`` with ``[start, end)`` replaced by ``keep`` and then spaces (newlines kept), so every
    later offset stays that of the file."""
    span = text[start:end]
    filler = keep + re.sub(r"[^\n]", " ", span[len(keep):])
    return text[:start] + filler + text[end:]


def read_header(text: str) -> tuple[str, dict]:
    """The header of a saved article in a text or Markdown file: YAML front matter (``title``,
    ``url``, ``author``, ``date``; parsed by PyYAML), a title line followed by its URL on the next
    line, or a first line "Title | Site". Returns ``(text, found)``: the text with the header
    blanked (spaces, newlines kept: offsets do not move; a title line stays, without its site) and
    what was found (``title``, ``url``, ``author``, ``date``, ``site``). Text without such a header
    comes back unchanged with ``{}``."""
    found: dict = {}
    m = _FRONT.match(text[:8192])
    if m:
        try:
            data = yaml.safe_load(m.group("body"))
        except yaml.YAMLError:
            data = None
        if isinstance(data, dict):
            for key in ("title", "url", "author", "date"):
                if data.get(key) not in (None, ""):
                    found[key] = " ".join(str(data[key]).split())
            text = _blank(text, 0, m.end())
            return text, found
    lines = text[:4096].split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return text, found
    start = sum(len(x) + 1 for x in lines[:first])
    line = lines[first].rstrip()
    if first + 1 < len(lines) and _URL_LINE.match(lines[first + 1]) and is_title_like(line.strip()):
        found["title"] = re.sub(r"^#{1,6}\s+", "", line.strip())  # a Markdown "# Title" line
        found["url"] = lines[first + 1].strip()
        u0 = start + len(lines[first]) + 1
        return _blank(text, u0, u0 + len(lines[first + 1])), found
    site = _SITE_TITLE.match(line.strip())
    if site and len(site.group("site").split()) <= 5 and is_title_like(site.group("title").strip()):
        found["title"], found["site"] = site.group("title").strip(), site.group("site").strip()
        lead = len(lines[first]) - len(lines[first].lstrip())
        return _blank(text, start + lead, start + len(lines[first]), keep=found["title"]), found
    return text, found


def read_file(path: str | Path) -> Document:
    """Read one text, Markdown, HTML, PDF or Word (.docx) file into a :class:`Document`.

    The title is the file name without its suffix (an HTML, PDF or Word title takes its place;
    an archive page's own title lines still split it into articles); an HTML page's canonical URL,
    author and date, and a Word file's author and date, go to ``url`` and ``meta``. A sidecar
    ``NAME.meta.json`` or ``NAME.EXT.meta.json`` (``title``, ``url``, ``author``, ``date``,
    ``articles``) overrides these; its ``title`` names the article of a one-article file. A text or
    Markdown file's header (:func:`read_header`: YAML front matter, a title line over its URL line,
    or "Title | Site") gives title, URL, author and date the same way, below a sidecar. Text files are streamed (memory:
    about twice the text); PDF pages are joined by blank lines and their offsets kept in
    ``page_starts``. Raises :class:`DocumentError` with a one-line reason for unsupported types
    and for empty, oversized, binary or undecodable files; ``OSError`` when it cannot be read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"{path.name}: unsupported file type {path.suffix or '(none)'}; "
                            f"supported: {', '.join(sorted(SUFFIXES))}")
    size = path.stat().st_size
    limit = MAX_HTML_BYTES if suffix in HTML_SUFFIXES else MAX_FILE_BYTES
    if size > limit:
        raise DocumentError(f"{path.name}: {size:,} bytes, over the {limit:,}-byte limit")
    if size == 0:
        raise DocumentError(f"{path.name}: empty file")
    page_starts = None
    found: dict = {}
    if suffix in HTML_SUFFIXES:
        text, found = read_html(path, limit=limit)
    elif suffix in DOCX_SUFFIXES:
        text, found = read_docx(path)
    elif suffix in PDF_SUFFIXES:
        pages, title = read_pdf(path)
        found = {"title": title} if title else {}
        pages = [p.replace("\r\n", "\n").replace("\r", "\n").strip() for p in pages]
        page_starts, pos = [], 0
        for p in pages:
            page_starts.append(pos)
            pos += len(p) + 2
        text = "\n\n".join(pages)
    else:
        text, found = read_header(read_text_file(path, limit=limit))
        if found.get("title"):
            found["title_from_header"] = True
    if not text.strip():
        raise DocumentError(f"{path.name}: empty file (no text"
                            + (")" if suffix in TEXT_SUFFIXES else " outside markup)"))
    meta: dict = {}
    for sidecar in (path.with_name(path.stem + ".meta.json"), path.with_name(path.name + ".meta.json")):
        if sidecar.exists():
            try:
                meta = json.loads(sidecar.read_text(encoding="utf-8"))
            except ValueError as e:
                raise DocumentError(f"{sidecar.name}: invalid JSON ({_one_line(e)})") from e
            if not isinstance(meta, dict):
                raise DocumentError(f"{sidecar.name}: expected a JSON object")
            if meta.get("title"):
                meta["title_from_sidecar"] = True
            break
    meta = {**found, **meta}
    return Document(text=text, source=str(path.resolve()), title=meta.get("title") or path.stem,
                    url=meta.get("url"), article_urls=_article_urls(meta), meta=meta,
                    page_starts=page_starts)


def iter_paths(paths: list[str | Path]) -> list[Path]:
    """Expand files and folders (walked recursively) into a sorted list of candidate files,
    skipping hidden files and ``*.meta.json`` sidecars. Raises ``FileNotFoundError`` for a path
    that does not exist."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"No such file or folder: {p}")
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        out += [f for f in files if not f.name.startswith(".") and not f.name.endswith(".meta.json")]
    return out


def default_corpus() -> Document:
    """The bundled default corpus: The Strategist's "Tag Archive for: Interpol" page
    (https://www.aspistrategist.org.au/tag/interpol/, Australian Strategic Policy Institute)."""
    data = resources.files("rag") / "data"
    meta = json.loads((data / "interpol.meta.json").read_text(encoding="utf-8"))
    text = decode_bytes((data / meta["file"]).read_bytes(), meta["file"])
    return Document(text=text, source=f"bundled:{meta['file']}", title=meta["title"],
                    url=meta["url"], article_urls=_article_urls(meta), meta=meta)
