"""Plain data types shared by every part of the library: chunks, passages, citations, answers.

All are frozen-ish dataclasses with a ``to_dict()`` that gives JSON-ready values, so the CLI
(``rag ask --json``) and the UI's ``/ask`` endpoint return the same field names.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Chunk:
    """One retrievable unit: a paragraph (or a joined run of short ones, or part of a long one).

    ``source_text[start:end] == text`` for the document the chunk came from (offsets in
    characters of the decoded source text). ``id`` is stable: ``<article-slug>#p<N>`` where N is
    the first paragraph number in the article (1-based); the second and later parts of a split
    paragraph get ``#p<N>.<part>``.
    """

    id: str
    text: str
    title: str
    url: str | None
    paragraphs: list[int]
    start: int
    end: int
    source: str
    article: int = 0
    page: int | None = None
    author: str | None = None  #: from the document's metadata (one-article documents only)
    site: str | None = None  #: site or publisher, from the metadata or a "Title | Site" line
    date: str | None = None  #: publication date as the document gives it
    section: str | None = None  #: the Markdown ``##`` heading the chunk is under, if any

    @property
    def cited_as(self) -> str:
        """How a citation names the chunk: "Article › Section", or the article's title."""
        return f"{self.title} › {self.section}" if self.section else self.title

    @property
    def paragraph(self) -> int:
        """First paragraph number (1-based, within its article)."""
        return self.paragraphs[0]

    def paragraph_at(self, offset: int) -> int:
        """The number of the paragraph holding character ``offset`` of ``text`` (a chunk that
        joins short paragraphs holds several, separated by blank lines)."""
        if offset <= 0 or len(self.paragraphs) == 1:
            return self.paragraphs[0]
        breaks = len(re.findall(r"\n[ \t]*\n\s*", self.text[:offset]))
        return self.paragraphs[min(breaks, len(self.paragraphs) - 1)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Passage:
    """A retrieved chunk with its retrieval score (the fused hybrid score, see
    :mod:`rag.retriever`), its 1-based rank and its dense cosine similarity to the question."""

    chunk: Chunk
    score: float
    rank: int
    dense: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; ``source`` is the file name only (a server never shows its paths)."""
        d = self.chunk.to_dict()
        src = d.get("source") or ""
        if not src.startswith("bundled:"):
            d["source"] = Path(src).name if ("/" in src or "\\" in src) else src
        d.update(chunk_id=self.chunk.id, score=round(float(self.score), 4), rank=self.rank,
                 dense=None if self.dense is None else round(float(self.dense), 4))
        return d


@dataclass
class Citation:
    """A numbered citation ``[number]`` in an answer, pointing at one passage.

    ``paragraph`` is the number of the paragraph the quote starts in (a chunk may join several
    short paragraphs).

    ``quote`` is the exact sentence(s) of the passage the answer rests on (a substring of the
    chunk text); ``score`` is the passage's retrieval score; ``file`` the name of the file the
    passage was read from (without its folder; None for text given directly), so two files with
    the same title can be told apart; ``author``, ``site`` and ``date`` come from the document's
    metadata when it gives them (for a bibliography).
    """

    number: int
    chunk_id: str
    title: str
    url: str | None
    paragraph: int
    quote: str
    score: float
    page: int | None = None
    file: str | None = None
    author: str | None = None
    site: str | None = None
    date: str | None = None
    section: str | None = None  #: the chunk's section (a Markdown ``##`` heading), if any

    @property
    def cited_as(self) -> str:
        """"Article › Section", or the article's title."""
        return f"{self.title} › {self.section}" if self.section else self.title

    @classmethod
    def of(cls, passage: "Passage", number: int, quote: str) -> "Citation":
        """The citation ``[number]`` of ``passage``, quoting ``quote``."""
        c = passage.chunk
        name = Path(c.source).name if c.source and ("/" in c.source or "\\" in c.source) else None
        at = c.text.find(quote) if quote else -1
        return cls(number=number, chunk_id=c.id, title=c.title, url=c.url,
                   paragraph=c.paragraph_at(at) if at >= 0 else c.paragraph,
                   quote=quote, score=passage.score, page=c.page, file=name,
                   author=c.author, site=c.site, date=c.date, section=c.section)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(float(self.score), 4)
        return d


@dataclass
class ShortAnswer:
    """The short answer of an extractive answer: the span of the expected answer type (a number,
    date, person, place, ...) in the lead sentence. ``start``/``end`` are character offsets in
    the cited passage's chunk text (``chunk_id``; ``text == chunk.text[start:end]``), ``citation``
    the number of the citation it lies in, ``label`` the entity label (spaCy's, e.g. ``CARDINAL``),
    and ``answer_start``/``answer_end`` its offsets in :attr:`Answer.text` (None when not found)."""

    text: str
    chunk_id: str
    start: int
    end: int
    label: str
    citation: int = 1
    answer_start: int | None = None
    answer_end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The result of :func:`rag.ask`.

    ``text`` carries inline markers ``[n]`` that match ``citations[n-1].number``; citations are
    numbered 1.. in order of first use, one per passage. When ``refused`` is true, ``text`` is
    :data:`rag.prompts.CANNOT_ANSWER`, ``citations`` is empty and ``reason`` gives the scores
    that decided it. ``passages`` are all retrieved passages, best first. ``notices`` are
    user-facing remarks (a question cut to the embedder's window, a fallback); for a follow-up,
    ``standalone_question`` is the rewritten question that was searched. For generated answers,
    ``sentences`` holds each sentence's citation verdict (:class:`rag.grounding.SentenceVerdict`)
    and ``grounding`` the counts (sentences, unsupported, citations, verified_citations);
    ``mode`` is ``extractive``, ``openai`` or ``local``. ``short_answer`` (:class:`ShortAnswer`)
    is the span that answers a question expecting a number, date, person, place, ... (extractive
    answers only; None otherwise). ``flagged`` lists the retrieved passages that hold text
    addressed to an AI (``{"chunk_id", "title", "instructions": [sentences]}``): never followed,
    never support, shown to the user as such.
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    refused: bool = False
    reason: str = ""
    notices: list[str] = field(default_factory=list)
    mode: str = "extractive"
    standalone_question: str | None = None
    sentences: list = field(default_factory=list)
    grounding: dict = field(default_factory=dict)
    short_answer: ShortAnswer | None = None
    flagged: list[dict] = field(default_factory=list)

    def marked(self, before: str = "**", after: str = "**") -> str:
        """``text`` with the short answer wrapped in ``before``/``after`` (Markdown bold by
        default); ``text`` unchanged when there is none."""
        sa = self.short_answer
        if sa is None or sa.answer_start is None or self.text[sa.answer_start:sa.answer_end] != sa.text:
            return self.text
        return (self.text[:sa.answer_start] + before + sa.text + after + self.text[sa.answer_end:])

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "refused": self.refused,
            "reason": self.reason,
            "notices": list(self.notices),
            "mode": self.mode,
            "standalone_question": self.standalone_question,
            "sentences": [s.to_dict() if hasattr(s, "to_dict") else s for s in self.sentences],
            "grounding": dict(self.grounding),
            "short_answer": self.short_answer.to_dict() if self.short_answer else None,
            "flagged": [dict(f) for f in self.flagged],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Answer":
        """The Answer that :meth:`to_dict` gave ``d`` (a saved turn reopened). Passages keep the
        file name only; ``sentences`` stay dicts. Unknown keys are ignored."""
        def known(klass, data: dict) -> dict:
            names = klass.__dataclass_fields__
            return {k: v for k, v in data.items() if k in names}

        passages = []
        for p in d.get("passages", []):
            chunk = Chunk(**known(Chunk, {**p, "id": p.get("chunk_id", p.get("id"))}))
            passages.append(Passage(chunk, p.get("score", 0.0), p.get("rank", 0), p.get("dense")))
        sa = d.get("short_answer")
        return cls(question=d.get("question", ""), text=d.get("text", ""),
                   citations=[Citation(**known(Citation, c)) for c in d.get("citations", [])],
                   passages=passages, refused=bool(d.get("refused")), reason=d.get("reason", ""),
                   notices=list(d.get("notices", [])), mode=d.get("mode", "extractive"),
                   standalone_question=d.get("standalone_question"), sentences=list(d.get("sentences", [])),
                   grounding=dict(d.get("grounding", {})),
                   short_answer=ShortAnswer(**known(ShortAnswer, sa)) if sa else None,
                   flagged=[dict(f) for f in d.get("flagged", [])])

    def to_markdown(self) -> str:
        """The answer with a numbered source list, as Markdown (for copying)."""
        lines = [self.marked(), ""]
        for c in self.citations:
            link = f"[{c.title}]({c.url})" if c.url else f"{c.title} ({c.file})" if c.file else c.title
            lines.append(f"[{c.number}] {link}, paragraph {c.paragraph}: “{c.quote}”")
        return "\n".join(lines).rstrip() + "\n"
