"""Article-aware paragraph chunker.

An archive page (a tag or category page saved as text) holds several articles, each opened by a
title line. :func:`split_articles` finds them; :func:`chunk_document` turns each article's
paragraphs into :class:`~rag.types.Chunk` objects:

- a paragraph is a chunk;
- a very short paragraph (fewer than ``min_words`` words) joins the next paragraph of the same
  article section (or the previous one, at the end of a section, or before a table);
- a table (every line holding " | ", as HTML and Word tables are read) is a chunk of its own;
- a Markdown ``##``-``######`` heading is no paragraph: it names the section of the chunks under it
  (``Chunk.section``), and paragraph numbers count body paragraphs only;
- a paragraph longer than ``max_tokens`` embedder tokens is split at sentence boundaries;
- every chunk keeps character offsets into the source text, so ``text[start:end] == chunk.text``.

Title detection: a block (text between blank lines) is *title-like* when it is one line of at most
16 words / 150 characters, starts with a capital letter or digit and does not end like a sentence
(``. ! ? ; , :`` or a closing quote). A run of title-like blocks followed by body text opens an
article: the first line of the run is its title, the rest are captions (e.g. a photo credit), which
join the article's first chunk. A first line such as "Tag Archive for: Interpol" is the page
heading, and only such an archive page holds several articles; in any other text, title-like
lines after the first title are section headings of its one article. In Markdown, ``# `` headings
open articles and nothing else does.
"""
from __future__ import annotations

import bisect
import re
from array import array
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .sentences import iter_sentences
from .text import strip_invisible
from .types import Chunk

CHUNKER_VERSION = "6"  # 6: listing snippets without blank lines; 5: Markdown ##/### sections, tables apart

_ARCHIVE_HEADING = re.compile(
    r"^((tag|category|author|topic|date|monthly|yearly|search)\s+)?(archives?|results)\s*(for\b|:|$)"
    r"|^(tag|category|author|topic|date|monthly|yearly)\s+(archives?|results)\b"
    r"|^posts?\s+(tagged|in|by)\b",
    re.IGNORECASE,
)


class Spans:
    """A compact list of ``(start, end)`` character spans (two ``array('q')``: 16 bytes a span,
    against ~120 for a list of tuples), for documents of a million tiny paragraphs. Indexing
    gives a tuple, a slice gives a :class:`Spans`; iterable, appendable, comparable to a list."""

    __slots__ = ("starts", "ends")

    def __init__(self, spans=()):
        self.starts, self.ends = array("q"), array("q")
        for s, e in spans:
            self.append((s, e))

    def append(self, span: tuple[int, int]) -> None:
        self.starts.append(span[0])
        self.ends.append(span[1])

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            out = Spans()
            out.starts, out.ends = self.starts[i], self.ends[i]
            return out
        return self.starts[i], self.ends[i]

    def __iter__(self):
        return zip(self.starts, self.ends)

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def __repr__(self) -> str:
        return f"Spans({list(self)!r})"


@dataclass
class Article:
    """An article found in a document: its title and body paragraphs as ``(start, end)`` spans.

    ``captions`` are title-like lines between the title and the first paragraph; ``sections``
    holds ``(paragraph index, heading)`` for each Markdown ``##``-``######`` heading: the section
    starts at that body paragraph (headings are not paragraphs).
    """

    title: str
    title_span: tuple[int, int] | None
    paragraphs: Spans = field(default_factory=Spans)
    captions: list[tuple[int, int]] = field(default_factory=list)
    sections: list[tuple[int, str]] = field(default_factory=list)


def slugify(title: str, max_len: int = 80) -> str:
    """ASCII slug of a title: "Interpol’s world congress" -> "interpols-world-congress"."""
    s = unicodedata.normalize("NFKD", title)
    s = s.encode("ascii", "ignore").decode()
    s = re.sub(r"['’`]", "", s.lower())
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s[:max_len].rstrip("-") or "document"


_MD_HEADING_LINE = re.compile(r"^#{1,6}[ \t]+\S[^\n]*$", re.MULTILINE)
_MD_SECTION = re.compile(r"#{2,6}[ \t]+\S[^\n]*")


_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")


def _between(pattern: re.Pattern, text: str):
    """``(start, end)`` of the stretches of ``text`` between matches of ``pattern``, lazily."""
    pos = 0
    for m in pattern.finditer(text):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(text)


def _blocks(text: str) -> Spans:
    """Spans of non-blank blocks separated by blank lines (stripped of outer whitespace); a
    Markdown heading line ("# Title") is a block of its own even without blank lines around it.
    Linear time; memory: 16 bytes a span (the runs of blank lines are found by a regular expression
    without repetition over lines, which would keep state for every line of a long block)."""
    spans = Spans()
    add_start, add_end = spans.starts.append, spans.ends.append
    for b0, b1 in _between(_BLANK_LINES, text):
        cuts = [b0]
        if text.find("#", b0, b1) >= 0:
            for h in _MD_HEADING_LINE.finditer(text, b0, b1):
                cuts += [h.start(), h.end()]
        cuts.append(b1)
        for s, e in zip(cuts, cuts[1:]):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                add_start(s)
                add_end(e)
    return spans


def heading_text(line: str) -> str:
    """A title line without Markdown heading marks or invisible characters (soft hyphens, ...):
    "# Mount Fakeview" -> "Mount Fakeview"."""
    return strip_invisible(re.sub(r"^#{1,6}\s+", "", line)).strip()


def is_title_like(line: str) -> bool:
    """True when ``line`` looks like a heading rather than prose (see module docstring); a
    Markdown heading (``# Title``) always is."""
    if re.match(r"^#{1,6}\s+\S", line) and "\n" not in line:
        return True
    if "\n" in line or len(line) > 150:
        return False
    words = line.split()
    if not 1 <= len(words) <= 16:
        return False
    if not (line[0].isupper() or line[0].isdigit() or line[0] in "‘“\"'"):
        return False
    if re.search(r"[.!?;,:…]['’”\")\]]*$", line) or line[-1] in "’”\"":
        return False  # ends like a sentence, or introduces what follows ("Key facts:")
    return True


#: A listing block is split into snippets only when it holds at least this many (title line, then
#: text lines that each end a sentence), and only blocks of at most this many lines are examined.
LISTING_MIN_SNIPPETS, LISTING_MAX_LINES = 3, 400
_SENTENCE_END = re.compile(r"[.!?…]['’”\")\]]*$")


def listing_snippets(text: str, s: int, e: int) -> list[tuple[int, int]] | None:
    """The lines of block ``text[s:e]`` as separate blocks when its layout is a listing without
    blank lines: title line, its text (lines each ending a sentence), next title line, ... at least
    :data:`LISTING_MIN_SNIPPETS` times over the whole block. ``None`` otherwise (hard-wrapped prose
    has lines that do not end a sentence, so it never qualifies)."""
    lines, pos = [], s
    while pos < e:
        nl = text.find("\n", pos, e)
        end = e if nl < 0 else nl
        if end > pos and text[pos:end].strip():
            lines.append((pos, end))
        pos = end + 1
        if len(lines) > LISTING_MAX_LINES:
            return None
    if len(lines) < 2 * LISTING_MIN_SNIPPETS:
        return None
    titles = 0
    prev_title = False
    for k, (a, b) in enumerate(lines):
        line = text[a:b].strip()
        if not prev_title or k == 0:
            title = is_title_like(line) and len(line.split()) <= 14 and not _SENTENCE_END.search(line)
        else:
            title = False  # a title line is followed by text
        if k == 0 and not title:
            return None
        if title:
            titles += 1
        elif not _SENTENCE_END.search(line):
            return None  # a text line that does not end a sentence: prose, not a listing
        prev_title = title
    if prev_title or titles < LISTING_MIN_SNIPPETS:
        return None
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b - (len(text[a:b]) - len(text[a:b].rstrip())))
            for a, b in lines]


def split_articles(text: str, default_title: str = "Untitled", *, markdown: bool = True,
                   title_hint: str | None = None) -> tuple[str | None, list[Article]]:
    """Find the articles of a page.

    Returns ``(page_heading, articles)``. ``page_heading`` is the archive heading ("Tag Archive
    for: …") when the page starts with one, else ``None``. Body text before the first title goes
    to an article titled ``default_title``. A document with no title-like lines is one article.
    With ``markdown`` (a .md file), ``# `` headings outside code fences open the articles, and
    ``##``-``######`` headings inside an article open its sections (``Article.sections``).
    ``title_hint`` (a title the file's metadata gives, such as an HTML ``<h1>``) is the article's
    title when it is one of the lines of the run that opens it (a kicker or a date before the
    ``<h1>`` is then a caption).
    """
    blocks = _blocks(text)
    heading = None

    def fenced(pos: int) -> bool:
        return False

    first_line = text[blocks[0][0]:min(blocks[0][1], blocks[0][0] + 151)] if blocks else ""
    if first_line and "\n" not in first_line and len(first_line) <= 150 and _ARCHIVE_HEADING.search(first_line):
        heading = first_line
        blocks = blocks[1:]
    if heading is not None:  # a listing page: snippets run together without blank lines are split
        split = Spans()
        for b in blocks:
            for part in (listing_snippets(text, *b) if text.find("\n", *b) >= 0 else None) or [b]:
                split.append(part)
        blocks = split
    if markdown:
        fences = [m.span() for m in re.finditer(r"^```.*?(?:^```[^\n]*$|\Z)", text, re.MULTILINE | re.DOTALL)]
        fence_starts = [a for a, _ in fences]

        def fenced(pos: int) -> bool:  # noqa: F811 - fences do not overlap: the last one starting before counts
            k = bisect.bisect_right(fence_starts, pos) - 1
            return k >= 0 and pos < fences[k][1]

        md_titles = bytearray(text.startswith("# ", s) and not fenced(s) for s, _ in blocks)
    title, body = 1, 0
    if markdown and any(md_titles):
        # a Markdown document: "# " headings open articles; everything else, deeper headings
        # ("## Reaction") and label lines included, is text of the article they are in
        kinds = md_titles
    else:
        # a block of over 150 characters is never title-like (and not copied to find out)
        kinds = bytearray((e - s <= 150 or text.startswith("#", s)) and is_title_like(text[s:e]) for s, e in blocks)
        if heading is None:
            # not an archive page: one article, opened by its first title-like run; later
            # title-like lines ("What the union won", "Reaction") are section headings in it
            first = kinds.find(body)
            if first >= 0:
                kinds[first:] = bytes(len(kinds) - first)
    articles: list[Article] = []
    current: Article | None = None
    i = 0
    while i < len(blocks):
        if kinds[i] == title:
            j = i
            while j < len(blocks) and kinds[j] == title:
                j += 1
            if j < len(blocks):  # a run of title-like blocks followed by body text opens an article
                run = blocks[i:j]
                hinted = [b for b in run if title_hint and " ".join(heading_text(text[b[0]:b[1]]).split())
                          == " ".join(title_hint.split())]
                s, e = hinted[0] if hinted else run[0]
                current = Article(title=heading_text(text[s:e]), title_span=(s, e),
                                  captions=[b for b in run if b != (s, e)])
                articles.append(current)
                i = j
                continue
            # trailing title-like lines with no body after them: keep them as text of the article
        if current is None:
            current = Article(title=strip_invisible(default_title), title_span=None)
            articles.append(current)
        s, e = blocks[i]
        if markdown and text[s] == "#" and _MD_SECTION.fullmatch(text, s, e) and not fenced(s):
            current.sections.append((len(current.paragraphs), heading_text(text[s:e])))
        else:
            current.paragraphs.append((s, e))
        i += 1
    articles = [a for a in articles if a.paragraphs]
    return heading, articles


def approx_tokens(text: str) -> int:
    """Rough WordPiece token count (words × 1.3 plus punctuation), used when no tokenizer is given."""
    return int(len(re.findall(r"\w+", text)) * 1.3) + len(re.findall(r"[^\w\s]", text))


#: A run of non-space characters longer than this is cut into pieces of this length before
#: windowing (WordPiece reads a word over 100 characters as one [UNK] token, so a 2 MB line with
#: no spaces would otherwise count as one token).
MAX_WORD_CHARS = 100
#: A chunk is at most this many characters per token of its budget, whatever its token count.
MAX_CHARS_PER_TOKEN = 12


#: :func:`_windows` tokenises a long span this many characters (at least) at a time, cut at
#: whitespace, so memory stays bounded by the segment, not the span (a 60 MB line of short words
#: would otherwise be held as tens of millions of token offsets at once).
SEGMENT_CHARS = 1 << 16
_NON_SPACE = re.compile(r"\S+")


def _word_spans(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Spans of the non-space runs of ``text[s:e]``, runs over :data:`MAX_WORD_CHARS` cut up."""
    out = []
    for m in _NON_SPACE.finditer(text, s, e):
        a, b = m.span()
        if b - a <= MAX_WORD_CHARS:
            out.append((a, b))
        else:
            out += [(i, min(i + MAX_WORD_CHARS, b)) for i in range(a, b, MAX_WORD_CHARS)]
    return out


def _segment_end(text: str, s: int, e: int, size: int) -> int:
    """End of the segment of ``text[s:e]`` that starts at ``s``: ``e`` when the rest is at most
    ``size`` characters, else the last whitespace in ``text[s + size // 2 : s + size]`` (or
    ``s + size`` when there is none there)."""
    if e - s <= size:
        return e
    cut = s + size
    for i in range(cut - 1, s + size // 2, -1):  # at most size / 2 steps, once per segment
        if text[i].isspace():
            return i
    return cut


def _windows(text: str, s: int, e: int, max_tokens: int, max_chars: int,
             count_tokens: Callable[[str], int],
             token_ends: Callable[[str], Sequence[int]] | None = None,
             ) -> list[tuple[tuple[int, int], int]]:
    """Cut ``[s, e)`` at word boundaries into consecutive windows of at most ``max_tokens``
    tokens and ``max_chars`` characters; returns ``((start, end), tokens)`` pairs.

    The span is read in segments of about :data:`SEGMENT_CHARS` (at least ``4 * max_chars``)
    characters cut at whitespace (WordPiece never joins characters across whitespace, so the
    tokens are those of the whole span); the last window of a segment is read again at the
    start of the next. Time and memory are linear in ``e - s``; memory beyond the output is
    bounded by one segment.
    """
    size = max(SEGMENT_CHARS, 4 * max_chars)
    out: list[tuple[tuple[int, int], int]] = []
    pos = s
    while pos < e:
        seg_end = _segment_end(text, pos, e, size)
        found = _segment_windows(text, pos, seg_end, max_tokens, max_chars, count_tokens, token_ends)
        if seg_end < e and len(found) > 1:
            found.pop()  # may continue in the next segment: read it again from its start
            pos = found[-1][0][1]
        else:
            pos = seg_end
        out += found
    return out


def _segment_windows(text: str, s: int, e: int, max_tokens: int, max_chars: int,
                     count_tokens: Callable[[str], int],
                     token_ends: Callable[[str], Sequence[int]] | None = None,
                     ) -> list[tuple[tuple[int, int], int]]:
    """The windows of :func:`_windows` within one segment ``[s, e)``.

    With ``token_ends`` (end offsets of the tokens of a text) the segment is tokenised once and
    the windows are read off the offsets. Without it each window is found by binary search over
    its end word (a word is at least one token, so a window holds at most ``max_tokens`` words):
    ``O(log max_tokens)`` calls of ``count_tokens`` per window, each on at most one window of
    text.
    """
    words = _word_spans(text, s, e)
    out: list[tuple[tuple[int, int], int]] = []
    if token_ends is not None:
        ends = token_ends(text[s:e])
        before = [bisect.bisect_right(ends, a - s) for a, _ in words]  # tokens ending before word
        upto = [bisect.bisect_right(ends, b - s) for _, b in words]  # tokens ending by its end
        del ends
        i = 0
        while i < len(words):
            j = i + 1
            while (j < len(words) and upto[j] - before[i] <= max_tokens
                   and words[j][1] - words[i][0] <= max_chars):
                j += 1
            out.append(((words[i][0], words[j - 1][1]), upto[j - 1] - before[i]))
            i = j
        return out
    i = 0
    while i < len(words):
        lo, hi = i + 1, min(len(words), i + max(1, max_tokens))
        lo_count = count_tokens(text[words[i][0]:words[i][1]])
        while lo < hi:
            mid = (lo + hi + 1) // 2
            n = count_tokens(text[words[i][0]:words[mid - 1][1]])
            if n <= max_tokens and words[mid - 1][1] - words[i][0] <= max_chars:
                lo, lo_count = mid, n
            else:
                hi = mid - 1
        out.append(((words[i][0], words[lo - 1][1]), lo_count))
        i = lo
    return out


def _split_long(text: str, start: int, end: int, max_tokens: int,
                count_tokens: Callable[[str], int],
                token_ends: Callable[[str], Sequence[int]] | None = None) -> list[tuple[int, int]]:
    """Split span ``[start, end)`` at sentence boundaries into parts of at most ``max_tokens``
    tokens (and ``MAX_CHARS_PER_TOKEN * max_tokens`` characters); a sentence longer than that
    is cut at word boundaries.

    Linear in the span's length: each sentence is tokenised once and adjacent sentences are
    merged by adding their counts (exact for WordPiece, which splits at whitespace first).
    """
    max_chars = MAX_CHARS_PER_TOKEN * max_tokens
    if end - start <= max_chars and count_tokens(text[start:end]) <= max_tokens:
        return [(start, end)]
    parts: list[tuple[int, int]] = []
    cs = ce = cn = None  # the part being filled: start, end, tokens
    for s, e in iter_sentences(text, start, end):
        n = count_tokens(text[s:e]) if e - s <= max_chars else max_tokens + 1
        # one sentence longer than the window: cut it at word boundaries
        pieces = [((s, e), n)] if n <= max_tokens else _windows(text, s, e, max_tokens, max_chars,
                                                                 count_tokens, token_ends)
        for (ps, pe), pn in pieces:
            if cs is not None and cn + pn <= max_tokens and pe - cs <= max_chars:
                ce, cn = pe, cn + pn
            else:
                if cs is not None:
                    parts.append((cs, ce))
                cs, ce, cn = ps, pe, pn
    if cs is not None:
        parts.append((cs, ce))
    return parts


def _count_words(text: str, s: int, e: int, limit: int) -> int:
    """Number of whitespace-separated words in ``text[s:e]``, counting no further than ``limit``
    (a paragraph of two million words is not split into two million strings to learn that it
    holds at least ten)."""
    if e - s <= 4096:
        return len(text[s:e].split())
    n = 0
    for _ in _NON_SPACE.finditer(text, s, e):
        n += 1
        if n >= limit:
            break
    return n


def is_table(text: str, s: int, e: int) -> bool:
    """True when every line of ``text[s:e]`` holds " | ": a table as HTML and Word tables are read
    (:func:`rag.documents.table_row`)."""
    if text.find(" | ", s, e) < 0:
        return False
    return all(" | " in line for line in text[s:e].split("\n"))


def _group_ranges(text: str, spans: "Spans", lo: int, hi: int, min_words: int) -> list[tuple[int, int]]:
    """Paragraphs ``lo:hi`` of an article in groups, as ``[a, b)`` index ranges: a group closes
    once it holds ``min_words`` words, so short paragraphs join the next one; short paragraphs at
    the end join the group before them. A table is a group of its own: a short paragraph before
    it joins the group before (or stands alone), never the table."""
    groups: list[list] = []  # [a, b, is_table]
    a, words = lo, 0

    def close_short(end: int) -> None:
        if end > a:
            if groups and not groups[-1][2]:
                groups[-1][1] = end
            else:
                groups.append([a, end, False])

    for p in range(lo, hi):
        s, e = spans[p]
        if is_table(text, s, e):
            close_short(p)
            groups.append([p, p + 1, True])
            a, words = p + 1, 0
            continue
        words += _count_words(text, s, e, min_words - words)
        if words >= min_words:
            groups.append([a, p + 1, False])
            a, words = p + 1, 0
    close_short(hi)
    return [(g[0], g[1]) for g in groups]


def _group_chunks(text: str, art: Article, a_idx: int, slug: str, art_url: str | None,
                  group: range, first: bool, source: str, max_tokens: int,
                  count: Callable[[str], int], token_ends, section: str | None = None) -> list[Chunk]:
    """The chunks of one group of paragraphs (indexes into ``art.paragraphs``) of an article;
    the first group starts at the article's captions."""
    start = art.paragraphs[group[0]][0]
    end = art.paragraphs[group[-1]][1]
    if first and art.captions:
        start = art.captions[0][0]
    numbers = [q + 1 for q in group]
    out = []
    for part, (s, e) in enumerate(_split_long(text, start, end, max_tokens, count, token_ends)):
        cid = f"{slug}#p{numbers[0]}" + (f".{part + 1}" if part else "")
        out.append(Chunk(id=cid, text=text[s:e], title=art.title, url=art_url,
                         paragraphs=numbers, start=s, end=e, source=source, article=a_idx,
                         section=section))
    return out


def chunk_document(
    text: str,
    *,
    source: str,
    title: str = "Untitled",
    url: str | None = None,
    article_urls: dict[str, str] | None = None,
    min_words: int = 10,
    max_tokens: int = 200,
    count_tokens: Callable[[str], int] | None = None,
    token_ends: Callable[[str], Sequence[int]] | None = None,
    taken_slugs: set[str] | None = None,
    markdown: bool = True,
    title_hint: str | None = None,
) -> list[Chunk]:
    """Chunk one document (already decoded to ``str``) into paragraph chunks.

    ``title`` names text that precedes any title line; ``url`` is the page URL, used for articles
    whose own URL is not in ``article_urls`` (title -> URL). ``max_tokens`` bounds a chunk's
    length in embedder tokens (all-MiniLM-L6-v2 reads 256; the default leaves room for the title
    that is embedded with the chunk); ``count_tokens`` counts them (default :func:`approx_tokens`)
    and ``token_ends``, when given, returns the end offsets of a text's tokens, so a very long
    sentence is cut after one tokenizer call. ``taken_slugs`` (updated in place) keeps ids unique across
    documents. ``markdown`` and ``title_hint``: see :func:`split_articles`. Returns chunks in
    reading order; ``text[c.start:c.end] == c.text`` for each.
    """
    count = count_tokens or approx_tokens
    article_urls = article_urls or {}
    taken = taken_slugs if taken_slugs is not None else set()
    _, articles = split_articles(text, default_title=title, markdown=markdown, title_hint=title_hint)
    chunks: list[Chunk] = []
    for a_idx, art in enumerate(articles):
        base = slugify(art.title)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        art_url = article_urls.get(art.title, url)
        # numbers are 1-based positions among the article's body paragraphs; a section's
        # paragraphs are grouped apart from the next section's
        cuts = [0] + [p for p, _ in art.sections] + [len(art.paragraphs)]
        names = [None] + [name for _, name in art.sections]
        for lo, hi, section in zip(cuts, cuts[1:], names):
            for a, b in _group_ranges(text, art.paragraphs, lo, hi, min_words):
                chunks += _group_chunks(text, art, a_idx, slug, art_url, range(a, b), a == 0,
                                        source, max_tokens, count, token_ends, section)
    return chunks
