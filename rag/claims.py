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
- **names**: every proper noun of the claim (spaCy's tagger) must be named in the passage or its
  title, as written, as the start of a word ("Korea" in "Korean"), as a known short form ("US",
  "UK") or as a demonym ("Egyptian" for "Egypt"); and every link or e-mail address;
- **polarity**: a negation ("not", "n't", "never", "no longer", "no", "failed to", ...) in the
  claim and not in the passage sentence most like it, or the other way round;
- **roles**: who did what to whom, from spaCy's dependency parse of the claim and of the passage
  sentences most like it (actor, patient and prepositional objects of each verb, a passive "was
  defeated by" read as the active, :func:`frames`): the same verb with two roles exchanged, the
  same patient with another actor, or the verb's named subject another person than the passage's
  ("Wang spoke" where Kerry did);
- **relative years**: "the following year", "in March of the same year" count as the years they
  stand for (:func:`relative_years`);
- **values bound to their fact**: a value put where the sentence the claim restates has another,
  or two values exchanged (:func:`_substituted`), a number tied to another thing
  (:func:`_unbound`), a superlative the passage ranks lower, a fraction given otherwise;
- **what a reader works out** is not a wrong number: spans between the passage's years, totals,
  ratios, rates per another period, shares, score margins, rounding (:func:`_derived`,
  :func:`_rounded`).

Each failure is a short reason such as "the passage gives 24–10, not 31–7". Tags and the parse
of the claim and of the passage sentences most like it come from spaCy's ``en_core_web_sm``
(tagger, parser, lemmatizer; loaded once on first use), in one batch per answer (:func:`prepare`).
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from functools import lru_cache

from . import entities
from .sentences import split_sentences
from .text import STOPWORDS as _STOP, fold, stem

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
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SCALED = re.compile(r"(\d+(?:[.,]\d+)?)\s*(thousand|million|billion|trillion)\b", re.I)
#: A figure with its scale abbreviated ("25m people", "£2.4bn", "5k"); "m" may be metres too, so a
#: claim's figure reads as its digits alone and a passage's as both.
_ABBREVIATED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(k|m|mn|bn|tn)\b")
_ABBREVIATION = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "tn": 1e12}
_ORD_DIGITS = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)
_WORD = re.compile(r"[a-z]+")
_TOKEN = re.compile(r"[a-z]+|'[a-z]+")  # "it's" -> "it", "'s" (as spaCy splits it)
#: A negation; "too slow to be practical" denies "practical" as "not" would.
_DENIALS = (r"not|never|no longer|no|none|nobody|nothing|neither|nor|cannot|without|failed to|fail to|fails to|"
            r"refused to|refuses? to|declined to|declines? to|denied|lacks?|lacked|lacking|yet to|too \w+ to|"
            r"(?:the )?absence of")
#: Keeping something from doing it: "keep the pressure from getting too high".
_KEPT_FROM = (r"(?:keep|kept|prevent|stop|bar|prohibit|ban)(?:s|ed|ing|ped|ping|red|ring|ned|ning)?"
              r"\s+(?:[\w'’-]+\s+){0,6}?from(?=\s+\w+ing\b)")


class _Negations:
    """The negation pattern (:data:`_DENIALS`, "n't", and :data:`_KEPT_FROM` in a text with "from ":
    the long pattern costs half again as much, and nearly no sentence needs it). ``search`` and
    ``finditer`` as a compiled pattern's."""

    def __init__(self):
        self.plain = re.compile(r"\b(?:" + _DENIALS + r")\b|n['’]t\b", re.I)
        self.full = re.compile(r"\b(?:" + _DENIALS + r"|" + _KEPT_FROM + r")\b|n['’]t\b", re.I)

    def _pattern(self, text: str) -> re.Pattern:
        return self.full if "from " in text else self.plain

    def search(self, text: str):
        return self._pattern(text).search(text)

    def finditer(self, text: str):
        return self._pattern(text).finditer(text)


_NEGATION = _Negations()

_nlp = None
_nlp_lock = threading.Lock()


def pipeline():
    """spaCy's ``en_core_web_sm`` with tagger, parser and lemmatizer (no NER: the tagger's proper
    nouns serve, and NER would double the time); see :func:`rag.entities.pipeline`. Its
    ``attribute_ruler`` is split in two (:func:`_split_ruler`): the same rules, a quarter of the
    time."""
    global _nlp
    if _nlp is None:
        with _nlp_lock:
            if _nlp is None:
                _nlp = _split_ruler(entities.pipeline(exclude=("senter", "ner")))
    return _nlp


def load_in_background() -> threading.Thread | None:
    """Start loading :func:`pipeline` (spaCy, ~1-2 s) in a daemon thread, so that it is ready
    when a generated reply's first sentence is checked; the thread, or None when it is already
    loaded. A caller that needs it meanwhile waits on the same lock."""
    if _nlp is not None:
        return None
    t = threading.Thread(target=pipeline, name="rag-spacy-loader", daemon=True)
    t.start()
    return t


def _split_ruler(nlp):
    """``nlp`` (a private copy) with its ``attribute_ruler`` replaced by :class:`TagAttributes`
    for the rules on one token's tag and lower-cased word (156 of the 179 rules of
    ``en_core_web_sm``), followed by a spaCy ``attribute_ruler`` holding the rest (dependency
    labels, two-token and space rules). The ruler's token matcher took a quarter of the
    pipeline's time (6.6 of 24.5 ms for a 5-sentence answer); a dictionary lookup does the same.
    Same parts of speech, lemmas and morphology on the 37,481 tokens of the grounding data
    (tests/test_claims.py)."""
    from spacy.language import Language

    if "attribute_ruler" not in nlp.pipe_names:
        return nlp
    rules = nlp.get_pipe("attribute_ruler").patterns
    simple = [r for r in rules if TagAttributes.simple(r)]
    rest = [r for r in rules if not TagAttributes.simple(r)]
    if "rag_tag_attributes" not in Language.factories:
        Language.factory("rag_tag_attributes", default_config={"patterns": []},
                         func=lambda nlp, name, patterns: TagAttributes(patterns))
    nlp.replace_pipe("attribute_ruler", "rag_tag_attributes", config={"patterns": simple})
    nlp.rename_pipe("attribute_ruler", "tag_attributes")
    ruler = nlp.add_pipe("attribute_ruler", name="attribute_rules", after="tag_attributes")
    ruler.add_patterns(rest)
    return nlp


class TagAttributes:
    """The rules of a spaCy ``attribute_ruler`` that test one token's fine-grained tag and/or
    lower-cased word, applied by dictionary lookup, in the ruler's order (a later rule wins):
    each sets the coarse part of speech, morphology, lemma or tag."""

    def __init__(self, patterns: list[dict]):
        self.patterns = patterns
        self.rules: dict[tuple, tuple[int, dict]] = {}  # (tag or None, lower or None) -> (order, attrs)
        for order, rule in enumerate(patterns):
            for pat in rule["patterns"]:
                tag, low = pat[0].get("TAG"), pat[0].get("LOWER")
                for word in (low["IN"] if isinstance(low, dict) else [low]):
                    self.rules[(tag, word)] = (order, rule["attrs"])

    @staticmethod
    def simple(rule: dict) -> bool:
        """True for a rule this lookup applies: one token, tested on its tag (a string) and/or its
        lower-cased word (a string or an ``IN`` list), attributes set on that token."""
        return rule.get("index", 0) == 0 and all(
            len(p) == 1 and set(p[0]) <= {"TAG", "LOWER"} and p[0]
            and isinstance(p[0].get("TAG", ""), str)
            and (isinstance(p[0].get("LOWER", ""), str) or set(p[0]["LOWER"]) == {"IN"})
            for p in rule["patterns"])

    def __call__(self, doc):
        rules = self.rules
        for tok in doc:
            tag, low = tok.tag_, tok.lower_
            found = [r for r in (rules.get((tag, None)), rules.get((tag, low)), rules.get((None, low))) if r]
            if len(found) > 1:
                found.sort(key=lambda r: r[0])
            for _, attrs in found:
                for key, value in attrs.items():
                    if key == "POS":
                        tok.pos_ = value
                    elif key == "MORPH":
                        tok.set_morph(value)
                    elif key == "LEMMA":
                        tok.lemma_ = value
                    elif key == "TAG":
                        tok.tag_ = value
        return doc


def word_numbers(text: str, *, parts: bool = False) -> set[float]:
    """Values of the number words in ``text``, a run read as one number: "two hundred and
    seventy-seven" -> 277, "sixty thousand" -> 60000, "eighteen-dollar" -> 18, "a dozen" -> 12.
    With ``parts``, each word's own value is added too (277, 2, 100, 70, 7: lenient, for passages)."""
    out: set[float] = set()
    total = current = 0.0
    in_run = False

    def close():
        nonlocal total, current, in_run
        if in_run:
            out.add(total + current)
        total = current = 0.0
        in_run = False

    words = _WORD.findall(fold(text))
    for i, w in enumerate(words):
        if w in _NUMBER_WORDS and w != "hundred":
            v = float(_NUMBER_WORDS[w])
            if in_run and current % 100 and (v >= 10 or current % 10):  # "twenty five" ok, "five six" not
                if not (current % 10 == 0 and v < 10):
                    close()
            current += v
            in_run = True
        elif w == "hundred" or w in _SCALE:
            mult = 100.0 if w == "hundred" else _SCALE[w]
            if w == "hundred":
                current = (current or 1.0) * 100
            else:
                total += (current or 1.0) * mult
                current = 0.0
            in_run = True
        elif w == "and" and in_run and i + 1 < len(words) and words[i + 1] in _NUMBER_WORDS:
            continue  # "two hundred and seven"
        else:
            close()
        if parts and (w in _NUMBER_WORDS or w in _SCALE):
            out.add(float(_NUMBER_WORDS[w] if w in _NUMBER_WORDS else _SCALE[w]))  # "zero" is 0, not absent
    close()
    return out


def numbers(text: str, *, lenient: bool = False) -> set[float]:
    """Numeric values in ``text``: digit groups ("3,000" -> 3000, "24–10" -> 24 and 10, "5th" ->
    5), number words read as one number per run ("three thousand" -> 3000; see
    :func:`word_numbers`) and scaled digits ("2 million" -> 2 and 2,000,000; "25m" -> 25).
    ``lenient`` (for a passage) adds each number word's own value too, a year range's short end in
    full ("1973–74" -> 1974) and an abbreviated scale's value ("25m" -> 25,000,000 as well)."""
    out = {float(m.group(1).replace(",", "")) for m in _NUM.finditer(text)}
    out |= word_numbers(text, parts=lenient)
    if lenient:  # "1973–74" is also 1974
        out |= {float(m.group(1)[:2] + m.group(2)) for m in _PAIR.finditer(text)
                if len(m.group(1)) == 4 and len(m.group(2)) == 2 and m.group(1).isdigit()}
    for m in _SCALED.finditer(text):  # "2 million" is also 2,000,000
        out.add(float(m.group(1).replace(",", "")) * _SCALE[m.group(2).lower()])
    for m in _ABBREVIATED.finditer(text):  # "25m": 25, and in a passage 25,000,000 too
        out.add(float(m.group(1)))
        if lenient:  # and the scale alone, as "million" gives it
            out |= {float(m.group(1)) * _ABBREVIATION[m.group(2)], _ABBREVIATION[m.group(2)]}
    return out


def _rounded(claim: str, p_nums: set[float]) -> set[float]:
    """The numbers of a round figure in ``claim`` ("about 3.4 million": 3.4, 1,000,000 and
    3,400,000) that a number of the passage rounds to (3,393,000), at the figure's own precision:
    a model writes 3,393,000 as "3.4 million". Only figures with a scale word or in thousands
    and above with trailing zeros (never a year)."""
    out: set[float] = set()
    figures = [(m, float(m.group(1).replace(",", "")) * _SCALE[m.group(2).lower()]) for m in _SCALED.finditer(claim)]
    figures += [(m, float(m.group(1).replace(",", ""))) for m in _NUM.finditer(claim)
                if "," in m.group(1) and m.group(1).endswith("00")]
    for m, value in figures:
        if value in p_nums or value < 1000:
            continue
        digits = m.group(1).replace(",", "").replace(".", "").rstrip("0")
        sig = max(len(digits.lstrip("0")), 1)
        scale = 10 ** (len(str(int(value))) - sig)
        if any(abs(p - value) <= scale / 2 for p in p_nums if p >= 1000):
            out.add(value)
            out.add(float(m.group(1).replace(",", "")))
            if m.lastindex and m.lastindex >= 2:
                out.add(_SCALE[m.group(2).lower()])
    return out


#: A number followed by a span of time: "thirteen years after", "three decades later".
_SPAN_AFTER = r"\s*(?:years?|decades?|centuries|months?|weeks?|days?)\b"
_POWER = re.compile(r"(\d+)\s*\^\s*(\d+|[a-z])\b")


#: ``(the claim's period, the passage's, factor)``: a rate the claim states per another period.
_RATES = ((r"\b(?:a|per|each|every) year\b|\bannual(?:ly)?\b|\byearly\b|\bper annum\b",
           r"\b(?:a|per|each|every) month\b|\bmonthly\b", 12),
          (r"\b(?:a|per|each|every) year\b|\bannual(?:ly)?\b|\byearly\b",
           r"\b(?:a|per|each|every) week\b|\bweekly\b", 52),
          (r"\b(?:a|per|each|every) month\b|\bmonthly\b",
           r"\b(?:a|per|each|every) year\b|\bannual(?:ly)?\b|\byearly\b|\bper annum\b", 1 / 12))
_HEDGE = re.compile(r"\b(?:about|around|roughly|nearly|almost|approximately|some|over|more than|just over|"
                    r"just under|close to|circa|an estimated)\b")
_METRIC = re.compile(r"\b(?:metric )?(?:tons?|tonnes?|kilograms?|kilometres?|kilometers?|km|kg|litres?|liters?|"
                     r"megawatts?|kilowatts?)\b")
_TOTAL = re.compile(r"\b(?:in total|a total of|totall?ing|in all|altogether|combined|together)\b")
_RATIO = re.compile(r"\b(?:times|twice|double|triple|half)\b")


_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|per ?cent)")


def _percentages(text: str) -> list[float]:
    """The percentages ``text`` gives ("33%", "60 per cent" -> [33.0, 60.0])."""
    return [float(m.group(1)) for m in _PERCENT.finditer(text)]


def _sums_to(x: float, parts: list[float], most: int = 4) -> bool:
    """Whether some 2 to ``most`` of ``parts`` (ascending) add up to ``x``."""
    def go(i: int, left: float, n: int) -> bool:
        if abs(left) < 1e-9:
            return n >= 2
        if n == most:
            return False
        return any(parts[j] <= left + 1e-9 and go(j + 1, left - parts[j], n + 1) for j in range(i, min(len(parts), 40)))
    return go(0, x, 0)


def _about(ratio: float, x: float) -> bool:
    """``ratio`` is ``x`` as a reader rounds it: within 10% (and x a small whole number or a half)."""
    return (x == int(x) and 2 <= x <= 20 or x == 0.5) and abs(ratio - x) <= 0.1 * x


#: A small count and the words after it (up to three, an apostrophe's "s" aside): "two bachelor's degrees".
_SMALL_COUNT = re.compile(r"\b([2-6]|two|three|four|five|six) ((?:[a-z]+(?:['’]s)? ){0,2}[a-z]+)\b")


def _derived(claim: str, passage: str, unknown: set[float], p_nums: set[float]) -> set[float]:
    """The numbers of ``unknown`` (the claim's, not the passage's) that the passage's numbers
    (``p_nums``) give by one step a reader takes: a span of years between two years of the passage
    ("thirteen years after" 1872 for 1885), what remains of a whole ("$280 billion" from $960
    billion of which $680 billion is private "and the remainder" government), a rate per another
    period ("$1,500 a year" for "$125 per month"), a total the claim calls one ("16 years ... in
    all"), a ratio ("three times"), a score's margin ("ahead by 14" for 24–10), a share ("1.8
    million" for 60% of 3 million), a metric unit a thousand times larger ("18 tons" for 18,100
    kg) and a power written as the passage lost it
    ("10^12" where the passage reads "1012")."""
    out: set[float] = set()
    low = fold(claim)
    years = sorted(p for p in p_nums if 1000 <= p <= 2100 and p == int(p))
    remainder = bool(re.search(r"\b(?:remainder|remaining|the rest|rest of)\b", passage, re.I))
    for x in unknown:
        if 0 < x < 1000 and any(b - a == x for i, a in enumerate(years) for b in years[i + 1:]):
            words = [k for k, v in _NUMBER_WORDS.items() if v == x] + [_fmt(x)]
            if any(re.search(r"\b" + re.escape(w) + r"(?:[ -]\w+)?" + _SPAN_AFTER, low) for w in words):
                out.add(x)
        elif remainder and any(a - b == x for a in p_nums for b in p_nums if a > b > 0):
            out.add(x)
    hedged = bool(_HEDGE.search(low))
    margins = {abs(float(a.replace(",", "")) - float(b.replace(",", ""))) for a, b in _PAIR.findall(passage)}
    pct = _percentages(passage)
    metric = bool(_METRIC.search(low))
    for x in unknown - out:
        # a hedged span between two years of the passage ("nearly 70 years, from 1870 until 1939")
        if hedged and 5 <= x < 1000 and any(abs((b - a) - x) <= max(1.0, 0.05 * x) for i, a in enumerate(years)
                                             for b in years[i + 1:]) and re.search(r"\byears?\b", low):
            out.add(x)
        # a decade or a century the passage names ("about ten years after" for "a decade after")
        if ((x == 10 and re.search(r"\ba decade\b", passage, re.I))
                or (x == 100 and re.search(r"\ba century\b", passage, re.I))):
            out.add(x)
        # a measure rounded to the claim's precision ("about 3.5 m" for "3.48 m", "roughly 70%" for 70.4%)
        if hedged and x != int(x):
            places = len(_fmt(x).split(".")[1])
            if any(round(p, places) == x for p in p_nums):
                out.add(x)
        elif hedged and any(p != int(p) and abs(p - x) < 0.5 for p in p_nums):
            out.add(x)
        # a score's margin ("ahead by 14 points" for a 24–10 lead)
        if x in margins and re.search(r"\b(?:by|margin|lead|ahead|won)\b", low):
            out.add(x)
        # a share of a whole ("about 1.8 million" for 60% of 3 million)
        if any(abs(a / 100 * b - x) <= 0.02 * x for a in pct for b in p_nums if b > 0):
            out.add(x)
        # a metric unit a thousand times larger ("more than 18 metric tons" for 18,100 kg)
        if metric and any(0 <= p / 1000 - x < 1 for p in p_nums if p >= 1000):
            out.add(x)
        # a rate per another period ("$1,500 a year" for "$125 per month")
        for mine, theirs, factor in _RATES:
            if re.search(mine, low) and re.search(theirs, passage, re.I) and any(
                    abs(p * factor - x) <= 0.005 * x for p in p_nums if p > 0):
                out.add(x)
        # a sum the claim says is one ("16 years of schooling in all" for 7 + 4 + 2 + 3)
        if _TOTAL.search(low) and x > 0 and _sums_to(x, sorted(p for p in p_nums if 0 < p < x)):
            out.add(x)
        # a ratio of two of the passage's numbers ("about three times ABC's revenue")
        if _RATIO.search(low) and any(b > 0 and _about(a / b, x) for a in p_nums for b in p_nums if a != b):
            out.add(x)
    # a count of the things the passage names one by one ("two bachelor's degrees" for "a bachelor's
    # degree in ... and another bachelor's degree in ...": the plural noun's word, that many times)
    small = {x for x in unknown - out if 2 <= x <= 6 and x == int(x)}
    if small:
        p_words = Counter(_WORD.findall(fold(passage)))
        for m in _SMALL_COUNT.finditer(low):
            x = float(m.group(1)) if m.group(1).isdigit() else float(_NUMBER_WORDS[m.group(1)])
            if x in small and any(
                    w.endswith("s") and sum(p_words[f] for f in {w, w[:-1], w[:-2] if w.endswith("es") else w}) == x
                    for w in m.group(2).split()):
                out.add(x)
    for m in _POWER.finditer(claim):
        if re.search(r"(?<![\d.,])" + re.escape(m.group(1) + m.group(2)) + r"(?![\d])", passage):
            out |= {float(m.group(1))} | ({float(m.group(2))} if m.group(2).isdigit() else set())
    return out


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10,
          "XI": 11, "XII": 12, "XIII": 13, "XIV": 14, "XV": 15, "XVI": 16}
#: A regnal number after a name ("Bohemond I", "Charles III", "John Paul II's"), not a word before
#: an initialism ("The V&A").
_ROMAN_AFTER_NAME = re.compile(r"\b(?!(?:The|A|An|In|On|Of|At|By|To)\b)[A-Z][a-z]+\s+("
                               + "|".join(sorted(_ROMAN, key=len, reverse=True)) + r")\b(?:(?=['’]s\b)|(?![&'’.-]\w))")


def ordinals(text: str) -> set[int]:
    """Ordinals in ``text`` ("third", "3rd", "50th", and a Roman numeral after a name: "World War
    II", "Henry VIII") as integers."""
    out = {int(m.group(1)) for m in _ORD_DIGITS.finditer(text)}
    out |= {_ORDINAL_WORDS[w] for w in _WORD.findall(fold(text)) if w in _ORDINAL_WORDS}
    out |= {_ROMAN[m.group(1)] for m in _ROMAN_AFTER_NAME.finditer(text)}
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


_YEAR = re.compile(r"(?<![\w.,])(1[0-9]{3}|20[0-9]{2})(?![\w])")
#: A year given relative to the last one written: "the following year", "three years later".
_RELATIVE_YEAR = re.compile(
    r"\b(?:(?:in|of|during|by)\s+)?(?:(the same|that|the following|the next|the previous|the preceding)\s+year"
    r"|the year (after|before)|(a|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+years?\s+"
    r"(later|after|afterwards|earlier|before))\b", re.I)


def relative_years(text: str) -> list[tuple[int, int]]:
    """``(year, offset)`` for each year ``text`` gives relative to the last year written before it
    ("In 1599 the company was set up and chartered in the following year" -> [(1600, 53)]), or to
    the last relative year after it ("... the following year. In June of the same year ..." is
    that following year): "the same year", "that year", "the following/next year", "the previous
    year", "the year after/before", "five years later/earlier"."""
    out: list[tuple[int, int]] = []
    for m in _RELATIVE_YEAR.finditer(text):
        written = list(_YEAR.finditer(text[: m.start()]))
        if out and (not written or written[-1].start() < out[-1][1]):
            base = out[-1][0]  # "sold the following year ... in June of the same year": the year before
        elif written:
            base = int(written[-1].group(1))
        else:
            continue
        which, side, count, way = m.group(1), m.group(2), m.group(3), m.group(4)
        if which:
            step = {"the same": 0, "that": 0, "the following": 1, "the next": 1}.get(which.lower(), -1)
        elif side:
            step = 1 if side.lower() == "after" else -1
        else:
            n = int(count) if count.isdigit() else 1 if count.lower() in ("a", "one") else _NUMBER_WORDS[count.lower()]
            step = n if way.lower() in ("later", "after", "afterwards") else -n
        out.append((base + step, m.start()))
    return out


def _relative_dates(text: str) -> list[tuple[int, int, None]]:
    """A month named next to a relative year ("in March of the same year") as a date of that year."""
    out = []
    for year, at in relative_years(text):
        for m in re.finditer(r"\b" + _MONTH_RE + r"\b", text[max(0, at - 20): at + 40], re.I):
            if m.group(0)[0].isupper():
                out.append((year, _MONTHS[m.group(1).lower()[:3]], None))
    return out


_BOUND_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[a-z]+")
#: Words that follow an ordinal without being what it ranks.
_NOT_COUNTED = frozenset({"the", "and", "of", "in", "on", "at", "to", "for", "by", "a", "an", "or", "per", "than",
                          "from", "with", "as", "was", "were", "is", "are", "s", "th", "st", "nd", "rd"})


def _counted(text: str) -> list[tuple[tuple[str, float], str, str]]:
    """``((kind, value), stem of the thing ranked, the words as written)`` for each ordinal word
    of ``text`` followed within three words by a content word ("the second Doctor Who serial" ->
    (("ordinal", 2), "serial", "second doctor who serial"), and "doctor", "who"). (Numbers too
    were tried: unit conversions, number words in several tokens and lists gave false alarms on
    true paraphrases of the calibration halves.)"""
    words = _BOUND_TOKEN.findall(fold(text).replace("’", "'"))
    out = []
    for i, w in enumerate(words):
        if w not in _ORDINAL_WORDS:
            continue
        val = ("ordinal", float(_ORDINAL_WORDS[w]))
        for j in range(i + 1, min(i + 4, len(words))):
            x = words[j]
            if x[0].isdigit() or x in _ORDINAL_WORDS or x in _NUMBER_WORDS:
                break
            if x not in _NOT_COUNTED and len(x) >= 3:
                out.append((val, stem(x), " ".join(words[i:i + 4])))
    return out


def _contexts(value: float, text: str, width: int = 4) -> set[str]:
    """Stems of the content words (4 letters or more, no number words) within ``width`` words of
    each place ``text`` writes the number ``value`` in digits or as a word."""
    words = _BOUND_TOKEN.findall(fold(text).replace("’", "'"))
    out: set[str] = set()
    for i, w in enumerate(words):
        v = (float(w.replace(",", "")) if re.fullmatch(r"\d+(?:,\d{3})*(?:\.\d+)?", w)
             else _NUMBER_WORDS.get(w))
        if v is not None and float(v) == value:
            out |= {stem(x) for x in words[max(0, i - width): i + width + 1]
                    if len(x) >= 4 and not x[0].isdigit() and x not in _AUX and x not in _NOT_COUNTED
                    and x not in _NUMBER_WORDS}  # not the number itself ("four"), nor another
    return out


def _same_context(value: float, claim: str, sentences: list[str]) -> bool:
    """The claim writes ``value`` next to a word that some passage sentence also writes next to it
    ("which was founded in 1852" and "founded in 1852"): the number is the passage's for that fact,
    though not in the sentences most like the claim (a claim that joins two facts)."""
    mine = _contexts(value, claim)
    return bool(mine) and any(mine & _contexts(value, x) for x in sentences if value in numbers(x, lenient=True))


def _list_member(cdoc, nearest: str) -> tuple[str, str] | None:
    """``(the claim's name, the passage's)`` when the claim lists names ("France, Spain, Portugal
    and Iceland") that the passage sentence most like it (``nearest``) lists too, all but one,
    and that sentence's list has another name in its place; else None."""
    near = _folded(nearest)
    for head in cdoc:
        if head.pos_ != "PROPN" or head.dep_ == "conj" or not any(c.dep_ == "conj" for c in head.children):
            continue
        members = [head, *(t for t in head.subtree if t.dep_ == "conj" and t.pos_ == "PROPN")]
        if len(members) < 3:
            continue
        missing = [t for t in members if not _named_in(t.text, near)]
        if len(missing) != 1:
            continue
        # the nearest sentence's own list: the capitalised words joined by commas and "and"
        theirs = re.findall(r"(?<=, )([A-Z][\w'’-]+)|(?<=\band )([A-Z][\w'’-]+)", nearest)
        names = [a or b for a, b in theirs]
        extra = [n for n in names if not any(fold(n) == fold(t.text) for t in members)]
        if extra:
            return missing[0].text, extra[0]
    return None


#: A word as :func:`_substituted` reads them: a number (with separators) or a run of letters.
_ALIGN_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?(?![^\W\d_])|\d+(?:[.,]\d+)*|[^\W\d_]+(?:-[^\W\d_]+)*")
#: Lower-case words inside a name ("Jan van Riebeeck", "Kingdom of Poland") or before one as part
#: of a place ("north-east England").
_NAME_PARTICLES = frozenset({"van", "von", "de", "der", "den", "du", "da", "di", "la", "le", "of", "al", "bin"})
_COMPASS = re.compile(r"(?:north|south|east|west|central|northern|southern|eastern|western|upper|lower)"
                      r"(?:-(?:north|south|east|west|central|eastern|western))?$")


@lru_cache(maxsize=4096)
def _spans(text: str) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` of each word of ``text`` as :func:`_aligned` reads them (:data:`_ALIGN_TOKEN`;
    "six-cylinder": the number and its thing, two words)."""
    spans = []
    for m in _ALIGN_TOKEN.finditer(text):
        a, b = m.span()
        head = m.group(0).split("-", 1)[0]
        if "-" in m.group(0) and (head.lower() in _NUMBER_WORDS or head.lower() in _ORDINAL_WORDS):
            spans += [(a, a + len(head)), (a + len(head) + 1, b)]
        else:
            spans.append((a, b))
    return tuple(spans)


@lru_cache(maxsize=4096)
def _aligned(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(words as written, the same words folded)`` of ``text`` (:func:`_spans`)."""
    spans = _spans(text)
    words = tuple(text[a:b] for a, b in spans)
    low = fold(text)
    if len(low) == len(text):  # folding kept every offset (nearly all text): slice it
        return words, tuple(low[a:b] for a, b in spans)
    return words, tuple(fold(w) for w in words)


#: One capitalised word closing a phrase after a comma: a place's country or state ("Vorarlberg,
#: Austria, was"; "St. Augustine, Florida."), which belongs to the name before it.
_PLACE_AFTER = re.compile(r"[A-Z][\w'’-]+(?=\s*(?:[,.;:)]|$))")


@lru_cache(maxsize=4096)
def _breaks(text: str) -> frozenset[int]:
    """Indices of the words of :func:`_aligned` that punctuation (a comma, semicolon, colon or dash
    between spaces; not a bracket: "the Episcopal (United States) Calendar") parts from the word
    before: where a name ends ("the Columbian Exposition, Westinghouse Electric"; "Schirra, Eisele
    and Cunningham"); not a comma before one capitalised word that closes the phrase
    (:data:`_PLACE_AFTER`)."""
    out = set()
    for i, (a, _) in enumerate(_spans(text)):
        before = text[max(0, a - 3):a]
        if re.search(r"[;:]|\s[–—-]\s", before) or ("," in before and not _PLACE_AFTER.match(text, a)):
            out.add(i)
    return frozenset(out)


@lru_cache(maxsize=4096)
def _indexed(text: str) -> tuple[dict[int, tuple[int, str]], dict[str, list[int]]]:
    """``({start: (end, kind)} of :func:`_value_runs`, {folded word: its positions})`` of ``text``;
    a word whose stem differs from it is listed under "~" and its stem too."""
    words, low = _aligned(text)
    at: dict[str, list[int]] = {}
    for i, w in enumerate(low):
        at.setdefault(w, []).append(i)
        if stem(w) != w:
            at.setdefault("~" + stem(w), []).append(i)  # "~headquarter" for "headquarters"
    return {i: (j, k) for i, j, k in _value_runs(words, low, _breaks(text))}, at


def _value_runs(words: tuple[str, ...], low: tuple[str, ...],
                breaks: frozenset[int] = frozenset()) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` for each run of ``words`` (as written; ``low`` folded) that states
    a value: "num" (digits, number words), "ord" (ordinal words) or "name" (capitalised words,
    not the first word, with the particles and compass words that belong to them); no run goes on
    past a word in ``breaks`` (see :func:`_breaks`)."""

    def kind(i):
        w = low[i]
        if w[0].isdigit() or w in _NUMBER_WORDS:
            return "num"
        if w in _ORDINAL_WORDS:
            return "ord"
        if i > 0 and words[i][:1].isupper() and not (w in _MONTHS and (len(w) > 3 or (
                i + 1 < len(words) and words[i + 1][0].isdigit()))):
            return "name"
        if i == 0 and words[0][:1].isupper() and w not in _STOP and len(words) > 1 and words[1][:1].isupper() \
                and low[1] not in _STOP:
            return "name"  # a name that opens the sentence: two capitalised words ("Lord Cromer was ...")
        return None

    # each word's kind, once (most words are none: lower case, no digit, no number word)
    kinds = [kind(i) if (w[:1].isdigit() or w in _NUMBER_WORDS or w in _ORDINAL_WORDS or words[i][:1].isupper())
             else None for i, w in enumerate(low)]
    kinds.append(None)  # past the end
    runs, i = [], 0
    while i < len(words):
        k = kinds[i]
        if k is None and (kinds[i + 1] == "name" and _COMPASS.match(low[i])):
            k = "name"
        if k is None:
            i += 1
            continue
        j = i + 1
        while j < len(words) and j not in breaks and (kinds[j] == k or (k == "name" and low[j] in _NAME_PARTICLES
                                                                         and kinds[j + 1] == "name")):
            j += 1
        runs.append((i, j, k))
        i = j
    return runs


def _same_value(kind: str, mine: list[str], theirs: list[str]) -> bool:
    """The claim's value words ``mine`` and the passage's ``theirs`` (as written) may state the
    same thing: a number in common (or the claim's a round figure of the passage's), a word in
    common or with the same first four letters ("China", "Chinese"; "Nov", "November"), or one a
    short form of the other ("US", "United States")."""
    if kind == "num":
        p_nums = numbers(" ".join(theirs), lenient=True)
        if len(mine) == 1 and len(theirs) == 1 and mine[0].isdigit() and theirs[0].isdigit() and (
                len(mine[0]) == 4 and len(theirs[0]) == 2 and mine[0].endswith(theirs[0])):
            return True  # "the late 1960s" for "the late 60s"
        digits = "".join(w for w in mine if w.isdigit())  # "10^12" where the passage lost the superscript
        return bool(numbers(" ".join(mine)) & p_nums or _rounded(" ".join(mine), p_nums)
                    or (len(digits) > 2 and float(digits) in p_nums))
    a = [fold(w) for w in mine if w[:1].isupper() or w[0].isdigit() or kind != "name"]
    b = [fold(w) for w in theirs if w[:1].isupper() or w[0].isdigit() or kind != "name"]
    if kind == "name" and set(a) & set(b):  # "County Waterford", "County Cavan": the words that differ decide
        a, b = [w for w in a if w not in b], [w for w in b if w not in a]
        if not a or not b:
            return True
        mine, theirs = a, b
    if any(x.startswith(y[:4]) or y.startswith(x[:4]) for x in a for y in b if min(len(x), len(y)) >= 3):
        return True
    return _named_in(" ".join(mine), fold(" ".join(theirs))) or _named_in(" ".join(theirs), fold(" ".join(mine)))


#: A number and the thing it counts or dates: "2,200 fishes" (the noun after it), "Taihō Code
#: (701)", "the Treaty of Nice 2001", "Code of 718" (the name before it).
_COUNTED = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s+([A-Za-z][a-z-]{3,})\b")
#: A share and the group it is of: "50.2% White", "23.4 percent Hispanic".
_SHARE = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)\s*(?:%|per ?cent\b)\s*([A-Za-z][a-z-]{3,})\b")
_NAMED_NUMBER = re.compile(r"((?:[A-Z][\w'’-]*\s+){0,3}[A-Z][\w'’-]*)\s*(?:\(|\bof\s+|\bin\s+)?"
                           r"(\d{1,3}(?:,\d{3})+|\d+)(?![\w.,]\d)")
_NOT_COUNTED_NOUN = frozenset({"years", "year", "percent", "million", "billion", "thousand", "hundred", "and",
                               "with", "from", "than", "more", "less", "over", "under", "about", "were", "was",
                               "had", "have", "people", "times", "when", "which", "that", "this", "what"})


@lru_cache(maxsize=1024)
def _anchored(text: str) -> dict[tuple[str, float], str]:
    """``{(anchor, value): the words as written}`` for each number of ``text`` tied to what it
    counts (the word after it) or to a name right before it; anchors folded, nouns stemmed.
    Cached: every claim citing a passage reads the same passage's (the result is not to be changed)."""
    out = {}
    for m in _COUNTED.finditer(text):
        noun = fold(m.group(2))
        if noun not in _NOT_COUNTED_NOUN and not m.group(2)[:1].isupper():
            out[("n:" + stem(noun), float(m.group(1).replace(",", "")))] = m.group(0)
    for m in _SHARE.finditer(text):  # "8.4% Black or African American": a share of a group, named or not
        noun = fold(m.group(2))
        if noun not in _NOT_COUNTED_NOUN:
            out[("n:" + stem(noun), float(m.group(1)))] = m.group(0)
    for m in _NAMED_NUMBER.finditer(text):
        words = [w for w in m.group(1).split() if fold(w) not in _MONTHS and fold(w) not in ("the", "in", "of")]
        if words:
            out[("p:" + fold(" ".join(words[-2:])), float(m.group(2).replace(",", "")))] = (
                f"{m.group(1)} ({m.group(2)})" if "(" in m.group(0) else m.group(0))
    return out


def _unbound(claim: str, passage: str) -> tuple[str, str] | None:
    """``(the claim's words, the passage's)`` when the claim ties a number to a thing (see
    :func:`_anchored`) that the passage ties to another number, and the passage ties the
    claim's number to another thing ("2,200 birds" where the passage gives "2,200 fishes, 1,294
    birds"; "the Taihō Code of 718" where it gives "Taihō Code (701) ... Yōrō Code (718)"); else None."""
    mine, theirs = _anchored(claim), _anchored(passage)
    if not mine or not theirs:
        return None
    for (a, v), said in mine.items():
        values = [(x, w) for (b, x), w in theirs.items() if b == a]
        owners = {b for b, x in theirs if x == v and b[:2] == a[:2]}
        if values and all(x != v for x, _ in values) and owners and a not in owners:
            return said, " and ".join(w for _, w in values)
    return None


_PREPOSITIONS = frozenset({"in", "on", "of", "at", "to", "from", "by", "with", "for", "into", "over", "under", "near"})


def _before_same_words(cw, cl, i1: int, i2: int, right: tuple[str, ...], sents: list) -> tuple | None:
    """For :func:`_substituted`: ``(the claim's name, the passage's, exchanged)`` when the claim's name
    ``cw[i1:i2]`` opens it, followed by ``right`` (three words, one of them a content word), and
    a passage sentence of ``sents`` writes those words after another name and nowhere after the
    claim's; else None."""
    theirs = []
    for pw, pl, p_runs, at in sents:
        ends = {e: st for st, (e, k) in p_runs.items() if k == "name"}
        for j in at.get(right[0], ()):
            if pl[j:j + len(right)] != right:
                continue
            if j not in ends:
                return None  # the same words after no name, or after the claim's own: nothing to say
            st = ends[j]
            if _same_value("name", list(cw[i1:i2]), list(pw[st:j])):
                return None
            before = pl[max(0, st - 2):st]
            if before and (before[-1] in _PREPOSITIONS
                           or (before[-1] == "the" and before[:1] and before[0] in _PREPOSITIONS)):
                return None  # "... on the Moon, hired Golovin": a preposition's object, not who did it
            theirs.append((" ".join(pw[st:j]), all(fold(w) in cl for w in pw[st:j] if w[:1].isupper())
                           and all(fold(w) in pl for w in cw[i1:i2] if w[:1].isupper())))
    # (exchanged when each text has the other's name too)
    return (" ".join(cw[i1:i2]), *theirs[0]) if theirs else None


_PLACE_PREP = r"(?:\w+ )?(?:in|at|near|of|from|on)(?: the)?"


#: Words a count of people is written with, one for another ("3.7 million residents" for "3.7 million
#: people"): no substitution.
_PEOPLE = frozenset({"people", "residents", "inhabitants", "persons", "citizens", "population", "individuals",
                     "locals", "dwellers"})


def _coordinated(low: tuple[str, ...], at: tuple[int, int], other: list[str]) -> bool:
    """The words ``low[at[0]:at[1]]`` and the words ``other`` stand side by side in ``low`` (folded
    words, punctuation gone), nothing but "and", "or", "nor" or "&" between them: two items of one
    list ("Turks and Catholics")."""
    n = len(other)
    for k in (k for k in range(len(low) - n + 1) if list(low[k:k + n]) == other):
        if k >= at[1]:  # after it
            between = low[at[1]:k]
        elif k + n <= at[0]:  # before it
            between = low[k + n:at[0]]
        else:  # overlapping it
            continue
        if len(between) <= 2 and set(between) <= {"and", "or", "nor", "&"}:
            return True
    return False


def _same_stems(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The two word sequences are the same up to their stems (:func:`rag.text.stem`)."""
    return len(a) == len(b) and all(x == y or stem(x) == stem(y) for x, y in zip(a, b))


def _substituted(claim: str, nears: list[str], passage: str | None = None,
                 nouns: frozenset[str] = frozenset()) -> tuple[str, str, bool] | None:
    """``(the claim's words, the passage's, exchanged)`` when the claim writes a value (number, ordinal or
    name) between words that one of ``nears`` (the passage sentences most like it) writes around
    another value of that kind: "the family moved to Magdeburg in 1484" where the sentence says
    "moved to Mansfeld in 1484", "one of three citizen representatives" for "one of four". The
    words around it: two on each side, or three in all with one on a side; at the claim's end, two
    before it. Where a sentence has those words around the claim's own value too, nothing is said
    (the claim may state the other fact), nor where the claim gives the sentence's value as well.
    A common noun (one of ``nouns``, the claim's) that the ``passage`` uses elsewhere, between two
    words on each side that the sentence writes around other lower-case words, counts too ("In
    October 2010, epidemiologists suggested that" where the sentence says "medical geneticists"
    and the passage's epidemiologists are others). ``exchanged`` is True when the claim gives the
    sentence's value elsewhere and the sentence the claim's: the two values swapped. Else None."""
    cw, cl = _aligned(claim)
    sents = [(*_aligned(n), *_indexed(n)) for n in nears]
    for i1, i2, kind in _value_runs(cw, cl, _breaks(claim)):
        found = None
        for nl, nr in ((2, 2), (2, 1), (1, 2), (2, 0), (3, 0), (0, 3)):
            left, right = cl[max(0, i1 - nl):i1], cl[i2:i2 + nr]
            if len(left) < nl or (len(right) < nr and not (i2 == len(cl) and nl == 2)):
                continue
            if (nr == 1 and right == ("s",)) or (nl == 1 and left == ("s",)):
                continue  # a possessive's "s" alone places nothing: "in 2010, Europe's" for "in 2010 BSkyB's"
            if nl == 0:  # the words after it alone: a name that opens the claim ("Lord Cromer was so worried")
                if i1 != 0 or kind != "name" or len(right) < 3 or all(w in _STOP for w in right):
                    continue
                found = _before_same_words(cw, cl, i1, i2, right, sents)
                break
            if nr == 0 and (kind != "name" or not any(k > 0 and cw[k][:1].isupper() for k in range(i1 - nl, i1))
                            or not re.fullmatch(_PLACE_PREP, " ".join(left[1:]))):
                continue  # the words before it alone: a name and a preposition ("Killeshandra in", "Congress
                # Hall in the"), the value being where that named thing is
            spans, plain = [], []
            for pw, pl, p_runs, at in sents:
                for j in sorted({*at.get(left[0], ()), *at.get("~" + stem(left[0]), ())}):
                    if not _same_stems(pl[j:j + len(left)], left):  # "headquarters in" for "headquartered in"
                        continue
                    s = j + len(left)
                    if right:
                        ends = [e for e in range(s + 1, min(s + 5, len(pl) - len(right) + 1))
                                if _same_stems(pl[e:e + len(right)], right)]
                    else:  # the claim's last words: the value the sentence writes after the same words
                        ends = [p_runs[s][0]] if s in p_runs and p_runs[s][1] == kind else []
                        if not ends and s < len(pl):  # or a plain word there ("in the nation" for "in the US")
                            plain.append((pw, pl, p_runs, s, s + 1))
                    spans += [(pw, pl, p_runs, s, e) for e in ends[:1]]
            if not spans:
                continue
            if len(spans) + len(plain) > 1:  # the places whose wider context (six words each side) is most
                # like the claim's
                near_words = set(cl[max(0, i1 - 6):i1]) | set(cl[i2:i2 + 6])
                score = [len(near_words & (set(pl[max(0, s - 6):s]) | set(pl[e:e + 6])))
                         for _, pl, _, s, e in spans + plain]
                if max(score[len(spans):], default=-1) > max(score[:len(spans)]):
                    break  # the claim restates the place with a plain word: it may name it otherwise
                spans = [x for x, k in zip(spans, score) if k == max(score)]
            if any(pw[s:e] == cw[i1:i2] or _same_value(kind, cw[i1:i2], pw[s:e]) for pw, _, _, s, e in spans):
                break
            pw, pl, p_runs, s, e = spans[0]
            theirs = [fold(w) for w in pw[s:e] if kind != "name" or w[:1].isupper()]
            if s in p_runs and p_runs[s][1] == kind and p_runs[s][0] == e:
                mine = [fold(w) for w in cw[i1:i2] if kind != "name" or w[:1].isupper()]
                # the words that differ ("County Waterford", "County Cavan": "waterford", "cavan")
                mine, theirs = ([w for w in mine if w not in theirs] or mine,
                                [w for w in theirs if w not in mine] or theirs)
                if not any(w in cl for w in theirs):
                    found = (" ".join(cw[i1:i2]), " ".join(pw[s:e]), False)
                elif (kind in ("name", "num") and pw is sents[0][0] and all(w in cl for w in theirs)
                      and all(w in pl for w in mine) and not (
                          _coordinated(cl, (i1, i2), theirs) and _coordinated(pl, (s, e), mine))
                      and not (cl[i2:i2 + 1] == ("s",) and list(cl[i2 + 1:i2 + 1 + len(theirs)]) == theirs)):
                    # (in the sentence the claim restates) the claim gives the sentence's value too, and
                    # the sentence the claim's: the two exchanged ("Alceu Ranzi ... and Ondemar Dias with
                    # furthering" for "Ondemar Dias ... and Alceu Ranzi with furthering"), unless both
                    # list the two together in another order ("Catholics and Turks" for "Turks and Catholics"),
                    # or the claim's is the other's owner ("in Warsaw's Victory Square" for "in Victory
                    # Square in Warsaw")
                    found = (" ".join(cw[i1:i2]), " ".join(pw[s:e]), True)
            break
        if found:
            return found
    if passage is None:
        return None
    for i in range(2, len(cl) - 2):  # a common noun the passage uses for something else
        w = cl[i]
        if len(w) < 5 or w not in nouns or cw[i][:1].isupper() or all(w in pl for _, pl, _, _ in sents) or not re.search(
                r"(?<!\w)" + re.escape(w) + r"(?!\w)", _folded(passage)):
            continue
        left, right = cl[i - 2:i], cl[i + 1:i + 3]
        for pw, pl, _, at in sents:
            if w in pl:
                continue
            for j in at.get(left[0], ()):
                if pl[j:j + 2] != left:
                    continue
                for e in (j + 3, j + 4):
                    span = pl[j + 2:e]
                    if pl[e:e + 2] == right and all(x.isalpha() and x[:1].islower() for x in pw[j + 2:e]) and not any(
                            x.startswith(w[:4]) or w.startswith(x[:4]) or stem(x) == stem(w)
                            or (x in _PEOPLE and w in _PEOPLE) for x in span):
                        return cw[i], " ".join(pw[j + 2:e]), False
    return None


#: :func:`_exchanged`: how many words each side of a thing make its context, and how much better
#: (in weight: one over a word's distance) the two contexts must fit when the things change places.
#: Fitted on the calibration halves (articles 00-23): 1.0 removed no true paraphrase or benign
#: reply there once both things are the same part of speech and not verbs.
EXCHANGE_WIDTH = 6
EXCHANGE_MARGIN = 1.0


def _contexts_of(low: tuple[str, ...], at: tuple[int, int], skip: set[int]) -> dict[str, float]:
    """``{stem: weight}`` of the content words within :data:`EXCHANGE_WIDTH` of the span ``at`` of
    ``low`` (words at ``skip`` and sentence bounds "|" aside), each weighing one over its distance."""
    i, j = at
    out: dict[str, float] = {}
    for k in range(max(0, i - EXCHANGE_WIDTH), min(len(low), j + EXCHANGE_WIDTH)):
        w = low[k]
        if i <= k < j or k in skip or w in _STOP or len(w) < 3 or not w.isalpha():
            continue
        d = i - k if k < i else k - j + 1
        s = stem(w)
        out[s] = max(out.get(s, 0.0), 1 / d)
    return out


def _fit(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(min(a[k], b[k]) for k in a.keys() & b.keys())


def _things(words: tuple[str, ...], low: tuple[str, ...], breaks: frozenset[int]) -> dict[str, list[tuple[int, int]]]:
    """``{key: [(start, end), ...]}``: the names (two letters or more; key: their folded words) and
    the lower-case words of five letters or more (or a sentence's capitalised first word that is no
    name), no stop or number words (key: "~" and the stem), of an aligned text (:func:`_aligned`; ``breaks`` from :func:`_breaks`)."""
    out: dict[str, list[tuple[int, int]]] = {}
    used: set[int] = set()
    for i, j, k in _value_runs(words, low, breaks):
        if k == "name" and len("".join(low[i:j])) >= 2:
            out.setdefault(" ".join(low[i:j]), []).append((i, j))
            used.update(range(i, j))
    for i, w in enumerate(low):
        if (i not in used and len(w) >= 5 and w not in _STOP and w.isalpha()
                and (words[i][:1].islower() or i == 0 or low[i - 1] == "|")  # or a sentence's first word
                and w not in _NUMBER_WORDS and w not in _ORDINAL_WORDS):
            out.setdefault("~" + stem(w), []).append((i, i + 1))
    return out


def _exchanged(claim: str, cdoc, nears: list[str]) -> tuple[str, str] | None:
    """``(one thing, another)`` the claim (``cdoc`` its parse) has changed places: each stands
    where the two passage sentences most like it (``nears``) put the other, their contexts (the
    words around each, :func:`_contexts_of`) fitting better by :data:`EXCHANGE_MARGIN` when swapped
    and each better than in place ("Talia Shire's husband, Francis Ford Coppola ... her brother,
    Jack Schwartzman" for "Shire's brother, Francis Ford Coppola ... Shire's husband, Jack
    Schwartzman"; "packet switching is charged per unit of time, while circuit switching ..." for
    the reverse). Things: names, or two lower-case words of one part of speech other than a verb,
    each once in the claim and at most three times in the sentences; else None."""
    cw, cl = _aligned(claim)
    pw: tuple[str, ...] = ()
    pl: tuple[str, ...] = ()
    p_breaks: set[int] = set()
    for n in nears[:2]:
        w, low = _aligned(n)
        p_breaks |= {len(pw) + b for b in _breaks(n)}
        pw, pl = pw + w + ("|",), pl + low + ("|",)
    pos = {t.lower_: t.pos_ for t in cdoc}
    mine, theirs = _things(cw, cl, _breaks(claim)), _things(pw, pl, frozenset(p_breaks))
    common = [k for k, at in mine.items() if len(at) == 1 and 1 <= len(theirs.get(k, ())) <= 3]
    for x, a in enumerate(common):
        for b in common[x + 1:]:
            tag_a, tag_b = pos.get(cl[mine[a][0][0]]), pos.get(cl[mine[b][0][0]])
            if (a[0] == "~") != (b[0] == "~") or (a[0] == "~" and (tag_a != tag_b or tag_a == "VERB")):
                continue  # a name and a word, a noun and a verb, or two verbs (a paraphrase reorders its
                # clauses: "found that 9 of the 12 they tested" for "tested 12 and found that 9")
            skip_c = set(range(*mine[a][0])) | set(range(*mine[b][0]))
            skip_p = {k for i, j in theirs[a] + theirs[b] for k in range(i, j)}
            ca, cb = _contexts_of(cl, mine[a][0], skip_c), _contexts_of(cl, mine[b][0], skip_c)
            pa = [_contexts_of(pl, at, skip_p) for at in theirs[a]]
            pb = [_contexts_of(pl, at, skip_p) for at in theirs[b]]
            aa, ab = max(_fit(ca, p) for p in pa), max(_fit(ca, p) for p in pb)
            bb, ba = max(_fit(cb, p) for p in pb), max(_fit(cb, p) for p in pa)
            if ab + ba >= aa + bb + EXCHANGE_MARGIN and ab > aa and ba > bb:
                return " ".join(cw[slice(*mine[a][0])]), " ".join(cw[slice(*mine[b][0])])
    return None


#: Prepositions and adverbs the tagger may call a proper noun when they open a sentence ("Outside
#: Europe, ..."); spaCy's stop words are added in :func:`_function_word`.
_OPENERS = frozenset({"outside", "inside", "despite", "unlike", "during", "following", "according", "within",
                      "throughout", "among", "amid", "along", "behind", "below", "beneath", "beside", "near",
                      "toward", "towards", "upon", "via", "like", "aside", "apart", "instead", "today",
                      "meanwhile", "initially", "originally", "eventually", "ultimately", "historically"})


def _function_word(word: str) -> bool:
    """``word`` (lower case) is a preposition, adverb or other function word, never a name alone."""
    from spacy.lang.en.stop_words import STOP_WORDS  # lazy: with the pipeline that needs it

    return word in _OPENERS or word in STOP_WORDS


#: Where a list of named items starts: after a colon, or "include", "including", "such as".
_LIST_START = re.compile(r"[:;]|\b(?:includ\w*|such as|among them)\b", re.I)


def _listed_attribute(claim: str, nearest: str) -> tuple[str, str, str] | None:
    """``(the claim's name, the words it borrows, the name they describe)`` when ``nearest`` (the
    passage sentence most like the claim) lists three or more named items, each its description and
    then its name ("engineer and inventor of the steam turbine Sir Charles Parsons, inventor of the
    incandescent light bulb Sir Joseph Swan, ..."), and the claim gives one item's name two or more
    content words of another item's description that its own lacks ("Sir Charles Parsons ...
    invented the incandescent light bulb"). Else None."""
    start = _LIST_START.search(nearest)
    if not start:
        return None
    items = []
    for part in re.split(r"[,;]", nearest[start.end():]):
        words, low = _aligned(part)
        runs = [(i, j) for i, j, k in _value_runs(words, low, _breaks(part)) if k == "name"]
        if not runs or runs[-1][1] != len(words):
            continue
        i = runs[-1][0]
        for a, b in reversed(runs[:-1]):  # "Lothar von Arnauld de la Perière": particles join a name
            if all(w in _NAME_PARTICLES for w in low[b:i]):
                i = a
            else:
                break
        if len(words) - i < 2:
            continue  # an item that ends in a name of two words or more
        items.append((" ".join(words[i:]), [(stem(low[k]), words[k]) for k in range(i)
                                             if len(low[k]) >= 4 and low[k] not in _STOP]))
    if len(items) < 3:
        return None
    cw, cl = _aligned(claim)
    hay = " " + " ".join(cw) + " "
    mine = [x for x in items if f" {x[0]} " in hay]
    if len(mine) != 1:
        return None
    name, own = mine[0]
    named = {stem(w) for w in fold(name).split()}
    stems = {stem(w) for w in cl if len(w) >= 4 and w not in _STOP} - {st for st, _ in own} - named
    for other, words in items:
        borrowed = stems & {st for st, _ in words}
        if other != name and len(borrowed) >= 2 and f" {other} " not in hay:
            return name, " ".join(w for st, w in words if st in borrowed), other
    return None


def _misbound(claim: str, nearest: str) -> tuple[str, str] | None:
    """``(the claim's words, the passage's)`` when the passage sentence most like the claim
    (``nearest``) ties another ordinal to the thing the claim ranks ("the second Doctor
    Who serial" for "the first ...", the claim's "first" being elsewhere in the passage), and never
    the claim's own; else None."""
    theirs = _counted(nearest)
    for val, thing, said in _counted(claim):
        same = [w for v, t, w in theirs if t == thing and v[0] == val[0]]
        if same and not any(v == val and t == thing for v, t, _ in theirs):
            other = next(w for v, t, w in theirs if t == thing and v[0] == val[0] and v != val)
            return said, other
    return None


_RANKED = re.compile(r"\bthe ((?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))[ -]"
                     r"((?:most|least) [a-z]+|[a-z]+est) ([a-z]+))")


def _unranked(claim: str, nearest: str) -> tuple[str, str] | None:
    """``(the claim's words, the passage's)`` when the claim calls a thing the superlative ("the
    most common component") that the passage sentence most like it (``nearest``) ranks lower
    ("the second most common component"); else None."""
    low = fold(claim)
    for m in _RANKED.finditer(fold(nearest)):
        mine = re.search(r"\bthe (" + re.escape(m.group(2)) + " " + re.escape(m.group(3)) + r")\b", low)
        if mine:
            return "the " + mine.group(1), "the " + m.group(1)
    return None


_FRACTION = re.compile(r"\b(?:(a|an|one|two|three|four)[ -])?(half|halves|thirds?|quarters?|fifths?|tenths?)(?= of\b)"
                       r"|\b(one|two|three|four)-(half|thirds?|quarters?|fifths?|tenths?)\b")  # "one-third pressure"
_FRACTION_OF = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5,
                "tenth": 10, "tenths": 10}


def _fractions(text: str) -> dict[float, tuple[str, int, int]]:
    """``{value: (words, numerator, denominator)}`` of the fractions of ``text`` ("almost a third
    of" -> {0.333: ("a third", 1, 3)})."""
    out = {}
    for m in _FRACTION.finditer(fold(text)):
        k = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}.get(m.group(1) or m.group(3) or "a", 1)
        den = _FRACTION_OF[m.group(2) or m.group(4)]
        out[round(k / den, 3)] = (m.group(0), k, den)
    return out


def _other_fraction(claim: str, nearest: str, passage: str) -> tuple[str, str] | None:
    """``(the claim's fraction, the passage's)`` when the claim gives a fraction ("almost half of its
    population") where the passage sentence most like it (``nearest``) gives another ("almost a third
    of") and the passage neither gives the claim's fraction nor a percentage within five points
    of it; else None."""
    mine = _fractions(claim)
    theirs = [words for words, _, _ in _fractions(nearest).values()] + [
        m.group(0) for m in _SLASHED.finditer(nearest)]  # or in figures ("1⁄3")
    if not mine or not theirs:
        return None
    for v, (said, _, _) in mine.items():
        if not _fraction_given(v, passage):
            return said, " or ".join(theirs)
    return None


def _fraction_given(v: float, passage: str) -> bool:
    """The passage gives the fraction ``v``: in words, in figures ("1⁄3", "1/3"), or as a percentage
    within five points."""
    return v in _fractions(passage) or any(abs(p - 100 * v) <= 5 for p in _percentages(passage)) or any(
        int(b) and abs(int(a) / int(b) - v) < 0.005 for a, b in _SLASHED.findall(passage))


_SLASHED = re.compile(r"(?<![\d/⁄])(\d{1,2})\s*[/⁄]\s*(\d{1,2})(?![\d/⁄])")


def _show(d: tuple) -> str:
    y, m, day = d
    name = _MONTH_NAMES[m - 1]
    return " ".join(x for x in (str(day) if day else "", name, str(y) if y else "") if x)


_AUX = {"do", "does", "did", "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would",
        "can", "could", "should", "may", "might", "must", "the", "a", "an", "to", "any", "longer", "yet", "ever",
        "also", "even", "always"}


#: "not ... until" says when, not whether ("was not arrested until May" = "was arrested only in May");
#: bounds, "with or without" and "not only" / "not least" deny nothing either.
_NOT_UNTIL = re.compile(r"(?:\bnot\b|\bnever\b|n['’]t\b)(?=[^.;!?]{0,60}\buntil\b)"
                        # a bound, not a denial: "no more than 0.2 people", "not later than 1950"
                        r"|\bno(?:t)?(?= (?:more|fewer|less|later|earlier|greater|higher|lower|larger|smaller|"
                        r"older|younger|longer|shorter) than\b)"
                        # either way, no denial: "implemented with or without intermediate nodes"
                        r"|(?<=\bwith or )without\b"
                        # adding, not denying: "not only the work of British artists (but also ...)",
                        # "surprised many, not least Melanchthon"
                        r"|\bnot(?= (?:only|just|merely|least)\b)", re.I)


@lru_cache(maxsize=4096)
def _affirmed(text: str) -> str:
    """``text`` without the negations that do not deny (:data:`_NOT_UNTIL`: "not ... until", "no
    more than", "with or without", "not only"); cached, as every check reads each passage sentence's."""
    return _NOT_UNTIL.sub(" ", text)


#: A name right before a negation, as its subject: "Norway did not", "Norway failed to", "the UK
#: again refused to".
_NAMED_BEFORE = re.compile(r"\b([A-Z][\w'’-]+)(?:\s+(?:did|does|do|has|have|had|was|were|is|are|again|also|still|"
                           r"then|later|eventually|finally))*\s*$")


_EXCEPT = re.compile(r"\b(?:except(?: for)?|but not|other than|apart from|save for)\s+((?:the\s+)?[\w.'’-]+)")


def _others_denied(sentence: str, claim: str, absent: bool = True) -> str:
    """``sentence`` without the negations whose subject is a name the ``claim`` does not give
    ("though Norway did not end up joining" says nothing of a claim that Croatia joined), or one
    it excepts ("The UK refused to sign" agrees with "all signed it except the UK"); with
    ``absent`` False, or a claim about every or all of something, only the latter."""
    hay = _folded(claim)
    if absent and re.search(r"\b(?:every|all|each|both|any)\b", hay):
        absent = False  # "every member signed": another member's refusal denies it
    # a name the claim excepts ("every member signed it except the UK") is one it denies too
    excepted = " ".join(m.group(1) for m in _EXCEPT.finditer(hay))
    out, last = [], 0
    for m in _NEGATION.finditer(sentence):
        before = _NAMED_BEFORE.search(sentence[max(0, m.start() - 60):m.start()])
        if before and before.group(1).lower() not in _AUX and (
                (absent and not _named_in(before.group(1), hay)) or _named_in(before.group(1), excepted)):
            out.append(sentence[last:m.start()] + " " * (m.end() - m.start()))
            last = m.end()
    return "".join(out) + sentence[last:]


_DIFFER = re.compile(r"\b(?:differs?|differed|different|unequal|distinct)\b", re.I)
_NOT_EQUAL = re.compile(r"\b(?:is|are|was|were|be)\s+not\s+(?=(?:equal|identical|the same)\b)", re.I)


def _clause(sentence: str, claim: str) -> str:
    """The part of ``sentence`` between semicolons that shares most words with ``claim`` (the whole
    sentence when it has no semicolon): "Faults are younger than the rocks they cut; accordingly,
    ... are not cut ..." restates the claim in its first part alone."""
    parts = [p for p in sentence.split(";") if p.strip()]
    if len(parts) < 2:
        return sentence
    words = set(_WORD.findall(fold(claim)))
    return max(parts, key=lambda p: len(words & set(_WORD.findall(fold(p)))))


def _unequal(sentence: str, claim: str) -> str:
    """``sentence`` with "is not equal to" read as the claim's "differs from" when the claim says
    two things differ (no denial of it: "If P is not equal to NP" for "P differs from NP")."""
    return _NOT_EQUAL.sub("is ", sentence) if _DIFFER.search(claim) else sentence


#: A contrast that denies what follows it: "stemmed from the belief ... rather than from
#: conceptions of a master race" = "did not come from ideas of a master race".
_CONTRAST = re.compile(r"\b(?:rather than|instead of|as opposed to)\b", re.I)


def _contrasted(claim: str, sentence: str) -> bool:
    """``sentence`` denies by a contrast (:data:`_CONTRAST`) what ``claim`` denies: the words
    after one of the claim's negations and those after the contrast, each up to its clause's end
    (:data:`_CLAUSE_END`), share two words in a row, one of them a content word of four letters
    or more ("not the network itself" and "rather than the network itself")."""
    def after(text: str, at: int, n: int) -> list[str]:
        rest = text[at:at + 80]
        end = _CLAUSE_END.search(rest)
        return _WORD.findall(fold(rest[:end.start()] if end else rest))[:n]

    theirs = [after(sentence, m.end(), 10) for m in _CONTRAST.finditer(sentence)]
    if not theirs:
        return False
    pairs = {(a, b) for ws in theirs for a, b in zip(ws, ws[1:])
             if any(len(w) >= 4 and w not in _STOP for w in (a, b))}
    text = _affirmed(claim)
    return any(set(zip(ws, ws[1:])) & pairs for ws in (after(text, m.end(), 8) for m in _NEGATION.finditer(text)))


def _negated_words(claim: str, first: bool = False) -> set[str]:
    """Stems of the two words right after each negation in ``claim``, auxiliaries and the like
    skipped ("did not play in" -> {"play", "in"}), within its clause (:data:`_CLAUSE_END`); with
    ``first``, only the first of them that has three letters or more (the verb it denies: "hasn't
    yet cut its" -> {"cut"})."""
    out = set()
    claim = _affirmed(claim)
    for m in _NEGATION.finditer(claim):
        rest = claim[m.end():m.end() + 60]
        end = _CLAUSE_END.search(rest)  # "not to be in P, yet algorithms ...": not "algorithms"
        words = [w for w in _WORD.findall(fold(rest[:end.start()] if end else rest)) if w not in _AUX]
        words = [w for w in words if len(w) >= 3][:1] if first else words[:2]
        out |= {stem(w) for w in words}
    return out


#: A verb whose object "no" denies ("contain no radioactive isotopes" = "do not contain ...").
_BEFORE_NO = re.compile(r"\b([a-z]{3,})\s+(?:no|none of)\b(?! longer\b)")


def _denied_only(sentence: str, stems: set[str], claim: str) -> set[str]:
    """The ``stems`` (from :func:`_negated_words` of ``sentence``) that the ``claim`` restates from a
    negation's reach: a word the sentence also states plainly counts only where the content words
    within four of it in the claim are nearer a denied place than a plain one (each weighing one
    over its distance there; a tie goes to the plain place): in "steam turbines with reduction
    gearing (although ... with no reduction gearbox)", "turbines with reduction gearing" restates
    the plain one."""
    if not stems:
        return stems
    text = _affirmed(sentence)
    spans = [(m.start(), fold(m.group(0))) for m in _WORD_SPAN.finditer(text)]
    denied_at: set[int] = set()
    for m in _NEGATION.finditer(text):
        after = [i for i, (a, w) in enumerate(spans) if a >= m.end() and w not in _AUX][:2]
        denied_at.update(after)
    low = [stem(w) for _, w in spans]
    cl = [stem(w) for w in _WORD.findall(fold(claim))]
    out = set()
    for w in stems:
        places = [i for i, x in enumerate(low) if x == w]
        if all(i in denied_at for i in places):
            out.add(w)
            continue
        if w not in cl:
            continue
        k = cl.index(w)
        mine = {x for x in cl[max(0, k - 4):k] + cl[k + 1:k + 5] if x not in _STOP and len(x) >= 3}
        score = {i: sum(1 / abs(j - i) for j in range(max(0, i - 4), min(len(low), i + 5))
                        if j != i and low[j] in mine) for i in places}
        best = max(score.values())
        if all(i in denied_at for i in places if score[i] == best):
            out.add(w)
    return out


_WORD_SPAN = re.compile(r"[a-z]+", re.I)


def _denials(sentence: str, clause: bool = False) -> list[tuple[str, ...]]:
    """For each negation of ``sentence``, the stems of the three words of three letters or more
    after it (within 80 characters, and before a modal that follows a denied word:
    :data:`_NEXT_MODAL`), auxiliaries skipped ("does not carry out research nor ..." ->
    [("carry", "out", "research")]); with ``clause``, only those before its clause ends
    (:data:`_CLAUSE_END`)."""
    text = _affirmed(sentence)
    out = []
    for m in _NEGATION.finditer(text):
        rest = text[m.end():m.end() + 80]
        modal = _NEXT_MODAL.search(rest)  # "the ones that are not cut must be younger": the denial is "cut"
        if modal and any(w not in _AUX and len(w) >= 3 for w in _WORD.findall(fold(rest[:modal.start()]))):
            rest = rest[:modal.start()]
        end = _CLAUSE_END.search(rest) if clause else None
        words = [w for w in _WORD.findall(fold(rest[:end.start()] if end else rest)) if w not in _AUX and len(w) >= 3]
        out.append(tuple(stem(w) for w in words[:3]))
    return out


#: A modal that opens another predicate after a denied word ("not cut must be younger").
_NEXT_MODAL = re.compile(r"\b(?:must|can|could|will|would|should|may|might|shall)\b", re.I)
#: Where a negation's reach ends: a clause's punctuation or a contrasting conjunction.
_CLAUSE_END = re.compile(r"[,;:]|\b(?:but|while|whereas|although|though)\b", re.I)


#: Words that state the opposite of each other (verbs by lemma, adjectives as written): a claim
#: with one where one of the two passage sentences most like it has the other (and no negation)
#: says the opposite ("the referendum succeeded" for "failed", "accepted" for "rejected").
ANTONYMS = (("accept", "reject"), ("approve", "reject"), ("succeed", "fail"), ("win", "lose"),
            ("rise", "fall"), ("increase", "decrease"), ("allow", "forbid"), ("allow", "ban"), ("permit", "forbid"),
            ("permit", "ban"), ("support", "oppose"), ("include", "exclude"), ("agree", "disagree"),
            ("confirm", "deny"), ("acquit", "convict"), ("legal", "illegal"), ("strengthen", "weaken"),
            ("expand", "shrink"), ("open", "close"), ("gain", "lose"), ("possible", "impossible"),
            ("practical", "impractical"), ("able", "unable"), ("likely", "unlikely"), ("survive", "die"),
            ("adopt", "reject"), ("adopt", "abandon"), ("more", "less"), ("most", "least"), ("higher", "lower"),
            ("larger", "smaller"), ("bigger", "smaller"), ("increase", "reduce"), ("raise", "lower"),
            ("launch", "drop"), ("launch", "discontinue"), ("add", "remove"), ("import", "export"),
            ("majority", "minority"), ("victory", "defeat"), ("success", "failure"), ("common", "rare"),
            ("strong", "weak"), ("public", "private"), ("urban", "rural"), ("join", "leave"), ("arrive", "depart"),
            ("maximum", "minimum"), ("positive", "negative"), ("richer", "poorer"), ("cheaper", "dearer"),
            ("carry", "reject"), ("pass", "reject"), ("agree", "refuse"), ("accept", "refuse"),
            ("advantage", "drawback"), ("advantage", "disadvantage"), ("benefit", "drawback"),
            ("begin", "stop"), ("start", "stop"), ("begin", "cease"), ("start", "cease"),
            ("large", "small"), ("largest", "smallest"), ("biggest", "smallest"), ("big", "small"),
            ("highest", "lowest"), ("high", "low"), ("fast", "slow"), ("faster", "slower"),
            ("fastest", "slowest"), ("early", "late"), ("earlier", "later"), ("earliest", "latest"),
            ("oldest", "youngest"), ("older", "younger"), ("long", "short"), ("long", "brief"),
            ("longest", "shortest"), ("longer", "shorter"),
            ("correct", "incorrect"), ("right", "wrong"), ("correct", "wrong"), ("right", "incorrect"),
            ("north", "south"), ("east", "west"), ("northern", "southern"), ("eastern", "western"),
            ("northeast", "southeast"), ("northwest", "southwest"), ("northeast", "northwest"),
            ("southeast", "southwest"), ("northeastern", "southeastern"), ("northwestern", "southwestern"),
            ("northeastern", "northwestern"), ("southeastern", "southwestern"),
            ("encourage", "discourage"), ("encourage", "deter"), ("like", "dislike"), ("trust", "distrust"),
            ("endothermic", "exothermic"), ("before", "after"))
#: Pairs of :data:`ANTONYMS` that relate two things: opposites only about the same second thing
#: (:func:`_same_object`).
_RELATIONS = frozenset({"before", "after"})


_OPPOSITE_WORDS = frozenset(w for pair in ANTONYMS for w in pair)
#: ``{word: [(rank, word, its opposite), ...]}``: the pairs of :data:`ANTONYMS` that a word of a
#: claim opens, ranked in the order :func:`_antonym` tries them (so only a claim's own words are tried).
_OPENED_PAIRS: dict[str, list[tuple[int, str, str]]] = {}
for _n, (_a, _b) in enumerate(ANTONYMS):
    _OPENED_PAIRS.setdefault(_a, []).append((2 * _n, _a, _b))
    _OPENED_PAIRS.setdefault(_b, []).append((2 * _n + 1, _b, _a))
#: Words of :data:`ANTONYMS` that mean the same: a passage with "incorrect ... but ... correct" has
#: the claim's "right" as "correct", so "incorrect" is no opposite of it.
_SYNONYM = {"right": "correct", "correct": "right", "wrong": "incorrect", "incorrect": "wrong"}


#: An adjective that denies its subject: "where water power was unavailable" = "where there was no
#: water power".
_ABSENT = re.compile(r"\b(?:was|were|is|are|be|been|remains?|remained)\s+(?:unavailable|absent|missing|unknown|"
                     r"lacking|nonexistent|non-existent)\b", re.I)


_QUANTIFIERS = frozenset({"all", "every", "both", "each", "any", "only", "many", "most", "much"})


def _absent_words(sentence: str) -> set[str]:
    """Stems of the two words before each :data:`_ABSENT` of ``sentence`` (its subject: "water
    power was unavailable" -> {"water", "power"}), auxiliaries and short words skipped."""
    out = set()
    for m in _ABSENT.finditer(sentence):
        before = [w for w in _WORD.findall(fold(sentence[max(0, m.start() - 60):m.start()]))
                  if w not in _AUX and len(w) >= 3]
        out |= {stem(w) for w in before[-2:]}
    return out


def _bases(stems: set[str]) -> set[str]:
    """``stems`` with the base of each irregular verb form among them (spaCy's verb exceptions):
    "it is not known" denies what "nobody knows" does ({"known"} -> {"known", "know"})."""
    exc = _verb_exceptions()
    return stems | {stem(b) for w in stems for b in exc.get(w, ())}


@lru_cache(maxsize=1)
def _verb_exceptions() -> dict:
    """spaCy's irregular verb forms: ``{"known": ["know"], ...}``."""
    return pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_exc").get("verb", {})


def _reach(sentence: str) -> set[str]:
    """The stems of the words a negation of ``sentence`` denies within its clause
    (:func:`_denials`): "should not be an EU competence, but was rejected": "competence", not
    "rejected"."""
    return {w for d in _denials(sentence, clause=True) for w in d}


def _antonym(cdoc, nearest: str, agrees: str = "") -> tuple[str, str] | None:
    """``(the claim's word, the passage's opposite)`` when the claim (``cdoc``) uses a word of
    :data:`ANTONYMS` more often than ``nearest`` (the passage sentence most like it) does, and the
    sentence uses the other more often than the claim, neither in a negation's reach (the three
    words after it: "did not reject" is no opposite of "accepted"); else None."""
    mine_all = [(t.lower_, x) for t in cdoc
                for x in {t.lower_, *((_lemma(t),) if t.pos_ in ("VERB", "ADJ", "AUX") else ())}
                if x in _OPPOSITE_WORDS]
    if not mine_all:
        return None
    denied = _reach(nearest) | _reach(cdoc.text)
    mine = Counter(x for w, x in mine_all if stem(w) not in denied)
    near = re.sub(r"\bclose(?= to\b)", " ", nearest.lower().replace("’", "'"))  # "close to Puigcerdà": near
    theirs = Counter(x for w in _TOKEN.findall(near) for x in {w, *_lemmas(w)}
                     if x in _OPPOSITE_WORDS and stem(w) not in denied)
    for _, x, y in sorted(r for w in mine for r in _OPENED_PAIRS[w]):  # as ANTONYMS lists them
        # more often in the claim, its opposite more often in the passage ("the more it is logged,
        # the more rain" where the passage says "the more ..., the less rain")
        if mine[x] > theirs[x] and theirs[y] > mine[y] and not theirs[_SYNONYM.get(x, "")] and not (
                agrees and re.search(r"\b" + x + r"\b", agrees.lower())) and (
                x not in _RELATIONS or _same_object(cdoc.text, x, nearest, y)):
            return x, y  # (unless the sentence the claim restates, ``agrees``, has the claim's word)
    return None


def _same_object(claim: str, x: str, sentence: str, y: str) -> bool:
    """The first content word after ``x`` in ``claim`` and after ``y`` in ``sentence`` have one
    stem: "after the Reformation" and "before the Reformation" are opposites; "the palace was
    finished after the temple" restates "the temple was finished before the palace"."""
    def first(text: str, w: str) -> str | None:
        m = re.search(r"\b" + w + r"\b(.{0,60})", fold(text))
        words = [v for v in _WORD.findall(m.group(1)) if v not in _STOP and len(v) >= 3] if m else []
        return stem(words[0]) if words else None

    a = first(claim, x)
    return a is not None and a == first(sentence, y)


#: Negative prefixes: "dis", "un", "non" of any word ("disapproved" for "approved", "unpopular"),
#: "in", "im", "il", "ir" of adjectives only ("incorrect", "illegal"; not "inform", "import").
_NEG_PREFIX = ("dis", "un", "non")
_ADJ_PREFIX = ("in", "im", "il", "ir")
#: Bases whose prefixed word is no opposite: discover, display, dispose, disclose, discount ...
_NOT_OPPOSED = frozenset({"cover", "play", "pos", "charg", "miss", "patch", "tract", "clos", "count", "cours",
                          "pens", "solv", "card", "grac", "eas", "turb", "sect", "put", "cuss", "tinct",
                          "trict", "band", "arm", "mantl", "tribut", "posit", "pers", "sent", "ting"})


def _prefixed(cdoc, nearest: str) -> tuple[str, str] | None:
    """``(the claim's word, the passage's opposite)`` when one of the two has a word that is the
    other's word with a negative prefix (:data:`_NEG_PREFIX`, and :data:`_ADJ_PREFIX` for an
    adjective): "approved" where ``nearest`` has "disapproved", "consistent" for "inconsistent".
    Neither may have the other's form too, nor have it in a negation's reach ("not unlike"); the
    base has four letters or more and is not one of :data:`_NOT_OPPOSED`. Else None."""
    ndoc = _doc(nearest)
    denied = _reach(nearest) | _reach(cdoc.text)

    def words(doc):
        return {stem(t.lower_): (t.text, t.pos_) for t in doc if t.is_alpha and len(t) >= 4}

    mine, theirs = words(cdoc), words(ndoc)
    for a, b, flip in ((mine, theirs, False), (theirs, mine, True)):
        for w, (text, pos) in a.items():
            if w in b or w in denied:
                continue
            for p in _NEG_PREFIX + (_ADJ_PREFIX if pos == "ADJ" else ()):
                base = w[len(p):].lstrip("-")
                if (w.startswith(p) and len(base) >= 4 and base not in _NOT_OPPOSED and base in b
                        and base not in a and base not in denied):
                    other = b[base][0]
                    return (other, text) if flip else (text, other)
    return None


def split_passage(passage: str) -> list[str]:
    """The sentences of ``passage``."""
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
_triples: dict[str, list] = {}  # claim text -> its role frames (cleared with _docs)
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
        _triples.clear()
    for t, d in zip(todo, pipeline().pipe(todo, disable=["lemmatizer"])):
        _docs[t] = d


def _lemma(tok) -> str:
    """``tok``'s lemma, lower case. The docs of :func:`prepare` skip the lemmatizer (its Python
    loop over every token was a sixth of the check's time): the lemma the attribute rules set, or
    else spaCy's rule lemmatizer for this one token (the same as the full pipeline gives)."""
    if tok.lemma_:
        return tok.lemma_.lower()
    return _rule_lemma(tok.doc, tok.i).lower()


def _rule_lemma(doc, i: int) -> str:
    tok = doc[i]
    key = (tok.orth, tok.pos, str(tok.morph))
    found = _lemma_cache.get(key)
    if found is None:
        if len(_lemma_cache) > 65536:
            _lemma_cache.clear()
        found = _lemma_cache[key] = pipeline().get_pipe("lemmatizer").rule_lemmatize(tok)[0]
    return found


_lemma_cache: dict[tuple, str] = {}


def needs_roles(claim: str) -> bool:
    """True when ``claim`` gives a verb two roles (who acted and on whom, or to, from or with
    whom): its roles must then be checked against the passage's parse."""
    return bool(_claim_frames(claim))


def _claim_frames(claim: str) -> list[tuple[str, dict[str, frozenset]]]:
    """The :func:`frames` of ``claim`` (no title) with an actor and a patient, or two roles that
    name someone, once per claim text (cached with its doc)."""
    found = _triples.get(claim)
    if found is None:
        names = {_key(fold(w)) for w in re.findall(r"\b[A-Z][\w'’-]*", claim)}

        def named(keys):
            return any(k.split()[0] in names for k in keys if k)

        # actor and patient, or two roles that name someone ("replaced Taipei with Beijing"):
        # two common nouns in prepositions ("officials involved in corruption") have no swap
        # worth a passage parse
        found = _triples[claim] = [(v, r) for v, r in frames(_doc(claim)) if len(r) >= 2 and (
            ("actor" in r and "patient" in r) or sum(named(x) for x in r.values()) >= 2)]
    return found


def clear_caches() -> None:
    """Forget every spaCy doc, triple and folded text kept so far."""
    _docs.clear()
    _triples.clear()
    _folded.cache_clear()
    _spans.cache_clear()
    _aligned.cache_clear()
    _breaks.cache_clear()
    _indexed.cache_clear()
    _anchored.cache_clear()
    _affirmed.cache_clear()


def role_sentences(claim: str, sentences: list[str]) -> list[str]:
    """Those of ``sentences`` (passage sentences) whose parse can bear on ``claim``'s roles: the
    ones with a word that may be a form of a verb of the claim's who-did-what-to-whom (the role
    check compares only the same verb), found without parsing them; ``[]`` when the claim states
    no roles. A word's possible lemmas are every form the spaCy lemmatizer's own tables could give
    it (exceptions, suffix rules, the attribute rules' lemmas), so no sentence the check would
    use is left out."""
    verbs = {v for v, _ in _claim_frames(claim)}
    if not verbs:
        return []
    return [x for x in sentences if any(_lemmas(w) & verbs for w in _TOKEN.findall(x.lower().replace("’", "'")))]


@lru_cache(maxsize=65536)
def _lemmas(word: str) -> frozenset[str]:
    """Every lemma spaCy's rule lemmatizer (or an attribute rule) could give ``word`` as a verb."""
    nlp = pipeline()
    tables = nlp.get_pipe("lemmatizer").lookups
    out = {word, *tables.get_table("lemma_exc").get("verb", {}).get(word, [])}
    out |= {word[: len(word) - len(old)] + new for old, new in tables.get_table("lemma_rules").get("verb", [])
            if word.endswith(old) and len(word) > len(old)}
    ruler = nlp.get_pipe("tag_attributes") if "tag_attributes" in nlp.pipe_names else None
    if ruler is not None:
        out |= {attrs["LEMMA"] for (_, low), (_, attrs) in ruler.rules.items() if low == word and "LEMMA" in attrs}
    return frozenset(out)


@lru_cache(maxsize=1024)
def _folded(text: str) -> str:
    return fold(text)


def _fmt(x: float, written: str = "") -> str:
    """``x`` as ``written`` (the claim) writes it in digits ("9,000"), else plainly ("9000")."""
    for m in _NUM.finditer(written):
        if float(m.group(1).replace(",", "")) == x:
            return m.group(1)
    return str(int(x)) if x == int(x) else str(x)


#: Short forms a passage may spell out (or the other way round).
_ALIASES = {"us": "united states", "u.s": "united states", "usa": "united states", "america": "united states",
            "american": "united states", "uk": "united kingdom", "u.k": "united kingdom", "britain": "united kingdom",
            "british": "united kingdom", "english": "england", "un": "united nations", "eu": "european union",
            "nyc": "new york city", "ussr": "soviet union", "soviet": "soviet union"}
#: Countries a short form also covers (a "UK singer" may be called English or British).
_ALSO = {"united kingdom": ("britain", "british", "england", "english", "scotland", "scottish", "wales",
                            "welsh", "uk"), "united states": ("american", "america", "us")}


def _acronym_in(name: str, text: str) -> bool:
    """``name`` is an acronym (3 to 6 capitals, "&" and dots aside) of capitalised words ``text``
    (as written) has in a row, "of", "and", "the", "for" and "&" skipped ("UCL": "University
    College London"; "V&A": "Victoria and Albert"), or, with four letters or more, of words in any
    case listed with commas ("LGBT": "lesbian, gay, bisexual and transgender")."""
    letters = re.sub(r"[&.]", "", name)
    if not ((3 if "&" not in name else 2) <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    words = r"\s+(?:(?:of|and|the|for|&)\s+)*".join(c + r"[a-z'’-]+" for c in letters)
    if re.search(r"(?<!\w)" + words + r"(?!\w)", text):
        return True
    if len(letters) < 4:
        return False  # four or more: lower-case words listed ("lesbian, gay, bisexual and transgender")
    words = r",?\s+(?:(?:of|and|or|the|for|&)\s+)*".join(f"[{c}{c.lower()}]" + r"[a-z'’]+" for c in letters)
    return bool(re.search(r"(?<!\w)" + words + r"(?!\w)", text))


def _expansion_in(tok, text: str) -> bool:
    """``tok`` (a capitalised word of a parsed claim) is one of two to six capitalised words in a
    row ("of", "and", "the", "for" between them skipped) whose initials ``text`` (as written) gives
    as an acronym: "Major League Baseball" where the passage writes "MLB" (the reverse of
    :func:`_acronym_in`)."""
    doc, skip = tok.doc, {"of", "and", "the", "for", "&"}
    lo = hi = tok.i
    while lo > 0 and (doc[lo - 1].text[:1].isupper() or (doc[lo - 1].lower_ in skip and lo - 1 > 0
                                                        and doc[lo - 2].text[:1].isupper())):
        lo -= 1
    while hi + 1 < len(doc) and (doc[hi + 1].text[:1].isupper() or (doc[hi + 1].lower_ in skip and hi + 2 < len(doc)
                                                                   and doc[hi + 2].text[:1].isupper())):
        hi += 1
    caps = [(t.i, t.text[0]) for t in doc[lo:hi + 1] if t.lower_ not in skip]
    for a in range(len(caps)):
        for b in range(a + 2, min(len(caps), a + 6) + 1):
            if caps[a][0] <= tok.i <= caps[b - 1][0] and re.search(
                    r"(?<![\w&])" + "".join(c for _, c in caps[a:b]) + r"(?![\w&])", text):
                return True
    return False


#: Endings a people, its adjective and its place may differ by (see :func:`_named_in`).
_NAME_ENDINGS = ("ians", "ian", "ans", "an", "ese", "ish", "ites", "ite", "es", "e", "s", "a", "y")


def _named_in(name: str, haystack: str) -> bool:
    """``name`` (an entity) is named in ``haystack`` (folded text): whole, or as the start of a
    word ("Korea" in "Korean"), or by a known short form ("US" for "United States"), or with another
    of :data:`_NAME_ENDINGS` ("Byzantines", "Byzantine"; "Rome", "Roman"), or, for a
    multi-word name, by one of its capitalised words of 3+ letters ("Newton" for "Cam Newton")."""
    n = re.sub(r"^(?:the|a|an)\s+", "", fold(name)).strip(" .,'\"")
    if not n:
        return True
    full = _ALIASES.get(n.rstrip("."), n)
    forms = {n, full, *_ALSO.get(full, ())} | {k for k, v in _ALIASES.items() if v in (n, full)}
    for f in forms:
        tail = r"(?:s|'s)?(?!\w)" if len(f) < 4 else ""  # "the V&As collection"
        if re.search(r"(?<!\w)" + re.escape(f) + tail, haystack):
            return True
    if " " not in n and len(n) >= 6:  # a demonym: "Egyptian" for "Egypt", "Ethiopian" for "Ethiopia"
        stem_ = re.sub(r"(?:ians?|ans?|ese|ish|i|ic)$", "", n)
        if len(stem_) >= 4 and re.search(r"(?<!\w)" + re.escape(stem_), haystack):
            return True
    if " " not in n and len(n) >= 4:  # a people for its adjective or place: "the Byzantines" for "Byzantine
        # hands", "Shiites" for "a Shiite revolt", "Rome" for "the Roman period"
        stems = {n[:-len(x)] for x in _NAME_ENDINGS if n.endswith(x) and len(n) - len(x) >= 3}
        if any(re.search(r"(?<!\w)" + re.escape(x) + r"(?:" + "|".join(_NAME_ENDINGS) + r")" + ("?" if len(x) >= 5 else "")
                         + r"(?!\w)", haystack)
               for x in stems):
            return True
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", name) if w[0].isupper() and len(w) >= 3]
    return len(words) > 1 and any(re.search(r"(?<!\w)" + re.escape(fold(w)) + r"(?!\w)", haystack) for w in words)


def _name(tok) -> str:
    """``tok`` with the words that name it: its proper-noun compounds ("Genghis Khan"); for a
    common noun with a capitalised modifier, the modifier alone ("Italian forces" -> "italian",
    as "the Italians"), as a :func:`_key`."""
    mods = [c for c in tok.children if c.i < tok.i and (
        (c.dep_ == "compound" and c.pos_ == "PROPN")
        or (c.dep_ == "amod" and c.text[:1].isupper() and not c.is_sent_start))]  # not "Early studies"
    if tok.pos_ == "NOUN" and mods and not tok.text[:1].isupper():  # "Hungarian forces": the side is the name
        return _key(fold(" ".join(t.text for t in mods)))
    return _key(fold(" ".join(t.text for t in sorted([*mods, tok], key=lambda t: t.i))))


def _who(tok) -> frozenset[str]:
    """Keys of the named thing a subject or object token stands for: the noun or name with its
    name words (:func:`_name`), and its apposition ("the champion Denver Broncos" -> {"champion",
    "denver broncos"}); empty for a pronoun. Two keys name the same thing when the words of one
    are among the other's (:func:`_meet`)."""
    if tok.pos_ not in ("PROPN", "NOUN") or not tok.text[:1].isalpha():
        # "defeated the Denver Broncos 24–10": the parser may hang the name on the score
        names = [c for c in tok.children if c.pos_ == "PROPN" and c.dep_ in ("compound", "nmod", "appos", "amod")]
        return frozenset({_key(fold(names[-1].text))}) if names else frozenset()
    names = [t for t in [tok, *(c for c in tok.children if c.dep_ == "appos")] if t.pos_ == "PROPN"]
    return frozenset(_name(t) for t in (names or [tok]))


def _meet(a: frozenset[str], b: frozenset[str]) -> bool:
    """Some key of ``a`` and some key of ``b`` name the same thing: the words of one are all
    words of the other ("newton" and "cam newton"; not "genghis khan" and "ogedei khan")."""
    return any(x == y or set(x.split()) <= set(y.split()) or set(y.split()) <= set(x.split())
               for x in a for y in b)


_PRONOUNS = ("he", "she", "it", "they")
#: Verbs whose subject and object are not actor and patient ("the prime has 22 million digits",
#: "the number of digits is ..."): roles are read from them only when a name is the subject.
_LIGHT_VERBS = frozenset({"be", "have"})


def _slot(tok, owner: bool = True) -> frozenset[str]:
    """Keys of a role's noun (:func:`_who`) with what pins it down: its named possessor when
    ``owner`` ("Lindzen's criticisms" -> {"criticisms", "lindzen"}; not for an actor: "X's deputy
    Y" acts as Y) and its "of" object, one level ("the care of his brother, Bob" -> {"care",
    "brother", "bob"}; "the authorities of Malindi" -> {"authorities", "malindi"})."""
    keys = set(_who(tok))
    for c in tok.children:
        if owner and c.dep_ == "poss" and c.pos_ == "PROPN":
            keys |= _who(c)
        elif c.dep_ == "prep" and c.lower_ == "of":
            keys |= {k for g in c.children if g.dep_ == "pobj" for k in _who(g)}
    return frozenset(keys)


def frames(doc, title: str = "") -> list[tuple[str, dict[str, frozenset]]]:
    """``(verb lemma, {role: keys})`` for each verb of ``doc`` (spaCy's dependency parse), and
    ``("~" + noun, {"actor", "patient"})`` for each noun of an act with an "of" and a "by" object
    ("the founding of the Brotherhood by al Banna": ``~founding``). Roles:
    ``actor`` and ``patient`` (active "A defeated B" and passive "B was defeated by A", or "B,
    defeated by A", alike) and ``prep:<preposition>`` for each prepositional object ("bought the
    chain from Burmah": ``prep:from``). Keys as :func:`_who`, a role's possessor and "of" object
    added (:func:`_slot`). A relative pronoun stands for the noun it follows ("Saint-Pierre, who
    succeeded Marin"); a subject pronoun for the subject of the clause it is joined to ("Hydro
    acquired ... and later it bought ...") or of the clause it follows ("Before X died, he
    assigned ..."), else "he"/"she" for the article's ``title`` (the person it is about); other
    pronouns give no keys."""
    topic = frozenset({_key(fold(_PAREN_TITLE.sub("", title)))}) if title.strip() else frozenset()

    def subject_of(verb):
        return next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)

    def who(tok, verb, owner=True):
        if tok.lower_ in ("who", "which", "that") and verb.dep_ == "relcl":
            return _who(verb.head)
        if tok.lower_ in _PRONOUNS and tok.dep_ == "nsubj":
            if verb.dep_ in ("conj", "advcl") and verb.head.pos_ in ("VERB", "AUX"):
                s = subject_of(verb.head)
                if s is not None and s.lower_ not in _PRONOUNS and _who(s):
                    return _who(s)
            for c in verb.children:
                if c.dep_ == "advcl" and c.i < tok.i:
                    s = subject_of(c)
                    if s is not None and s.pos_ == "PROPN":
                        return _who(s)
        if tok.lower_ in ("he", "she") and topic:
            return topic
        return _slot(tok, owner)

    out = []
    for v in doc:
        if v.pos_ not in ("VERB", "AUX") or v.dep_ in ("aux", "auxpass"):
            continue
        if _lemma(v) in _LIGHT_VERBS:  # only a named holder: "Stock, who has 40 years of ..."
            subj = next((c for c in v.children if c.dep_ == "nsubj"), None)
            if subj is not None and subj.lower_ in ("who", "that") and v.dep_ == "relcl":
                subj = v.head
            if subj is None or subj.pos_ != "PROPN":
                continue
        roles: dict[str, frozenset] = {}
        for c in v.children:
            if c.dep_ == "nsubj":
                roles["actor"] = who(c, v, False)
            elif c.dep_ in ("nsubjpass", "dobj"):
                roles["patient"] = who(c, v)
                for g in c.children:  # "bought the chain from Burmah": the parser may hang it on the object
                    obj = next((x for x in g.children if x.dep_ == "pobj"), None) if g.dep_ == "prep" else None
                    if obj is not None and g.lower_ != "of" and obj.lower_ not in _PRONOUNS:
                        roles.setdefault("prep:" + g.lower_, _slot(obj))
            elif c.dep_ == "agent":
                roles["actor"] = next((who(g, v, False) for g in c.children if g.dep_ == "pobj"), roles.get("actor", frozenset()))
            elif c.dep_ == "prep":
                obj = next((g for g in c.children if g.dep_ == "pobj"), None)
                if obj is not None and obj.lower_ not in _PRONOUNS:
                    roles["prep:" + c.lower_] = _slot(obj)
        if v.dep_ in ("acl", "relcl") and v.tag_ == "VBN" and not roles.get("patient"):
            # "Lugosi, played by Landau": the participle's head is its patient; the parser may
            # hang it on a noun further left ("his relationship with Bela Lugosi, played by ..."),
            # so the name right before the comma counts too
            near = frozenset()
            j = v.i - 1
            while j >= 0 and v.doc[j].is_punct:
                j -= 1
            if j >= 0 and j != v.head.i and v.doc[j].pos_ == "PROPN":
                near = _who(v.doc[j])
            roles["patient"] = _who(v.head) | near
        roles = {k: r for k, r in roles.items() if r}
        if roles:
            out.append((_lemma(v), roles))
    for n in doc:  # "the founding of the Brotherhood by al Banna": al Banna founded the Brotherhood
        if n.pos_ != "NOUN" or len(n.text) < 6:
            continue
        objs = {c.lower_: next((g for g in c.children if g.dep_ == "pobj"), None)
                for c in n.children if c.dep_ == "prep" and c.lower_ in ("of", "by")}
        if objs.get("of") is not None and objs.get("by") is not None:
            roles = {"actor": _slot(objs["by"], False), "patient": _slot(objs["of"])}
            if all(roles.values()):
                out.append(("~" + n.lower_, roles))
    return out


def _nominal_of(verb: str, noun: str) -> bool:
    """``noun`` (a frame's ``~noun``) names the act of ``verb`` (a lemma): "founding" of
    "found", "creation" of "create", "conquest" of "conquer"."""
    return verb in _lemmas(noun) or (len(verb) >= 5 and noun.startswith(verb[:-1]))


def triples(doc, title: str = "") -> list[tuple[frozenset, str, frozenset]]:
    """``(actor keys, verb lemma, patient keys)`` of each of :func:`frames`, empty where a role
    is missing: active "A defeated B" and passive "B was defeated by A" both give
    ``({a}, "defeat", {b})``."""
    return [(r.get("actor", frozenset()), v, r.get("patient", frozenset())) for v, r in frames(doc, title)]


_PAREN_TITLE = re.compile(r"\s*\([^)]*\)")


def _say(verb: str, roles: dict[str, frozenset]) -> str:
    """A frame as words: "norsk hydro buy chain from burmah"."""
    if verb[:1] == "~":  # a nominal frame: "the founding of muslim brotherhood by hassan al banna"
        return f"the {verb[1:]} of {min(roles['patient'])} by {min(roles['actor'])}"
    parts = [min(roles["actor"])] if "actor" in roles else []
    parts.append(verb)
    if "patient" in roles:
        parts.append(min(roles["patient"]))
    parts += [f"{k[5:]} {min(r)}" for k, r in roles.items() if k.startswith("prep:")]
    return " ".join(parts)


def _named_actors(doc) -> list[tuple[str, str]]:
    """``(verb lemma, name key)`` for each verb of ``doc`` whose subject is a proper name
    ("Kerry spoke about ..." -> [("speak", "kerry")])."""
    return [(_lemma(t.head), _name(c)) for t in doc if t.dep_ == "nsubj" and t.pos_ == "PROPN"
            and t.text[:1].isupper()  # "algorithm" tagged as a name is the tagger's slip
            and t.head.pos_ in ("VERB", "AUX") and _lemma(t.head) not in _LIGHT_VERBS
            for c in (t, *(x for x in t.conjuncts if x.pos_ == "PROPN"))]  # "BSkyB and Virgin Media agreed"


def _other_actor(claim: str, nearest: str, sentences: list[str]) -> str | None:
    """Who did it, when the claim names another: the passage sentence most like the claim
    (``nearest``) has a named subject for the claim's verb and the claim's named subject is the
    subject of that verb in none of the passage's ``sentences`` ("Wang Yang spoke about ..."
    where the passage has "Kerry spoke about ..."). None when it agrees or cannot tell."""
    for verb, name in _named_actors(_doc(claim)):
        if not any(verb in _lemmas(w) for w in _TOKEN.findall(nearest.lower().replace("’", "'"))):
            continue
        prepare([nearest])
        theirs = [k for v, k in _named_actors(_doc(nearest)) if v == verb]
        if not theirs or any(_meet({name}, {k}) for k in theirs):
            continue
        if any(_named_in(name, fold(" ".join(x.text for x in t.subtree if x.i <= t.i)))
               for t in _doc(nearest) if _key(t.lower_) in theirs):
            continue  # "the Company" the sentence names in full: "the Westinghouse ... Company"
        with_verb = [x for x in sentences if any(verb in _lemmas(w) for w in _TOKEN.findall(x.lower().replace("’", "'")))]
        prepare(with_verb)
        if not any(_meet({name}, {k}) for x in with_verb for v, k in _named_actors(_doc(x)) if v == verb):
            return f"{theirs[0]} {verb}, not {name}"
    return None


_QUOTED = re.compile(r"[\"“‘']([^\"“”‘’']{20,}?)[\"”’']")


def _quote_speaker(cdoc, claim: str, sentences: list[str]) -> str | None:
    """Whose words: when the claim quotes words the passage quotes, the claim's named subject must
    be named in the passage sentence that quotes them or the one before it ("Ratzel justified it
    as 'it is desirable that ...'" where the passage gives the words to Hobson). None when it
    agrees or cannot tell."""
    quotes = [fold(m.group(1)) for m in _QUOTED.finditer(claim)]
    if not quotes:
        return None
    start = min(m.start() for m in _QUOTED.finditer(claim))
    who = [t for t in cdoc if t.dep_ == "nsubj" and t.pos_ == "PROPN" and t.idx < start]
    if not who:  # the parser may miss the verb ("Ratzel justified empire as ..." as a noun phrase)
        first = [t for t in cdoc if t.pos_ == "PROPN" and t.idx < start]
        run = [t for t in first if t.i - first[0].i == first.index(t)] if first else []
        who = run[-1:]
    if not who:
        return None
    name = " ".join(t.text for t in cdoc[who[0].left_edge.i: who[0].i + 1] if t.pos_ == "PROPN") or who[0].text
    folded = [fold(x) for x in sentences]
    for q in quotes:
        head = " ".join(q.split()[:6]).strip(" .,")
        at = next((i for i, x in enumerate(folded) if len(head) >= 15 and head in x), None)
        if at is None:
            continue
        near = " ".join(folded[max(0, at - 1): at + 1])
        if not any(_named_in(w, near) for w in fold(name).split() if len(w) >= 3):
            speakers = [m.group(0) for m in re.finditer(r"\b[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+)*",
                                                        sentences[at].split("\"")[0].split("“")[0])]
            return f"the quoted words are {speakers[-1]}'s, not {who[0].text}'s" if speakers else None
    return None


def _roles_differ(claim_frames: list, passage_doc, title: str = "") -> str | None:
    """How the passage's who-did-what-to-whom (``passage_doc``) contradicts the claim's
    (``claim_frames``, from :func:`frames`), for the same verb: two roles exchanged (actor and
    patient, or a role and a prepositional object: "replaced Beijing with Taipei" for "replaced
    Taipei with Beijing"), or the same patient with another named actor, one the passage gives no
    role of that verb; None when it does not."""
    p_frames = frames(passage_doc, title)
    for verb, cr in claim_frames:
        for pverb, pr in p_frames:
            if verb != pverb and not (pverb[:1] == "~" and _nominal_of(verb, pverb[1:])):
                continue
            shared = [k for k in cr if k in pr]
            for i, a in enumerate(shared):
                for b in shared[i + 1:]:
                    if _meet(cr[a], pr[b]) and _meet(cr[b], pr[a]) and not (_meet(cr[a], pr[a]) and _meet(cr[b], pr[b])):
                        return f"{_say(pverb, pr)}, not the other way round"
            actor, patient = cr.get("actor"), cr.get("patient")
            pa, pp = pr.get("actor"), pr.get("patient")
            if actor and patient and pa and pp and _meet(patient, pp) and not _meet(actor, pa) and not any(
                    _meet(actor, r) for r in pr.values()):
                return f"{min(pa)} {verb} {min(pp)}, not {min(actor)}"
    return None


def _key(name: str) -> str:
    """An entity's words, lower case, without a possessive and with a plural demonym made
    singular ("George Westinghouse's" -> "george westinghouse", "the Ethiopians" -> "the
    ethiopian"), to be compared with :func:`_meet`."""
    words = re.findall(r"[\w-]+", re.sub(r"['’]s\b", "", name))
    words = [w[:-1] if len(w) > 4 and w.endswith("ans") else w for w in words if w not in ("the", "a", "an")]
    return " ".join(words) if words else name


def check_claim(claim: str, passage: str, title: str = "", nearest: str | list[str] | None = None,
                sentences: list[str] | None = None) -> list[str]:
    """The facts of ``claim`` that ``passage`` (with its ``title``) does not state, as short
    reasons; ``[]`` when every number, date, ordinal, named entity, the polarity and the roles
    agree. ``nearest`` is the passage sentence most like the claim, or a list of the closest ones,
    best first (polarity and roles are judged against them; default: the whole passage);
    ``sentences`` the passage's sentences when the caller has them (else it is split here).

    Example: ``check_claim("The Panthers won 31–7.", "The Broncos defeated the Panthers 24–10.")``
    -> ``["the passage gives 24–10, not 31–7", ...]``."""
    reasons: list[str] = []
    title = title.replace("_", " ")  # "Martin_Luther", as some sources name a page
    hay = _folded(title + "\n" + passage)
    nears = [passage] if nearest is None else [nearest] if isinstance(nearest, str) else list(nearest)
    cdoc = _doc(claim)
    # numbers (dates' days and years included) and ordinals
    p_nums, c_nums = numbers(passage + " " + title, lenient=True), numbers(claim)
    p_nums |= {float(y) for y, _ in relative_years(passage)}
    # the claim's ordinals: digits ("5th") and what spaCy reads as one ("fifth title", not "had
    # first intended"); the passage's: every form (lenient)
    c_ords = {int(m.group(1)) for m in _ORD_DIGITS.finditer(claim)} | {
        _ORDINAL_WORDS[t.lower_] for t in cdoc if t.lower_ in _ORDINAL_WORDS and not (
            t.pos_ == "ADV" and t.i + 1 < len(cdoc) and cdoc[t.i + 1].pos_ in ("VERB", "AUX"))} | {
        _ROMAN[m.group(1)] for m in _ROMAN_AFTER_NAME.finditer(claim)}
    p_ords = ordinals(passage + " " + title)
    p_pairs = {(m.group(1), m.group(2)): m.group(0) for m in _PAIR.finditer(passage)}
    for m in _PAIR.finditer(claim):
        a, b = float(m.group(1).replace(",", "")), float(m.group(2).replace(",", ""))
        if p_pairs and (m.group(1), m.group(2)) not in p_pairs and (
                (m.group(2), m.group(1)) in p_pairs or not (a in p_nums and b in p_nums)):
            reasons.append(f"the passage gives {' or '.join(list(p_pairs.values())[:2])}, not {m.group(0)}")
            c_nums -= {float(m.group(1).replace(",", "")), float(m.group(2).replace(",", ""))}
    c_nums -= _rounded(claim, p_nums)
    if 1.0 in c_nums and not re.search(r"(?<![\d.,])1(?![\d.,])", claim) and not any(
            t.lower_ == "one" and t.pos_ == "NUM" and not (t.i and cdoc[t.i - 1].lower_ in ("every", "each", "any", "no"))
            and not (t.i + 1 < len(cdoc) and cdoc[t.i + 1].lower_ in ("of", "at", "by", "another", "example",
                                                                      "instance", "such"))
            and not re.search(r"\b(?:another|the other)\b", cdoc[t.i:].text.lower())
            for t in cdoc):  # "one could ask", "every one of the 12", "one of his hymns", "one at a
        # time", "one example": a pronoun, a manner or an instance, not a count
        c_nums.discard(1.0)
    c_nums -= _derived(claim, passage, c_nums - p_nums, p_nums)
    for v, (_, k, den) in _fractions(claim).items():  # "about a third of" for "33%": no count of 3,
        if _fraction_given(v, passage):  # no third rank
            c_nums -= {float(k), float(den)}
            c_ords.discard(den)
    wrong = sorted(x for x in c_nums - p_nums if x not in c_ords or x not in p_ords)
    if wrong:
        given = [m.group(0) for m in _NUM.finditer(passage)] or ["no such number"]
        reasons.append(f"the passage gives {', '.join(dict.fromkeys(given[:4]))}, not "
                       f"{', '.join(_fmt(x, claim) for x in wrong)}")
    bad_ord = sorted(c_ords - p_ords)
    if bad_ord:
        reasons.append(f"the passage gives no ordinal {', '.join(map(str, bad_ord))}"
                       + (f" (it gives {', '.join(map(str, sorted(p_ords)))})" if p_ords else ""))
    if nearest is not None and not bad_ord and not wrong:  # each there, but tied to another thing?
        said = _misbound(claim, nears[0]) or _unranked(claim, nears[0]) or _other_fraction(claim, nears[0], passage)
        if said:
            reasons.append(f"the passage gives {said[1]}, not {said[0]}")
        else:  # a number or ordinal the passage gives only outside the sentences the claim restates
            near_text = " ".join(nears) + " " + title
            n_nums = numbers(near_text, lenient=True) | {float(y) for y, _ in relative_years(passage)}
            elsewhere = sorted(x for x in c_nums - n_nums if (x not in c_ords or x not in ordinals(near_text))
                               and not _same_context(x, claim, sentences or split_passage(passage)))
            elsewhere_ord = sorted(c_ords - ordinals(near_text))
            if not elsewhere and not elsewhere_ord:
                said = _unbound(claim, passage)
                if said:
                    reasons.append(f"the passage gives {said[1]}, not {said[0]}")
            if elsewhere or elsewhere_ord:
                given = [m.group(0) for m in _NUM.finditer(nears[0])]
                what = ", ".join(_fmt(x, claim) for x in elsewhere) or ", ".join(map(str, elsewhere_ord))
                reasons.append(f"the passage gives {what} for another fact"
                               + (f" (the sentence this restates gives {', '.join(dict.fromkeys(given[:3]))})"
                                  if given else ""))
    p_dates = dates(passage) + _relative_dates(passage)
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
    # names: every proper noun of the claim (the tagger's; NER would double the time)
    for t in cdoc:
        if (t.pos_ == "PROPN" and t.text[:1].isupper() and len(t.text) >= 3
                and t.text.lower().rstrip(".") not in _MONTHS and t.text.lower() not in _ORDINAL_WORDS
                and t.text not in _ROMAN and not (t.is_sent_start and _function_word(t.lower_))
                and not _named_in(t.text, hay)
                and not _acronym_in(t.text, title + "\n" + passage)
                and not _expansion_in(t, title + "\n" + passage)
                and not any(t.text in r for r in reasons)):
            reasons.append(f"the passage does not name {t.text}")
    if nearest is not None:
        swapped = _list_member(cdoc, nears[0])
        if swapped:
            reasons.append(f"the passage's list has {swapped[1]}, not {swapped[0]}")
        elif not reasons:
            swapped = _substituted(claim, nears, passage, frozenset(t.lower_ for t in cdoc if t.pos_ == "NOUN"))
            if swapped and swapped[2]:
                reasons.append(f"the passage gives {swapped[1]} there and {swapped[0]} elsewhere: "
                               "the two are exchanged")
            elif swapped:
                reasons.append(f"the passage gives {swapped[1]}, not {swapped[0]}")
            else:
                swapped = _exchanged(claim, cdoc, nears)
                if swapped:
                    reasons.append(f"the passage says of {swapped[1]} what the claim says of {swapped[0]}, "
                                   "and the reverse: the two are exchanged")
                else:
                    given = _listed_attribute(claim, nears[0])
                    if given:
                        reasons.append(f"the passage says {given[1]} of {given[2]}, not of {given[0]}")
    # polarity
    c_neg = bool(_NEGATION.search(_affirmed(claim)))
    negated = _negated_words(claim) if c_neg else set()
    agree = True
    if c_neg:  # what the claim negates must be negated in some sentence of the passage
        denied = _bases(negated)
        agree = any((_NEGATION.search(_affirmed(x))
                     and (not negated or denied & _bases(_negated_words(x) | _reach(x))))
                    or (negated and negated & _absent_words(x)) or _contrasted(claim, x)
                    for x in (sentences if sentences is not None else split_passage(passage)))
        if not agree and nears and _NEGATION.search(_affirmed(nears[0])):
            # the sentence it restates denies too, in other words: "must not be out of proportion"
            # for "must not be disproportionate" (none of the claim's denied words is in it)
            said = {stem(w) for w in _WORD.findall(fold(nears[0]))}
            content = {w for w in negated if len(w) >= 3} - _QUANTIFIERS  # "not all of" denies a quantity
            agree = bool(content) and not content & said
    if agree:  # what it affirms (out of its negations' reach) the sentence most like it must not negate
        # (a claim that also negates something is held to the verb each negation of the
        # sentence denies: the claim negates "representatives" and affirms "cut", the passage
        # "hasn't yet cut")
        words = {stem(w) for w in _WORD.findall(fold(claim)) if len(w) >= 3} - negated  # not "to", "in"
        words |= {stem(w[:-2]) for w in _WORD.findall(fold(claim)) if len(w) >= 7 and w.endswith("ly")} - negated
        # (an adverb's adjective: "consistently predict" for "are not consistent")
        words -= {stem(m.group(1)) for m in _BEFORE_NO.finditer(fold(claim))}  # "contain no isotopes": "do not contain"
        affirmed = not any(_NEGATION.search(_affirmed(x))
                           and _denied_only(x, (_negated_words(x, first=c_neg) - negated) & words, claim)
                           for x in (_others_denied(_unequal(_clause(n, claim), claim), claim) for n in nears[:1]))
        if affirmed:  # any other sentence that denies the claim's very words ("does not carry out research")
            # ("is known as the thesis" names; it is not the "known" of "no algorithm is known")
            named = {"known"} if re.search(r"\bknown as\b", fold(claim)) and not re.search(
                r"\bknown\b(?! as\b)", fold(claim)) else set()
            affirmed = not any(len(d) == 3 and set(d) <= words - named
                               for x in (sentences if sentences is not None else split_passage(passage))
                               for d in _denials(_others_denied(x, claim, absent=False)))
        if not affirmed:
            reasons.append("the passage states it with a negation")
        else:
            opposite = _antonym(cdoc, nears[0]) or (
                _antonym(cdoc, nears[1], agrees=nears[0]) if len(nears) > 1 else None) or _prefixed(cdoc, nears[0])
            if opposite:
                reasons.append(f"the passage says {opposite[1]}, not {opposite[0]}")
    else:
        reasons.append("the passage states the opposite (a negation)")
    # roles: who did what to whom
    said = None
    if needs_roles(claim):  # only a claim that says who did what to whom
        with_verb = role_sentences(claim, nears)
        prepare(with_verb)
        said = next((x for x in (_roles_differ(_claim_frames(claim), _doc(n), title) for n in with_verb) if x), None)
    if said:
        reasons.append(f"the roles are swapped: in the passage, {said}")
    else:
        sents = sentences if sentences is not None else split_passage(passage)
        other = _other_actor(claim, nears[0], sents) or _quote_speaker(cdoc, claim, sents)
        if other:
            reasons.append(f"in the passage, {other}")
    return list(dict.fromkeys(reasons))
