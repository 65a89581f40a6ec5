"""What kind of answer a question expects: a number, a date, a person, a place, ...

The expected answer type is read from the question's wording (its wh-phrase: "how many", "when",
"in what year", "who", "where", "which city", ...), the classic question-classification step of
factoid QA (Li & Roth, "Learning question classifiers", 2002, coarse classes NUM, LOC, HUM, ...).
Each type lists the spaCy entity labels (:data:`rag.entities.LABELS`) that can fill it; the
offline answerer uses it as a feature of each candidate sentence, to pick the short answer, and
to refuse when no retrieved sentence carries an answer of that type.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .entities import LABEL_ID


@dataclass(frozen=True)
class AnswerType:
    """An expected answer type: ``name`` (e.g. ``"place"``), the entity label ids that fill it
    (``labels``, most likely first) and how a refusal names it (``noun``: "no retrieved sentence names a place")."""

    name: str
    labels: tuple[int, ...]
    noun: str


def _t(name: str, noun: str, *labels: str) -> AnswerType:
    return AnswerType(name, tuple(LABEL_ID[x] for x in labels), noun)


NUMBER = _t("number", "gives a number or quantity", "CARDINAL", "QUANTITY", "MONEY", "PERCENT")
MONEY = _t("money", "gives an amount of money", "MONEY", "CARDINAL", "QUANTITY")
#: A currency named inside an entity ("1.2 million pounds" tagged as a quantity).
CURRENCY_IN = re.compile(r"\b(?:euros?|dollars?|pounds? sterling|pounds|yuan|yen|francs?|rupees?|pesos?)\b|[$€£¥]", re.I)
#: A DATE entity that is a length of time ("two-year", "three months"), unless it names a year.
DURATION_WORDS = re.compile(r"\b(?:years?|months?|weeks?|days?|decades?|centuries|hours?)\b|-year\b|-month\b", re.I)
YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b")
#: A number is an amount of money only with a currency next to it ("300 euros", "$47m", "€5").
CURRENCY_AFTER = re.compile(r"\s*(?:(?:million|billion|thousand|m|bn|k)\b\s*)?(?:euros?|dollars?|pounds?|yuan|yen|"
                            r"francs?|rupees?|roubles?|rubles?|pesos?|cents?|eur|usd|gbp)\b", re.I)
PERCENT = _t("percent", "gives a percentage", "PERCENT", "CARDINAL")
DURATION = _t("duration", "gives a length of time or a quantity", "DATE", "TIME", "QUANTITY", "CARDINAL")
AGE = _t("age", "gives an age", "DATE", "CARDINAL", "QUANTITY")
DATE = _t("date", "gives a date", "DATE", "TIME")
PERSON = _t("person", "names a person or group", "PERSON", "ORG", "NORP")
PLACE = _t("place", "names a place", "GPE", "LOC", "FAC", "ORG")
ORGANIZATION = _t("organization", "names an organization", "ORG", "NORP")
NATIONALITY = _t("nationality", "names a nationality or group", "NORP", "GPE", "LANGUAGE")
LANGUAGE = _t("language", "names a language", "LANGUAGE", "NORP")
#: A reason ("why"): no entity label marks one; a sentence fills it when it states a cause
#: (:data:`CAUSE`), Li & Roth's DESC:reason.
REASON = AnswerType("reason", (), "gives a reason")
CAUSE = re.compile(r"\b(?:because|due to|owing to|thanks to|as a result|results? (?:from|of)|resulting from|"
                   r"caused by|the reason|reasons? (?:for|why|is|was)|so that|in order to|since (?:the|it|they|he|she)|"
                   r"led to|leads to|stems? from|in response to|on the grounds)\b", re.I)

_W = r"(?:what|which)"
#: "which NFL team", "what European city": up to two words between the wh-word and the class noun
_WX = r"(?:what|which)(?: [\w'-]+){0,2}"
#: (pattern, type), first match wins; patterns are matched against the lower-cased question.
_RULES: list[tuple[re.Pattern, AnswerType]] = [(re.compile(p), t) for p, t in [
    (r"\bhow much (?:money|did .* (?:cost|pay|spend|earn))|\bhow much .* cost\b|\b" + _W
     + r" (?:was|is) (?:the |its |their |\w+'s )?(?:annual |yearly |total )?(?:cost|price|budget|salary|revenue|"
       r"income|funding|fee)\b|\bin (?:euros|dollars|pounds|yen|yuan|us dollars|usd|eur)\b", MONEY),
    (r"\bwhat (?:percentage|percent|proportion|share)\b|\bhow many percent\b", PERCENT),
    (r"\bhow old\b|\b(?:at )?what age\b", AGE),
    (r"\bhow long\b|\b(?:for )?how many (?:years|months|days|weeks|hours|decades|centuries|minutes)\b", DURATION),
    (r"\bhow (?:many|much|far|large|big|tall|high|deep|wide|heavy|fast|often|long|large)\b|\b"
     + _W + r" (?:number|amount|size|population|score|total|quantity|fraction)\b", NUMBER),
    (r"^\s*when\b|\bwhen (?:did|does|do|was|were|is|are|will|had|has|have)\b|\b"
     + _W + r" (?:year|years|date|day|month|decade|century|era|season|time of year|period)\b|\bwhat time\b", DATE),
    (r"\b" + _WX + r" (?:nationality|ethnicity|ethnic group|religion)\b", NATIONALITY),
    (r"\b" + _WX + r" (?:language|languages)\b", LANGUAGE),
    (r"\b" + _WX + r" (?:city|cities|country|countries|state|states|nation|town|continent|region|county|"
     r"province|place|location|island|river|area|capital|neighborhood|district|street|venue|stadium|"
     r"building|mountain|ocean|sea|lake|site)\b|^\s*where\b|\bwhere (?:did|does|do|was|were|is|are|will|"
     r"can|could|had|has|have)\b|\bfrom where\b", PLACE),
    (r"\b" + _WX + r" (?:company|companies|organization|organisation|team|university|group|agency|party|"
     r"band|newspaper|school|college|institution|club|network|firm|government|body|court|league|"
     r"department|ministry|corporation|magazine|publisher|airline|brand)\b", ORGANIZATION),
    (r"^\s*(?:who|whom|whose)\b|\b(?:who|whom|whose) (?:was|is|were|are|did|does|do|has|had|won|"
     r"became|led|said|wrote|founded|invented|discovered|created|played|designed)\b|\b"
     + _WX + r" (?:person|people|man|woman|king|queen|president|author|writer|scientist|player|leader|"
     r"general|emperor|actor|actress|singer|director|minister|architect|composer|artist|member|official|"
     r"pope|prince|princess|chancellor|governor|senator|judge|coach|captain|founder|inventor)\b", PERSON),
]]


#: "Who is Meng Hongwei?": a definition question about a named person (its answer describes them).
_WHO_IS_NAME = re.compile(r"^\s*[Ww]ho\s+(?:is|was|are|were)\s+(?:the\s+)?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*\s*\??\s*$")


def expected_type(question: str) -> AnswerType | None:
    """The answer type ``question`` expects, or ``None`` (a "why" or "what is X" question, say).

    Examples: "How many active investigations ...?" -> NUMBER; "In what year ...?" -> DATE;
    "Which city ...?" -> PLACE; "Who handled ...?" -> PERSON."""
    q = " ".join(question.lower().split())
    if re.match(r"^\s*(?:why|for what reason)\b", q):
        return REASON
    if _WHO_IS_NAME.match(question):  # "Who is Meng Hongwei?" asks for a description, not a name
        return None
    if re.match(r"^\s*how (?:did|does|do|was|were|is|are|can|could|will|would|should|has|have)\b", q):
        return None
    for pattern, t in _RULES:
        if pattern.search(q):
            return t
    return None


def expected_types(question: str) -> list[AnswerType]:
    """Every answer type a two-part question expects, in question order ("When and where was
    ...?" -> [DATE, PLACE]); otherwise ``[expected_type(question)]`` or ``[]``."""
    first = expected_type(question)
    if first is None:
        return []
    out = [first]
    q = " ".join(question.lower().split())
    for part in re.split(r"\s*(?:,\s*)?\band\b\s*", q)[1:]:
        t = expected_type(part)
        if t is not None and t not in out and re.match(r"(?:how|when|where|who|what|which|in what|in which)\b", part):
            out.append(t)
    return out


_SIDES = [re.compile(p, re.I) for p in (
    r",\s*(?:the\s+)?(?P<a>[^,?]+?)\s+or\s+(?:the\s+)?(?P<b>[^,?]+?)\s*[,?]",       # "Which is older, A or B?"
    r"^(?:are|were|is|was|do|did|does|have|has)\s+(?:the\s+)?(?P<a>.+?)\s+and\s+(?:the\s+)?(?P<b>.+?)\s+"
    r"(?:both|of the same|the same|from the same|each|either|in the same)\b",          # "Were A and B both ...?"
    r"\bbetween\s+(?:the\s+\w+\s+(?:on|about)\s+)?(?:the\s+)?(?P<a>.+?)\s+and\s+"
    r"(?:the\s+(?:one|article|piece)\s+(?:on|about)\s+)?(?:the\s+)?(?P<b>.+?)\s*\?",       # "between A and B?"
)]


def comparison_sides(question: str) -> list[str]:
    """The two things a comparison question compares, or ``[]``: "Which is older, Millbrook or
    Pellham?" -> ["Millbrook", "Pellham"]; "Were Scott Derrickson and Ed Wood of the same
    nationality?" -> ["Scott Derrickson", "Ed Wood"]."""
    for pattern in _SIDES:
        m = pattern.search(" ".join(question.split()))
        if m:
            a, b = m.group("a").strip(" '\"“”"), m.group("b").strip(" '\"“”")
            if a and b and len(a.split()) <= 8 and len(b.split()) <= 8:
                return [a, b]
    return []
