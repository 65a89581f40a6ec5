"""Term normalisation for lexical matching: accent and typography folding, stopwords, light stemming.

"Jürgen" and "Jurgen" match, curly and straight quotes match, "investigations" matches
"investigation". Used by the answerer's term-overlap score and the refusal decision.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves s t don isn wasn weren mustn shouldn ve ll re d m o y
mentioned say said says tell according many much
""".split())

#: Invisible format characters (Unicode category Cf: soft hyphen, zero-width, bidi controls, word
#: joiners, BOM, ...) and the combining grapheme joiner: they carry no meaning for matching, and a
#: word pasted with one inside ("Me\u200bng") must stay one word.
INVISIBLE = re.compile("[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u08e2\u180e\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd"
                       "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


def strip_invisible(text: str) -> str:
    """``text`` without :data:`INVISIBLE` characters: "Investi\u00adgators" -> "Investigators"."""
    return INVISIBLE.sub("", text)


_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "‐": "-"})
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, strip accents (NFKD), unify quotes and dashes, drop soft hyphens and zero-width
    characters: "Jürgen’s" -> "jurgen's"."""
    text = text.translate(_FOLD)
    if text.isascii():  # nothing to decompose or strip (most text: ~40x faster)
        return text.lower()
    text = unicodedata.normalize("NFKD", strip_invisible(text))
    if text.isascii():
        return text.lower()
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix stripper (plural, -ing, -ed, final -e), enough for overlap matching:
    "running" -> "run", "resuming" and "resume" -> "resum", "election" and "elected" -> "elect"."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix, repl, min_len in (("ations", "", 9), ("ation", "", 8), ("ions", "", 7), ("ion", "", 7),
                                  ("ies", "y", 5), ("ing", "", 6), ("ed", "", 5), ("es", "", 5),
                                  ("s", "", 4)):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + repl
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
                word = word[:-1]  # running -> runn -> run
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]  # resume / resum(ing) -> resum
    return word


def terms(text: str) -> list[str]:
    """Content terms of ``text``: folded, tokenised on letters and digits, stopwords dropped,
    stemmed. Digit groups are joined ("3,000" -> "3000")."""
    folded = re.sub(r"(?<=\d),(?=\d{3})", "", fold(text)).replace("'s ", " ")
    return [stem(w) for w in _WORD.findall(folded) if w not in STOPWORDS]


class TermStats:
    """Inverse document frequencies over a collection of texts (smoothed BM25-style IDF,
    ``log(1 + (N - df + 0.5) / (df + 0.5))``, Robertson & Zaragoza 2009); a term never seen gets
    the IDF of ``df = 0``, the highest."""

    def __init__(self, texts: list[str] | None = None, *, df: dict[str, int] | None = None, n: int = 0,
                 vocab: dict[str, int] | None = None):
        self.n = len(texts) if texts is not None else n
        self.df = Counter(t for text in texts for t in set(terms(text))) if texts is not None else dict(df or {})
        #: term -> id (distinct ids >= 0) for every term of the collection
        self.vocab = dict(vocab) if vocab is not None else {t: i for i, t in enumerate(self.df)}

    @classmethod
    def from_bm25(cls, bm25) -> "TermStats":
        """Document frequencies read from a ``bm25s.BM25`` index (its CSC matrix has one column
        per term, so ``df = indptr[t + 1] - indptr[t]``)."""
        indptr = bm25.scores["indptr"]
        df = {tok: int(indptr[i + 1] - indptr[i]) for tok, i in bm25.vocab_dict.items()
              if tok and i + 1 < len(indptr)}
        return cls(df=df, n=int(bm25.scores["num_docs"]), vocab=bm25.vocab_dict)

    def prefetch(self, terms) -> None:
        """Make the document frequencies of ``terms`` ready (a store that reads them from a server
        asks for all at once); nothing to do for frequencies held in memory."""

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def coverage(self, query_terms: list[str], text_terms: set[str]) -> float:
        """IDF-weighted share of ``query_terms`` found in ``text_terms``, in [0, 1]."""
        qs = set(query_terms)
        total = sum(self.idf(t) for t in qs)
        if total == 0:
            return 0.0
        return sum(self.idf(t) for t in qs if t in text_terms) / total

    def unknown(self, query_terms: list[str]) -> list[str]:
        """Query terms that occur nowhere in the collection."""
        return sorted({t for t in query_terms if t not in self.df})
