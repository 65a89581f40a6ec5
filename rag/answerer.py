"""The offline answerer: extractive, grounded by construction, answer first, with a learned
answerability decision.

Every sentence of the answer is a sentence of a retrieved passage, copied verbatim and followed by
the citation marker of that passage. How the answer is built:

1. **Candidates.** Every sentence of the retrieved passages, except headings, sentences without
   letters, fragments and date stubs (no verb, per spaCy at ingest; table rows excepted) and
   repeats (the same normalised text from a better-ranked passage). A sentence ending in "?" stays
   a candidate: it is judged by its content.
2. **Scoring.** Each candidate gets the features of :mod:`rag.answer_model` (question similarity,
   IDF-weighted coverage, the passage's rank and score, position, neighbours, and whether it holds
   an entity of the answer type the question expects, :mod:`rag.qtypes`) and a logit from weights
   fitted on SQuAD articles 00-23.
3. **Answerability.** A second fitted model turns the best candidate's evidence into the
   probability that the articles answer the question; under ``refuse_below`` the answer is the
   refusal :data:`rag.prompts.CANNOT_ANSWER` with a reason saying which test failed ("no retrieved
   sentence gives a date", or weak evidence with its scores).
4. **Answer first, and short.** The answer leads with the best sentence. When that sentence opens
   by referring back ("He was…", "That region…"), the sentence before it in the same passage comes
   first, under the same citation. A sentence is added only when it brings another needed fact: the
   other article of a question that names two (a comparison), the article a question names when
   the lead comes from another (a bridge), the second answer type of a
   two-part question ("when and where"), or, when the lead holds no answer of the type asked
   for, the best sentence that does (for "why", that sentence stating a cause leads). No filler.
5. **Short answer.** When the question expects a type, the entity of that type in the lead sentence
   nearest the question's words is :attr:`rag.types.Answer.short_answer`, with its offsets in the
   cited passage and in the answer text.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .answer_model import A_BIAS, A_WEIGHTS, ADD_MARGIN, REFUSE_BELOW, WEIGHTS
from .chunker import is_title_like
from .entities import HAS_VERB, LABEL_ID, LABELS
from .prompts import CANNOT_ANSWER
from .qtypes import (CAUSE, CURRENCY_AFTER, CURRENCY_IN, DATE, DURATION_WORDS, MONEY, REASON, YEAR, AnswerType,
                     comparison_sides, expected_type, expected_types)
from .sentences import is_question
from .store import as_store
from .text import fold, stem, terms
from .types import Answer, Citation, Passage, ShortAnswer

#: A Markdown heading line ("## Section"): never quoted as an answer sentence.
_MD_HEADING = re.compile(r"#{1,6}\s")
_LETTER = re.compile(r"[^\W\d_]")
#: A sentence that opens by referring to an earlier one: it needs the sentence before it.
_ANAPHOR = re.compile(r"^[\"'‘“(]?(?:he|she|it|they|his|her|its|their|them|this|that|these|those|such|"
                      r"there|then|thus|however|also|but|both|the latter|the former|the same|the two|"
                      r"the region|the city|the country|the company|the group|the move|the decision|"
                      r"the report|the plan|the agency)\b", re.I)
#: A question asking yes or no ("Was the harbour built in 1880?") asserts nothing.
_YES_NO = re.compile(r"^\W{0,2}(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|"
                     r"may|might|must)\b", re.I)
_WORDS = re.compile(r"[^\W_]+(?:[’'.,-][^\W_]+)*")
_NORM = re.compile(r"[\W_]+")
_PAREN = re.compile(r"\s*\([^)]*\)")
#: A capitalised word inside a question (not its first word, nor one after a sentence end) or a number.
_PROPER = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][\w'’-]*|\d[\d,.]*)")
_WHY = re.compile(r"\bwhy\b", re.I)


def _is_heading_line(text: str, s: int, e: int) -> bool:
    """``text[s:e]`` is a whole line of its own that reads as a heading (title-like: short, no
    sentence end; see :func:`rag.chunker.is_title_like`), such as a section name in an article."""
    whole = (s == 0 or text[s - 1] == "\n") and (e == len(text) or text[e] == "\n")
    return whole and " | " not in text[s:e] and is_title_like(text[s:e])


@lru_cache(maxsize=65536)
def normalized(text: str) -> str:
    """Text compared for repeats: folded, punctuation and spacing removed (cached: the same
    sentences come back question after question)."""
    return _NORM.sub(" ", fold(text)).strip()


@lru_cache(maxsize=262144)
def _terms(text: str) -> tuple[str, ...]:
    return tuple(terms(text))


@dataclass
class Candidate:
    """A candidate answer sentence: its passage, sentence row ``sent`` of the index, span
    ``[start, end)`` in the chunk text, the sentence rows ``[lo, hi)`` of its passage, its features
    (``(len(FEATURES),)`` float64, :mod:`rag.answer_model`) and logit, and the entities of the
    expected answer type it holds that neither the question nor the article's title names (``typed``: ``(start, end,
    label id)`` in the chunk text)."""

    passage: Passage
    sent: int
    lo: int
    hi: int
    start: int
    end: int
    feats: np.ndarray
    typed: list
    logit: float = 0.0
    #: the sentence before may be quoted as this one's context (a usable sentence, not a heading,
    #: stub or text addressed to an AI)
    prev_ok: bool = False
    #: the :class:`rag.store.Block` whose sentence rows ``sent``, ``lo`` and ``hi`` index
    block: object = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.passage.chunk.text[self.start:self.end]

    @property
    def cos(self) -> float:
        return float(self.feats[0])

    @property
    def coverage(self) -> float:
        return float(self.feats[2])


class ExtractiveAnswerer:
    """Builds an :class:`~rag.types.Answer` from retrieved passages without a language model.

    Example::

        answerer = ExtractiveAnswerer(store)
        answer = answerer.run(question, qvec, passages)   # Answer with [n] markers, or a refusal

    ``refuse_below`` is the answerability probability (0..1) under which it refuses
    (default :data:`rag.answer_model.REFUSE_BELOW`). Thread-safe: no per-question state.
    """

    def __init__(self, store, *, refuse_below: float = REFUSE_BELOW, min_words: int = 4,
                 weights: np.ndarray | None = None, a_weights: np.ndarray | None = None,
                 a_bias: float | None = None, add_margin: float = ADD_MARGIN):
        self.store = as_store(store)
        self.add_margin = add_margin
        self.refuse_below = refuse_below
        self.min_words = min_words
        self.weights = WEIGHTS if weights is None else np.asarray(weights, dtype=np.float64)
        self.a_weights = A_WEIGHTS if a_weights is None else np.asarray(a_weights, dtype=np.float64)
        self.a_bias = A_BIAS if a_bias is None else float(a_bias)
        self.stats = self.store.term_stats()

    # -- candidates and their features ---------------------------------------------------------
    def _usable(self, chunk_text: str, j: int, s: int, e: int, flags=None) -> bool:
        text = chunk_text[s:e]
        if not _LETTER.search(text) or _MD_HEADING.match(text) or _is_heading_line(chunk_text, s, e):
            return False  # a heading names a topic, a bare number ("2.") says nothing
        if len(text.split()) < self.min_words and not any(ch.isdigit() for ch in text):
            return False
        table_row = " | " in text
        if not table_row and flags is not None and len(flags) and not flags[j] & HAS_VERB:
            return False  # a fragment or a date stub ("Nov 21, 2022 ..."), not a sentence
        return True

    def candidates(self, question: str, qvec: np.ndarray, passages: list[Passage],
                   skip: dict[str, list[str]] | None = None) -> list[Candidate]:
        """Scored candidate sentences of ``passages`` (best passage first), in passage order;
        each with its features and logit. A sentence whose normalised text was already seen in
        a better-ranked passage is left out, and so are ``skip[chunk id]`` (sentences addressed
        to an AI, :mod:`rag.instructions`)."""
        qt = expected_type(question)
        q_terms = list(_terms(question))
        self.stats.prefetch(q_terms)
        q_pairs = set(zip(q_terms, q_terms[1:]))
        q_fold = fold(question)
        ids = self.store.ids_of([p.chunk for p in passages])
        held = [i for i in ids if i is not None]
        stored = self.store.fetch(held) if held else None   # the Block holding the passages
        flags = stored.sent_flags if stored is not None else None
        seen: set[str] = set()
        out: list[Candidate] = []
        for p, cid in zip(passages, ids):
            if cid is None:
                continue  # a passage from outside the index has no sentence data
            row = int(stored.position([cid])[0])
            lo, hi = stored.sentence_range(row)
            if hi <= lo:
                continue
            text = p.chunk.text
            cos = stored.sent_vectors[lo:hi] @ qvec
            spans = stored.sentences[lo:hi]
            sent_terms = [set(_terms(text[s:e])) for _, s, e in spans.tolist()]
            typed: dict[int, list] = {}
            if qt is REASON:  # a stated cause, no entity: its cue phrase stands for the span
                for i, (_, s, e) in enumerate(spans.tolist()):
                    m = CAUSE.search(text, s, e)
                    if m:
                        typed[lo + i] = [(m.start(), m.end(), -1)]
            elif qt is not None:
                # an entity the question names, or the article's title (its topic), is not the answer
                named = q_fold + "\n" + fold(p.chunk.title)
                for j, a, b, lab in stored.sentence_entities(lo, hi).tolist():
                    if qt is MONEY and lab != LABEL_ID["MONEY"] and not (
                            CURRENCY_AFTER.match(text, b) or text[max(0, a - 1):a] in ("$", "€", "£", "¥")
                            or CURRENCY_IN.search(text, a, b)):
                        continue  # a bare number is no amount of money
                    if qt is DATE and DURATION_WORDS.search(text, a, b) and not YEAR.search(text, a, b):
                        continue  # "two-year", "three months": a length of time, not a date
                    if lab in qt.labels and fold(text[a:b]) not in named:
                        typed.setdefault(j, []).append((a, b, lab))
            n = hi - lo
            p_dense = p.dense if p.dense is not None else p.score
            for i, (_, s, e) in enumerate(spans.tolist()):
                j = lo + i
                if not self._usable(text, j, s, e, flags):
                    continue
                key = normalized(text[s:e])
                if skip and text[s:e] in skip.get(p.chunk.id, ()):
                    continue
                if key in seen or (is_question(text[s:e]) and (not typed.get(j) or _YES_NO.match(text[s:e]))):
                    continue  # a repeat; a question that holds no answer of the type asked, or asks yes or no
                prev_ok = i > 0 and self._usable(text, j - 1, *spans[i - 1, 1:].tolist(), flags) and not (
                    skip and text[spans[i - 1, 1]:spans[i - 1, 2]] in skip.get(p.chunk.id, ()))
                seen.add(key)
                words = text[s:e].split()
                tt = sent_terms[i]
                ctx = tt | (sent_terms[i - 1] if i > 0 else set()) | (sent_terms[i + 1] if i + 1 < n else set())
                nb = [float(cos[k]) for k in (i - 1, i + 1) if 0 <= k < n]
                cov = self.stats.coverage(q_terms, tt)
                seq = _terms(text[s:e])
                bigram = (len(q_pairs & set(zip(seq, seq[1:]))) / len(q_pairs)) if q_pairs else 0.0
                type_ok = 1.0 if typed.get(j) else 0.0
                feats = np.array([
                    float(cos[i]), 0.0, cov, 0.0, self.stats.coverage(q_terms, ctx), bigram,
                    float(p.score), 1.0 / p.rank, float(p_dense), 1.0 if i == 0 else 0.0,
                    i / (n - 1) if n > 1 else 0.0, max(nb) if nb else 0.0, type_ok,
                    1.0 if qt is not None and not type_ok else 0.0, 1.0 if is_question(text[s:e]) else 0.0,
                    0.0 if (flags is None or not len(flags) or flags[j] & HAS_VERB) else 1.0,
                    math.log1p(len(words)), cov * type_ok], dtype=np.float64)
                out.append(Candidate(p, j, lo, hi, s, e, feats, typed.get(j, []), prev_ok=bool(prev_ok),
                                     block=stored))
        if out:
            X = np.stack([c.feats for c in out])
            X[:, 1] = X[:, 0] - X[:, 0].max()
            X[:, 3] = X[:, 2] - X[:, 2].max()
            logits = X @ self.weights
            for c, x, z in zip(out, X, logits):
                c.feats, c.logit = x, float(z)
        return out

    def answerability(self, question: str, cands: list[Candidate], passages: list[Passage]) -> tuple[float, np.ndarray]:
        """``(probability that the articles answer, the answerability features)`` for the
        question's scored candidates (:data:`rag.answer_model.A_FEATURES`)."""
        f = self.answerability_features(question, cands, passages)
        z = float(f @ self.a_weights + self.a_bias)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))), f

    def answerability_features(self, question: str, cands: list[Candidate], passages: list[Passage]) -> np.ndarray:
        """The :data:`rag.answer_model.A_FEATURES` of a question's scored candidates."""
        lead = max(cands, key=lambda c: c.logit)
        typed = expected_type(question) is not None
        top = passages[0]
        q = set(_terms(question))
        idf = {t: self.stats.idf(t) for t in q}
        top_idf = max(idf.values(), default=1.0) or 1.0
        top_terms = set(_terms(top.chunk.text)) | set(_terms(top.chunk.title))
        in_passages = top_terms.union(*(set(_terms(p.chunk.text)) | set(_terms(p.chunk.title)) for p in passages[1:]))
        ctx = set(_terms(lead.passage.chunk.text[_context(lead):lead.end]))
        ctx |= set(_terms(lead.passage.chunk.title))
        miss = max((idf[t] for t in q if t not in in_passages), default=0.0) / top_idf
        miss_lead = max((idf[t] for t in q if t not in ctx), default=0.0) / top_idf
        typed_cov = max((c.coverage for c in cands if c.typed), default=0.0)
        sq = sum(v * v for v in idf.values())
        rare_lead = sum(idf[t] ** 2 for t in q if t in ctx) / sq if sq else 0.0
        share_miss = sum(t not in ctx for t in q) / len(q) if q else 0.0
        margin = top.score - passages[1].score if len(passages) > 1 else top.score
        # names and numbers of the question (capitalised words inside it, digits) found in some passage
        proper = {t for m in _PROPER.finditer(question) for t in _terms(m.group(1))}
        proper_found = sum(t in in_passages for t in proper) / len(proper) if proper else 1.0
        prefixes = {t[:5] for t in ctx}
        prefix_miss = sum(t[:5] not in prefixes for t in q) / len(q) if q else 0.0
        coss = np.array([c.cos for c in cands])
        second = np.partition(coss, -2)[-2] if len(coss) > 1 else coss[0]
        cos_z = (lead.cos - coss.mean()) / (coss.std() + 1e-6)
        return np.array([lead.logit, lead.cos, lead.coverage, max(c.coverage for c in cands),
                         top.dense if top.dense is not None else top.score, top.score, float(typed),
                         float(typed and bool(lead.typed)), float(typed and any(c.typed for c in cands)),
                         miss, miss_lead, typed_cov, max(float(c.feats[5]) for c in cands),
                         lead.coverage * float(typed and bool(lead.typed)), rare_lead, share_miss,
                         margin, _entity_nearness(lead, q), proper_found, prefix_miss,
                         1.0 if _WHY.search(question) else 0.0, float(coss.max() - second), float(cos_z),
                         self._max_specific(q, idf, cands), float(sum(t not in top_terms for t in q))],
                        dtype=np.float64)

    @staticmethod
    def _max_specific(q: set[str], idf: dict[str, float], cands: list[Candidate]) -> float:
        """Best IDF-weighted share, over the candidates, of the question's terms that are not in the
        candidate's article title found in the candidate sentence (the specific words, not the topic)."""
        best = 0.0
        specific: dict[str, tuple[list[str], float]] = {}  # article title -> (its specific terms, their IDF)
        for c in cands:
            title = c.passage.chunk.title
            if title not in specific:
                words = set(_terms(title))
                own = [t for t in q if t not in words]
                specific[title] = (own, sum(idf[t] for t in own))
            own, total = specific[title]
            if total:
                words = set(_terms(c.text))
                best = max(best, sum(idf[t] for t in own if t in words) / total)
        return best

    # -- the answer ------------------------------------------------------------------------------
    def run(self, question: str, qvec: np.ndarray, passages: list[Passage],
            skip: dict[str, list[str]] | None = None) -> Answer:
        """Answer ``question`` from ``passages`` (best first), never quoting ``skip[chunk id]``.
        Never raises for weak evidence: returns a refusal with its reason instead."""
        cands = self.candidates(question, qvec, passages, skip)
        qt = expected_type(question)
        if not cands:
            return self._refusal(question, passages, "No retrieved passage holds a usable sentence.")
        prob, f = self.answerability(question, cands, passages)
        lead = max(cands, key=lambda c: (c.logit, -c.passage.rank, -c.start))
        named = self.named_articles(question, cands)
        comparison = len(named) >= 2
        # the type gate: no retrieved sentence holds what was asked for. (Requiring also that it
        # match the question, within ADD_MARGIN of the lead, tripled false refusals on SQuAD.)
        if qt is not None and qt.labels and not f[8] and not comparison:
            return self._refusal(question, passages, (
                f"No retrieved sentence {qt.noun}, which the question asks for (answerability {prob:.3f}; "
                f"refusal threshold {self.refuse_below:.3f})."))
        if prob < self.refuse_below and not comparison:
            if qt is not None and not f[8]:
                why = (f"No retrieved sentence {qt.noun} that fits the question (answerability {prob:.3f} "
                       f"is below the threshold {self.refuse_below:.3f}).")
            else:
                why = (f"The evidence is weak: answerability {prob:.3f} is below the threshold "
                       f"{self.refuse_below:.3f} (best sentence similarity {lead.cos:.3f}, question-term "
                       f"coverage {lead.coverage:.2f}).")
            return self._refusal(question, passages, why)
        picked = self.select(question, qt, lead, cands, named)
        lead = picked[0]
        answer = compose(question, picked, passages)
        source = lead
        if not lead.typed and _context(lead) < lead.start:  # the answer may be in its context
            source = next((c for c in cands if c.sent == lead.sent - 1 and c.passage is lead.passage), lead)
        answer.short_answer = short_answer(question, source, qt, answer)
        answer.reason = (f"Answerability {prob:.3f} ≥ threshold {self.refuse_below:.3f} (lead sentence "
                         f"similarity {lead.cos:.3f}, question-term coverage {lead.coverage:.2f}"
                         + (f", holds {qt.name}" if qt is not None and lead.typed else "")
                         + (f"; the question names {len(named)} articles, one sentence from each" if comparison else "")
                         + ").")
        return answer

    def select(self, question: str, qt: AnswerType | None, lead: Candidate, cands: list[Candidate],
               named: list[str]) -> list[Candidate]:
        """The sentences of the answer, lead first: the lead (for a comparison: the best sentence of
        each named article), then only sentences that bring a needed fact (module docstring, 4)."""
        comparison = len(named) >= 2
        if comparison:  # the answer is one sentence from each named article, the likelier first
            sides = sorted((max((c for c in cands if self._article(c) == t), key=lambda c: c.logit) for t in named),
                           key=lambda c: -c.logit)
            lead = sides[0]
        picked = [lead]
        quoted = self._quoted(lead)

        def add(c: Candidate) -> None:
            rows = self._quoted(c)
            if not rows & quoted:  # never the same sentence twice (as context or as itself)
                picked.append(c)
                quoted.update(rows)

        if comparison:
            add(sides[1])
        else:
            if len(named) == 1 and self._article(lead) != named[0]:
                # a bridge: the question names one article, the answer lies in another; the named
                # article's best sentence is the link the answer rests on
                link = [c for c in cands if self._article(c) == named[0]]
                if link:
                    add(max(link, key=lambda c: c.logit))
            elif len(named) == 1:
                # a bridge the other way: the lead, from the named article, names another retrieved
                # article (the film's lead actress, the album's band): its best sentence is the next hop
                said = " " + normalized(lead.passage.chunk.text[_context(lead):lead.end]) + " "
                hop = [c for c in cands if self._article(c) != named[0]
                       and f" {normalized(_PAREN.sub('', self._article(c)))} " in said]
                if hop:
                    first = min(c.passage.rank for c in hop)
                    add(max((c for c in hop if c.passage.rank == first), key=lambda c: c.logit))
            if qt is not None and not lead.typed:  # the lead lacks what was asked: the best sentence that has it
                typed = [c for c in cands if c.typed and not self._quoted(c) & quoted and c.coverage > 0
                         and c.logit >= lead.logit - self.add_margin]
                if typed:
                    add(max(typed, key=lambda c: c.logit))
                    if qt is REASON and picked[-1].typed:
                        # "why": the sentence that states a cause is the answer, so it leads (on
                        # SQuAD 00-23 this lifted why-questions' lead_hit 0.770 -> 0.787 and hurt
                        # nothing; for other types leading with the typed sentence lowered
                        # lead_hit 0.767 -> 0.760, so there the likelier sentence leads)
                        picked.insert(0, picked.pop())
            for other in expected_types(question)[1:]:
                if not any(lab in other.labels for c in picked for lab in self._labels(c)):
                    found = [c for c in cands if c not in picked and self._has_labels(c, other)]
                    if found:
                        add(max(found, key=lambda c: c.logit))
        return picked

    def _refusal(self, question: str, passages: list[Passage], why: str) -> Answer:
        unknown = sorted({w for w in re.findall(r"[\w’'-]+", question)
                          if terms(w) and all(t in self.stats.unknown(terms(w)) for t in terms(w))})
        if unknown:
            why += f" Terms absent from every article: {', '.join(unknown)}."
        return Answer(question=question, text=CANNOT_ANSWER, passages=passages, refused=True, reason=why)

    def _quoted(self, c: Candidate) -> set[int]:
        """Sentence rows quoted for ``c``: itself, and the one before when it refers back."""
        return {c.sent - 1, c.sent} if _context(c) < c.start else {c.sent}

    @staticmethod
    def _article(c: Candidate) -> str:
        return c.passage.chunk.title

    def _labels(self, c: Candidate) -> list[int]:
        return [lab for _, _, _, lab in c.block.sentence_entities(c.sent, c.sent + 1).tolist()]

    def _has_labels(self, c: Candidate, t: AnswerType) -> bool:
        return any(lab in t.labels for lab in self._labels(c))

    def named_articles(self, question: str, cands: list[Candidate]) -> list[str]:
        """Titles of the retrieved articles the question names: the title, a parenthesised
        qualifier aside ("Ed Wood (film)" -> "Ed Wood"), occurs in the question as a phrase (or,
        for a comparison whose sides no title names, the articles whose sentences name each side:
        :func:`rag.qtypes.comparison_sides`);
        best-ranked first, at most two, one per name; e.g. both sides of "Were Scott Derrickson and
        Ed Wood of the same nationality?". A title that only repeats a name already taken (or holds
        it: "Screaming Trees discography") adds nothing."""
        q = " " + _NORM.sub(" ", fold(question)).strip() + " "
        by_name: dict[str, str] = {}  # name -> title; the article titled by the bare name wins
        for c in sorted(cands, key=lambda c: c.passage.rank):
            title = self._article(c)
            bare = _PAREN.sub("", title).strip()
            name = normalized(bare)
            if name and f" {name} " in q and (name not in by_name or (bare == title and by_name[name] != bare)):
                by_name[name] = title
        names = [n for n in by_name if not any(n != m and f" {n} " in f" {m} " for m in by_name)]
        titles = [by_name[n] for n in names][:2]
        if len(titles) < 2:  # a comparison of things no title names: the articles that name them
            sides = comparison_sides(question)
            found = []
            for side in sides:
                key = " " + normalized(side) + " "
                holding = [c for c in cands if key in " " + normalized(c.text) + " "
                           or key in " " + normalized(self._article(c)) + " "]
                best = max((c for c in holding if self._article(c) not in found), key=lambda c: c.logit, default=None)
                if best is not None:
                    found.append(self._article(best))
            if len(found) == 2:
                return found
        return titles


def _entity_nearness(c: Candidate, q_terms: set[str]) -> float:
    """1 / (1 + words between the nearest typed entity of ``c`` and a question term in its
    sentence); 0 when it holds none. A SQuAD-style answer sits beside the words the question
    repeats."""
    if not c.typed:
        return 0.0
    text = c.passage.chunk.text
    words = [(m.start(), stem(fold(m.group()).replace("'s", "")) in q_terms) for m in _WORDS.finditer(text, c.start, c.end)]
    hits = [i for i, (_, hit) in enumerate(words) if hit]
    if not hits:
        return 0.0
    best = len(words)
    for a, b, _ in c.typed:
        inside = [i for i, (pos, _) in enumerate(words) if a <= pos < b] or [0]
        best = min(best, min(min(abs(h - inside[0]), abs(h - inside[-1])) for h in hits))
    return 1.0 / (1.0 + best)


def _context(c: Candidate) -> int:
    """Start of the text to quote for ``c``: the previous sentence's start when ``c`` opens by
    referring back to it (same passage) and that sentence may be quoted, else ``c.start``."""
    if c.sent > c.lo and c.prev_ok and _ANAPHOR.match(c.text):
        _, s, _ = (int(x) for x in c.block.sentences[c.sent - 1])
        return s
    return c.start


def compose(question: str, picked: list[Candidate], passages: list[Passage]) -> Answer:
    """Join picked sentences (lead first) into answer text with ``[n]`` markers; a lead that refers
    back is preceded by the sentence it refers to, under the same marker (:func:`cite_spans`)."""
    return cite_spans(question, [(c.passage, _context(c), c.end) for c in picked], passages)


def cite_spans(question: str, quoted: list[tuple[Passage, int, int]], passages: list[Passage]) -> Answer:
    """An answer quoting ``quoted`` (``(passage, start, end)`` spans of chunk text, in answer
    order), each followed by ``[n]``: passages numbered 1.. in order of first use, one number per
    passage; each citation's quote spans its passage's quoted text."""
    numbers: dict[str, int] = {}
    spans: dict[str, list[int]] = {}
    by_id: dict[str, Passage] = {}
    parts = []
    for p, start, end in quoted:
        cid = p.chunk.id
        n = numbers.setdefault(cid, len(numbers) + 1)
        lo, hi = spans.get(cid, [start, end])
        spans[cid] = [min(lo, start), max(hi, end)]
        by_id[cid] = p
        parts.append(f"{p.chunk.text[start:end]} [{n}]")
    citations = [Citation.of(by_id[cid], n, by_id[cid].chunk.text[spans[cid][0]:spans[cid][1]])
                 for cid, n in numbers.items()]
    return Answer(question=question, text=" ".join(parts), citations=citations, passages=passages,
                  refused=False)


def short_answer(question: str, lead: Candidate, qt: AnswerType | None, answer: Answer) -> ShortAnswer | None:
    """The span of the expected answer type in the lead sentence (or the sentence quoted before
    it), or None (no type expected, or none in the sentence). Among several, the one nearest the question's words in the sentence
    (characters), the type's likelier labels first on ties."""
    if qt is None or qt is REASON or not lead.typed:
        return None
    text = lead.passage.chunk.text
    q = set(_terms(question))
    hits = [m.start() for m in _WORDS.finditer(text, lead.start, lead.end)
            if stem(fold(m.group()).replace("'s", "")) in q]

    def key(ent):
        a, b, lab = ent
        dist = min((abs(h - a) if h < a else abs(h - b) for h in hits), default=0)
        return (dist + 40 * qt.labels.index(lab), a)

    a, b, lab = min(lead.typed, key=key)
    marker = answer.text.find(text[lead.start:lead.end])
    off = marker + (a - lead.start) if marker >= 0 else None
    return ShortAnswer(text=text[a:b], chunk_id=lead.passage.chunk.id, start=a, end=b, label=LABELS[lab],
                       citation=1, answer_start=off, answer_end=None if off is None else off + (b - a))
