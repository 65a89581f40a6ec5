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
    spans: list[tuple[int, int]] = []
    blocks, start = [], 0
    for end in [m.start() for m in _BLANK.finditer(text)] + [len(text)]:
        if " | " in text[start:end]:  # a table: each row is a sentence of its own
            blocks += [start + m.start() for m in re.finditer("\n", text[start:end])]
        blocks.append(end)
        start = end
    block_start = 0
    for block_end in blocks:
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
                spans.append((s + offset, e + offset))
            pos = cut
        s, e = _trim(text, pos, block_end)
        if e > s:
            spans.append((s + offset, e + offset))
        block_start = block_end
    return spans
