"""Sentence segmentation with character offsets.

A rule-based splitter (no model, no download): a sentence ends at ``.``, ``!`` or ``?`` (and any
closing quotes or brackets after it) followed by whitespace and an upper-case letter, a digit or an
opening quote; a blank line always ends a sentence, and so does a line break in a table (a block
holding " | ", as tables are read): each row is a sentence. Common abbreviations ("Mr.", "U.S.", "e.g.")
and single initials ("J. Smith") do not end a sentence.
"""
from __future__ import annotations

import re

_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt",
    "gov", "sen", "rep", "rev", "hon", "inc", "ltd", "co", "corp", "vs", "etc", "no", "nos",
    "e.g", "i.e", "u.s", "u.k", "u.n", "a.m", "p.m", "fig", "vol", "approx", "dept", "est", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}
_BOUNDARY = re.compile(r"([.!?…]+['’”\")\]]*)\s+(?=[\"'‘“(\[]?[A-Z0-9À-ÖØ-Þ])")
_BLANK = re.compile(r"\n\s*\n")
_LAST_WORD = re.compile(r"([\w.]+)[.!?…]+['’”\")\]]*$")
_TAIL = 64


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def is_question(sentence: str) -> bool:
    """True when ``sentence`` is itself a question (ends with "?", closing quotes aside): in an
    article it restates what is asked, it is no evidence of the answer."""
    return sentence.rstrip("’”\"')").endswith("?")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Split ``text`` into sentences.

    Returns a list of ``(start, end)`` character spans, offset by ``offset``, such that
    ``text[start - offset:end - offset]`` is the stripped sentence. Empty input gives ``[]``.
    """
    return [(s + offset, e + offset) for s, e in iter_sentences(text)]


def iter_sentences(text: str, start: int = 0, end: int | None = None):
    """The sentences of ``text[start:end]`` as ``(start, end)`` spans (offsets into ``text``), one
    at a time, without copying the text: memory stays bounded on a long paragraph of many short
    sentences. Same rules as :func:`split_sentences`."""
    end = len(text) if end is None else end
    block_start = start
    for block_end in _block_ends(text, start, end):
        pos = block_start
        for m in _BOUNDARY.finditer(text, block_start, block_end):
            cut = m.end(1)
            # only the last few characters matter (is the word before the stop an abbreviation?);
            # looking at text[pos:cut] whole would be quadratic on a long run of initials
            word = _LAST_WORD.search(text, max(pos, cut - _TAIL), cut)
            if word:
                w = word.group(1).lower().rstrip(".")
                if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                    continue
            s, e = _trim(text, pos, cut)
            if e > s:
                yield s, e
            pos = cut
        s, e = _trim(text, pos, block_end)
        if e > s:
            yield s, e
        block_start = block_end


def _block_ends(text: str, start: int, end: int):
    """Ends of the blocks of ``text[start:end]`` that sentences never cross: blank lines, and each
    row of a table (a block holding " | ")."""
    block = start
    for m in _BLANK.finditer(text, start, end):
        yield from _row_ends(text, block, m.start())
        block = m.start()
    yield from _row_ends(text, block, end)


def _row_ends(text: str, start: int, end: int):
    if text.find(" | ", start, end) >= 0:  # a table: each row is a sentence of its own
        i = text.find("\n", start, end)
        while i >= 0:
            yield i
            i = text.find("\n", i + 1, end)
    yield end
