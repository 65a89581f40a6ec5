"""Citation checking for generated answers: every ``[n]`` is verified before it is shown.

Steps (:func:`verify`):

1. Split the reply into sentences; markers after the full stop (``"… done. [1]"``) are moved
   before it so they stay with their sentence. Markers may be ``[n]``, ``[n, m]`` or ``[n][m]``.
2. Drop numbers that are not among the sources.
3. Check each cited sentence against each passage it cites: *coverage* (IDF-weighted share of
   the sentence's content terms found in the passage, title included) and *similarity* (the best
   cosine between the sentence's embedding and the passage's sentence embeddings); sentences of
   the passage addressed to an AI (:mod:`rag.instructions`, any wording) never count, and the
   passage is listed in ``Answer.flagged``. A citation holds when ``coverage >= MIN_COVERAGE``,
   ``similarity >= MIN_SIMILARITY``, the sentence is not closer to a planted instruction than to
   the passage's other sentences (a reply that obeys it), and its facts agree with the passage
   (:func:`rag.claims.check_claim`: numbers, dates, ordinals, named entities, polarity, roles);
   the verdict's note names what failed ("the passage gives 24–10, not 31–7"). A sentence is
   supported when at least one of its citations holds. Citations that do not hold are removed.
   A sentence the model left without any citation is attributed to the source that supports it
   best, when that source passes the same check (noted in its verdict as "cited by the checker").
4. Renumber the remaining citations 1.. in order of first use; repeats of one passage share a
   number.
5. ``strict=True`` removes unsupported sentences from the text; otherwise they stay, without
   markers, flagged ``supported=False`` in ``Answer.sentences``. When no supported sentence
   remains the answer becomes a refusal with its reason.

Thresholds are calibrated by ``bench/calibrate_citations.py`` (see ``docs/calibration.md``).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from . import claims as claims_module
from .claims import check_claim, needs_roles, prepare, role_sentences
from .instructions import find_instructions
from .prompts import CANNOT_ANSWER
from .cache import BoundedCache
from .sentences import split_sentences
from .store import as_store, locate
from .text import TermStats, stem, strip_invisible, terms
from .types import Answer, Citation, Passage

MIN_COVERAGE = 0.5
#: Chunks whose instruction sentences a checker remembers (the rules take ~0.4 ms a sentence).
FLAG_CACHE_SIZE = 50_000
#: The reason of a refusal the model itself gave (kept as a refusal: the model read the sources).
MODEL_REFUSED = "The model found no answer in the sources."


def _is_number_term(term: str) -> bool:
    """A term that is a number ("3000") or a number word's stem ("eighteen", "thousand"): left out
    of coverage, since "ten dollars" for "$10" is checked by value (:func:`rag.claims.numbers`)."""
    return term.replace(".", "").isdigit() or term in _NUMBER_STEMS
MIN_SIMILARITY = 0.4

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MARKS = r"(?:\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])"
_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_TRAILING = re.compile(r"([.!?…])(['’”\")]?)\s*((?:" + _MARKS + r"\s*)+)")


@dataclass
class PassageView:
    """A passage as the check sees it: its sentences, their ``(n, 384)`` vectors, and the indices
    of the sentences addressed to an AI."""

    passage: Passage
    sentences: list[str]
    vectors: np.ndarray
    flagged: set[int]

    @cached_property
    def kept(self) -> list[int]:
        """Indices of the sentences that may support a claim (not addressed to an AI)."""
        return [i for i in range(len(self.sentences)) if i not in self.flagged]

    @cached_property
    def terms(self) -> set[str]:
        """Content terms of the title and the kept sentences (computed once per answer)."""
        return set(terms(self.passage.chunk.title + "\n" + " ".join(self.sentences[i] for i in self.kept)))


@dataclass
class SentenceVerdict:
    """The check of one answer sentence: its text (markers removed), the final citation numbers
    that hold, whether it is supported, and the best coverage and similarity found."""

    text: str
    citations: list[int] = field(default_factory=list)
    supported: bool = False
    coverage: float = 0.0
    similarity: float = 0.0
    note: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["coverage"], d["similarity"] = round(self.coverage, 3), round(self.similarity, 3)
        return d


def parse(reply: str) -> list[tuple[str, list[int]]]:
    """Split ``reply`` into ``(sentence without markers, cited numbers in order)`` pairs."""
    text = _TRAILING.sub(lambda m: f" {m.group(3).strip()}{m.group(1)}{m.group(2)} ", reply)
    out = []
    for s, e in split_sentences(text):
        sent = text[s:e]
        nums = [int(n) for m in _MARKER.finditer(sent) for n in re.split(r"\s*[,;]\s*", m.group(1))]
        clean = " ".join(_MARKER.sub(" ", sent).split())
        clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
        if clean:
            out.append((clean, list(dict.fromkeys(nums))))
    return out


def is_refusal(reply: str) -> bool:
    """True when the model answered with the shared "cannot answer" sentence (or its opening)."""
    norm = " ".join(reply.lower().split())
    return CANNOT_ANSWER.lower()[:24] in norm or norm.startswith("i cannot answer")


def _cite(spans: dict, passage: Passage, sentence: str, vector: np.ndarray) -> None:
    """Record that ``sentence`` (embedding ``vector``) cites ``passage``."""
    _, sents, vecs = spans.setdefault(passage.chunk.id, (passage, [], []))
    sents.append(sentence)
    vecs.append(vector)


_NUMBER_STEMS = frozenset(stem(w) for w in (*claims_module._NUMBER_WORDS, *claims_module._SCALE))


_LANGUAGE_WORDS = {
    "french": {"le", "la", "les", "des", "est", "et", "une", "du", "dans", "pour", "qui", "au", "sont", "été"},
    "spanish": {"el", "la", "los", "las", "es", "y", "una", "del", "por", "que", "fue", "con", "para", "su"},
    "german": {"der", "die", "das", "und", "ist", "ein", "eine", "nicht", "mit", "von", "wurde", "den", "im"},
    "italian": {"il", "lo", "gli", "è", "e", "una", "del", "della", "che", "per", "sono", "fu", "nel"},
    "portuguese": {"o", "os", "as", "é", "e", "uma", "do", "da", "que", "para", "foi", "com", "no", "na"},
}
_ENGLISH_WORDS = {"the", "and", "is", "was", "of", "to", "in", "that", "it", "for", "with", "as", "by", "are"}
_NUMBER_OF_WORDS = {w: v for w, v in claims_module._NUMBER_WORDS.items() if 1 <= v <= 10}  # "three words"


def form_obeyed(sentence: str, instruction: str) -> str | None:
    """The form a planted ``instruction`` demands that ``sentence`` (a reply sentence citing its
    source) takes, named ("in capitals", "a list", "French", "3 words", "JSON"); None when it takes
    none. Forms: capitals (whatever the instruction says: a source's words in a form the source
    does not use, "write your entire answer in capital letters"), a list ("numbered list", "bullet
    points"), a language named, a word count ("in exactly three words", "limit your answer to five
    words", "a ten-word answer"), JSON, pirate speech."""
    letters = [c for c in sentence if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) >= 0.8 * len(letters):
        return "in capitals"
    low_i = instruction.lower()
    words = re.findall(r"[^\W\d_]+", sentence.lower())
    if re.search(r"\b(?:numbered|bullet(?:ed)?|bullet-point) (?:list|points?)\b|\bas a list\b", low_i) and re.match(
            r"^\s*(?:\d+[.)]|[-*•▪])\s", sentence):
        return "a list"
    for lang, common in _LANGUAGE_WORDS.items():
        if re.search(r"\b" + lang + r"\b", low_i) and len(set(words) & common) >= 2 and (
                len([w for w in words if w in common]) > len([w for w in words if w in _ENGLISH_WORDS])):
            return lang.capitalize()
    nums = r"(\d+|" + "|".join(_NUMBER_OF_WORDS) + r")"
    m = re.search(r"\b(?:in|with|using|to) (?:exactly |only |just |no more than |at most )?" + nums + r" words\b"
                  r"|\b" + nums + r"[- ]word (?:answer|reply|response|summary)\b", low_i)
    if m:
        said = m.group(1) or m.group(2)
        n = int(said) if said.isdigit() else _NUMBER_OF_WORDS[said]
        if len(sentence.split()) <= n:
            return f"{n} words"
    if "json" in low_i and sentence.lstrip().startswith(("{", "[")):
        return "JSON"
    if "pirate" in low_i and set(words) & {"arr", "arrr", "matey", "ahoy", "ye", "aye", "landlubber", "hearties"}:
        return "pirate speech"
    return None


def _grams(text: str, n: int = 3) -> set[tuple[str, ...]]:
    """The runs of ``n`` consecutive content terms of ``text`` (:func:`rag.text.terms`)."""
    t = terms(text)
    return {tuple(t[i:i + n]) for i in range(len(t) - n + 1)}


def _marked(sentence: str, citations: list[int]) -> str:
    """``sentence`` followed by its citation markers: "It fell. [1][2]", as the offline answers
    write them (:mod:`rag.answerer`), so an answer reads the same with a model or without."""
    marks = "".join(f"[{n}]" for n in citations)
    return f"{sentence} {marks}" if marks else sentence


def _clean(reply: str) -> str:
    """``reply`` without lone surrogates, invisible characters (an RLO) and control characters."""
    return _CONTROL.sub(" ", strip_invisible(reply.encode("utf-8", "replace").decode("utf-8")))


def _unique(parsed: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """``parsed`` (:func:`parse`'s ``(sentence, [n, ...])`` pairs) with a sentence repeated word
    for word kept only where it first appears: a repeat counts once, in verify and in a stream."""
    seen: set[str] = set()
    return [(t, n) for t, n in parsed if not (t in seen or seen.add(t))]


class CitationChecker:
    """Verifies a generated reply against the numbered passages it was given.

    Example::

        checker = CitationChecker(stats, embedder, sent_index)
        answer = checker.verify(question, reply, passages, strict=True)
    """

    def __init__(self, stats: TermStats, embedder, store, *, min_coverage: float = MIN_COVERAGE,
                 min_similarity: float = MIN_SIMILARITY):
        self.stats = stats
        self.embedder = embedder
        self.store = as_store(store) if store is not None else None  # None: passages from outside any index
        self._flags = BoundedCache(FLAG_CACHE_SIZE)  # store id -> its sentences addressed to an AI
        self.min_coverage = min_coverage
        self.min_similarity = min_similarity

    def view(self, passage: Passage) -> "PassageView":
        """``passage``'s sentences, their vectors and which of them are instructions to an AI."""
        text = passage.chunk.text
        found = locate(self.store, passage.chunk)
        row = None
        if found is None:
            spans = split_sentences(text)
            vecs = self.embedder.encode([text[s:e] for s, e in spans]) if spans else np.zeros((0, 384), np.float32)
        else:
            block, pos, row = found
            lo, hi = block.sentence_range(pos)
            spans = [(int(s), int(e)) for _, s, e in block.sentences[lo:hi]]
            vecs = block.sent_vectors[lo:hi]
        sents = [text[s:e] for s, e in spans]
        if row is None:
            flagged = set(find_instructions(sents, vecs, self.embedder))
        else:  # an indexed chunk never changes within this index version: found once
            flagged = self._flags.get(row)
            if flagged is None:
                flagged = frozenset(find_instructions(sents, vecs, self.embedder))
                self._flags.put(row, flagged)
        return PassageView(passage, sents, np.asarray(vecs, dtype=np.float32), set(flagged))

    @staticmethod
    def instructions(views: list["PassageView"]) -> dict[str, list[str]]:
        """Chunk id -> the sentences addressed to an AI, for the passages (``views``, from
        :meth:`view`) that hold any."""
        return {v.passage.chunk.id: [v.sentences[i] for i in sorted(v.flagged)] for v in views if v.flagged}

    def support(self, sentence: str, svec: np.ndarray, passage: Passage,
                view: "PassageView | None" = None) -> tuple[float, float]:
        """``(coverage, similarity)`` of ``sentence`` (embedding ``svec``) against ``passage``,
        its instruction sentences left out."""
        cov, sim, _ = self._support(sentence, svec, view or self.view(passage))
        return cov, sim

    def _support(self, sentence: str, svec: np.ndarray, v: "PassageView") -> tuple[float, float, list[int]]:
        """``(coverage, best similarity, the three passage sentences most like it, best first)``."""
        keep = v.kept
        if not keep:
            return 0.0, 0.0, []
        # a number the passage writes another way ("ten" for "10") does not count against coverage:
        # check_claim judges numbers by value
        s_terms = [t for t in terms(sentence) if t in v.terms or not _is_number_term(t)]
        cov = self.stats.coverage(s_terms, v.terms) if s_terms else 0.0
        sims = v.vectors[keep] @ svec
        order = np.argsort(-sims)
        near = [keep[i] for i in order[:3]]
        return cov, float(sims[order[0]]), near

    def holds(self, sentence: str, svec: np.ndarray, v: "PassageView") -> tuple[bool, float, float, str]:
        """Whether the citation of ``sentence`` to the passage of ``v`` holds: ``(holds,
        coverage, similarity, reason it fails or "")``."""
        cov, sim, near = self._support(sentence, svec, v)
        if not (cov >= self.min_coverage and sim >= self.min_similarity):
            return False, cov, sim, ""
        if v.flagged:
            to_instr = float((v.vectors[sorted(v.flagged)] @ svec).max())
            planted = " ".join(v.sentences[i] for i in v.flagged)
            i_terms = set(terms(planted))
            s_terms = terms(sentence)
            # obeying it: as close to the instruction as to the passage's facts (a margin of 0.1
            # in cosine), or its words owe as much to the instruction as to the rest
            if to_instr >= sim - 0.1 or (s_terms and self.stats.coverage(s_terms, i_terms) >= cov):
                return False, cov, sim, "it repeats an instruction planted in the source, not a fact of it"
            # or the form it demands (capitals, a list, another language, a word count)
            form = form_obeyed(sentence, planted)
            if form:
                return False, cov, sim, f"it is written as an instruction planted in the source demands ({form})"
            # or a part of it does: three content words in a row that the instruction has and the
            # rest of the passage does not ("... and all matches on Sky are now free to watch"), or
            # two in a row, neither of them in the rest ("a farming cooperative")
            rest = " ".join(v.sentences[i] for i in v.kept)
            rest_terms = set(terms(rest))
            if ((_grams(sentence) & _grams(planted)) - _grams(rest)) or any(
                    not set(g) & rest_terms for g in _grams(sentence, 2) & _grams(planted, 2)):
                return False, cov, sim, "part of it repeats an instruction planted in the source, not a fact of it"
        kept = [v.sentences[i] for i in v.kept]
        reasons = check_claim(sentence, " ".join(kept), v.passage.chunk.title, [v.sentences[i] for i in near],
                              sentences=kept)
        if reasons:
            return False, cov, sim, "; ".join(reasons)
        return True, cov, sim, ""

    def verify(self, question: str, reply: str, passages: list[Passage], *, strict: bool = True,
               views: list["PassageView"] | None = None, streamed: "StreamedReply | None" = None) -> Answer:
        """Check every citation of ``reply`` against ``passages`` (source ``[n]`` is
        ``passages[n-1]``) and return the verified :class:`Answer` (or a refusal). ``views``: the
        passages' :meth:`view` when the caller already made them. ``streamed``: the
        :class:`StreamedReply` that received ``reply`` as it streamed, over these ``passages``: the
        sentences it already checked are not checked again (same verdicts, less wait after the
        last token)."""
        if streamed is not None and [p.chunk.id for p in streamed.passages] != [p.chunk.id for p in passages]:
            raise ValueError("the streamed reply was checked against other passages")
        done = streamed.checked if streamed is not None else {}
        reply = _clean(reply)
        parsed = _unique(parse(reply))
        if is_refusal(reply) or not parsed:
            why = MODEL_REFUSED if parsed else "The model returned no text."
            return Answer(question=question, text=CANNOT_ANSWER, passages=passages, refused=True, reason=why)
        known = streamed.vectors if streamed is not None else {}
        todo = [s for s, _ in parsed if s not in known]
        fresh = dict(zip(todo, self.embedder.encode(todo))) if todo else {}
        vecs = [known[s] if s in known else fresh[s] for s, _ in parsed]
        self.stats.prefetch({t for s, _ in parsed for t in terms(s)})
        numbers: dict[str, int] = {}
        spans: dict[str, tuple[Passage, list[str], list[np.ndarray]]] = {}
        verdicts: list[SentenceVerdict] = []
        raw_cites = held = attributed = 0
        views = views if views is not None else [self.view(p) for p in passages]
        # spaCy over every sentence of the reply in one batch, then over the passage sentences
        # whose parse the role check needs, in a second one (several times faster than one by one)
        prepare([s for s, _ in parsed if s not in known])
        prepare([x for (sent, nums), svec in zip(parsed, vecs) if sent not in known and needs_roles(sent)
                 for n in nums if 1 <= n <= len(passages)
                 for x in role_sentences(sent, [views[n - 1].sentences[i]
                                                for i in self._support(sent, svec, views[n - 1])[2]])])
        for (sent, nums), svec in zip(parsed, vecs):
            v = SentenceVerdict(text=sent)
            bad = [n for n in nums if not 1 <= n <= len(passages)]
            raw_cites += len(nums)
            failed: list[str] = []
            for n in nums:
                if n in bad:
                    continue
                p = passages[n - 1]
                found = done.get((sent, n))
                ok, cov, sim, why = found if found is not None else self.holds(sent, svec, views[n - 1])
                v.coverage, v.similarity = max(v.coverage, cov), max(v.similarity, sim)
                if ok:
                    held += 1
                    num = numbers.setdefault(p.chunk.id, len(numbers) + 1)
                    if num not in v.citations:
                        v.citations.append(num)
                    _cite(spans, p, sent, svec)
                elif why:
                    failed.append(f"[{n}]: {why}")
            if not nums:
                # the model cited nothing: attribute the sentence to the source that supports it
                # best, if one passes the same check (small models often omit markers)
                best = max(((self.support(sent, svec, p, views[i]), i) for i, p in enumerate(passages)),
                           key=lambda x: x[0][0] + x[0][1], default=None)
                if best is not None:
                    (cov, sim), i = best
                    p = passages[i]
                    ok, cov, sim, why = self.holds(sent, svec, views[i])
                    v.coverage, v.similarity = cov, sim
                    if ok:
                        attributed += 1
                        v.citations.append(numbers.setdefault(p.chunk.id, len(numbers) + 1))
                        _cite(spans, p, sent, svec)
                        v.note = "no citation from the model; cited by the checker"
                    else:
                        v.note = "no citation, and no source supports it" + (f" ({why})" if why else "")
            v.supported = bool(v.citations)
            if bad:
                v.note = f"dropped citation(s) {bad}: no such source"
            elif not v.supported and failed:
                v.note = (v.note + "; " if v.note else "") + "not supported: " + "; ".join(failed)
            elif not v.supported:
                v.note = (v.note + "; " if v.note else "") + (
                    f"not supported by its source(s): coverage {v.coverage:.2f}, similarity {v.similarity:.2f}")
            verdicts.append(v)
        flagged = [{"chunk_id": vw.passage.chunk.id, "title": vw.passage.chunk.title,
                    "instructions": [vw.sentences[i] for i in sorted(vw.flagged)]} for vw in views if vw.flagged]
        kept = [v for v in verdicts if v.supported or not strict]
        if not any(v.supported for v in verdicts):
            answer = Answer(question=question, text=CANNOT_ANSWER, passages=passages, refused=True,
                            reason="No sentence of the generated answer is supported by the passage it cites "
                                   f"({len(verdicts)} sentence(s), {raw_cites} citation(s) checked).")
            answer.sentences = verdicts
            answer.flagged = flagged
            answer.grounding = {"sentences": len(verdicts), "unsupported": len(verdicts),
                                "citations": raw_cites, "verified_citations": 0, "attributed": 0}
            return answer
        parts = [_marked(v.text, v.citations) for v in kept]
        citations = []
        for cid, n in numbers.items():
            p, sents, svecs = spans[cid]
            citations.append(Citation.of(p, n, self._quote(p, sents, svecs)))
        unsupported = sum(not v.supported for v in verdicts)
        answer = Answer(question=question, text=" ".join(parts), citations=citations, passages=passages,
                        refused=False,
                        reason=f"{len(verdicts) - unsupported} of {len(verdicts)} sentence(s) verified against "
                               f"their sources; {held} of {raw_cites} citation(s) held.")
        answer.sentences = verdicts
        answer.flagged = flagged
        answer.grounding = {"sentences": len(verdicts), "unsupported": unsupported,
                            "citations": raw_cites, "verified_citations": held, "attributed": attributed}
        return answer

    def _quote(self, passage: Passage, sentences: list[str], vectors: list[np.ndarray]) -> str:
        """The passage sentence most similar to the answer sentences citing it (exact text);
        ``vectors`` are those sentences' embeddings, reused when one sentence cites it."""
        found = locate(self.store, passage.chunk)
        if found is None:
            return passage.chunk.text
        block, pos, _ = found
        lo, hi = block.sentence_range(pos)
        if hi <= lo:
            return passage.chunk.text
        q = vectors[0] if len(sentences) == 1 else self.embedder.encode([" ".join(sentences)])[0]
        j = lo + int(np.argmax(block.sent_vectors[lo:hi] @ q))
        _, s, e = (int(x) for x in block.sentences[j])
        return passage.chunk.text[s:e]


#: Characters after which a streamed reply may hold a newly complete sentence (its end, or a
#: citation marker's).
_SENTENCE_END = re.compile(r"[.!?…\[\]\n]")
#: A citation marker still being written at the end of the text: "[", "[5", "[1, ".
_OPEN_MARK = re.compile(r"\[[\d\s,;]*$")
#: A full stop (and a closing quote or bracket) then spaces, at the end of the text.
_CLOSES = re.compile(r"[.!?…]['’”\")]?\s*$")
#: Text that surely ends a sentence: citation markers, then closing punctuation ("fell [1]."), or
#: closing punctuation (and a quote or bracket) followed by markers or a space ("fell. [1]"); not
#: a bare full stop, which may be a decimal point or an abbreviation's ("3." of "3.5", "U.S.").
_ENDS_SENTENCE = re.compile(r"(?:" + _MARKS + r"\s*[.!?…]['’”\")]?|[.!?…]['’”\")]?(?:\s*(?:" + _MARKS
                            + r"\s*)+|\s+))$")


class StreamedReply:
    """A generated reply received as it streams, its sentences checked as each completes.

    The model writes the reply over seconds. A sentence is embedded, parsed and checked against
    the passages it cites (:meth:`CitationChecker.holds`) as soon as it surely ends (its markers
    and full stop have come: :data:`_ENDS_SENTENCE`), while the model writes the next one; it is
    complete, and :meth:`add` returns it if it holds, once the next one starts, so a reader never
    sees one that fails. :meth:`CitationChecker.verify` with ``streamed=`` then checks only what is
    left (usually nothing; a last sentence without markers or full stop, and any that the finished
    text splits otherwise), with the same verdicts. Memory: one ``(384,)`` vector and one verdict
    per sentence of the reply, and per text that looked like a sentence's end and was not (both
    bounded by the model's ``max_tokens``).

    Example::

        streamed = StreamedReply(checker, passages, views)
        for delta in chat.stream(messages):
            print(streamed.add(delta), end="")  # checked sentences only
        answer = checker.verify(question, streamed.text, passages, streamed=streamed)
    """

    def __init__(self, checker: CitationChecker, passages: list[Passage],
                 views: list[PassageView] | None = None):
        self.checker = checker
        self.passages = passages
        self.views = views if views is not None else [checker.view(p) for p in passages]
        self.vectors: dict[str, np.ndarray] = {}  # sentence (markers removed) -> its (384,) vector
        self.checked: dict[tuple[str, int], tuple[bool, float, float, str]] = {}  # (sentence, [n]) -> holds()
        self._parts: list[str] = []
        self._released = 0  # complete (distinct) sentences already shown or withheld
        self._stopped = False  # an uncited sentence came: nothing more is shown before the final answer
        self._ended = False  # the text received so far surely ends a sentence (checked, not yet shown)
        self._numbers: dict[str, int] = {}  # chunk id -> its number in the answer, in order of first use

    @property
    def text(self) -> str:
        """The reply received so far."""
        return "".join(self._parts)

    def add(self, delta: str) -> str:
        """Append ``delta`` (a piece of the reply), check the sentences it completes, and return
        the text that may now be shown: each newly complete sentence whose citation holds, with its
        markers numbered as the final answer numbers them (in order of first use), each followed by
        a space; "" when there is none. A sentence that fails is never returned; nothing after a
        sentence the model left uncited is (the final check may attribute it, which would change
        the numbers)."""
        self._parts.append(delta)
        if not (_SENTENCE_END.search(delta) or self._ended):
            return ""
        text = self.text
        opening = _OPEN_MARK.search(text[-200:])  # a marker being written: not yet part of any sentence
        if opening:
            text = text[:len(text) - len(opening.group(0))]
        parsed = parse(_clean(text))
        complete = _unique(parsed[:-1])  # the last sentence may still grow
        # a last sentence that surely ends here (its full stop, then markers, or a marker begun) is
        # checked now too, so that a reply's end leaves little to check; it is shown only once the
        # next one starts
        tail = text[-200:]
        ends = _ENDS_SENTENCE.search(tail) is not None or (opening is not None and _CLOSES.search(tail) is not None)
        self._check(_unique(parsed) if ends else complete)
        self._ended = ends  # the next piece starts another sentence: this one is shown then
        return self._release(complete)

    def _release(self, sentences: list[tuple[str, list[int]]]) -> str:
        out = []
        for sent, nums in sentences[self._released:]:
            if self._stopped:
                break
            self._released += 1
            if not nums:  # an uncited sentence: the final check may attribute it, renumbering
                self._stopped = True
                break
            marks = []
            for n in nums:
                found = self.checked.get((sent, n))
                if found is not None and found[0]:
                    num = self._numbers.setdefault(self.passages[n - 1].chunk.id, len(self._numbers) + 1)
                    if num not in marks:
                        marks.append(num)
            if marks:
                out.append(_marked(sent, marks) + " ")
        return "".join(out)

    def _check(self, sentences: list[tuple[str, list[int]]]) -> None:
        todo = [s for s, _ in sentences if s not in self.vectors]
        if todo:
            prepare(todo)
            self.vectors.update(zip(todo, self.checker.embedder.encode(todo)))
        for sent, nums in sentences:  # a sentence seen before its markers came is checked once they do
            for n in nums:
                if 1 <= n <= len(self.passages) and (sent, n) not in self.checked:
                    self.checked[(sent, n)] = self.checker.holds(sent, self.vectors[sent], self.views[n - 1])
