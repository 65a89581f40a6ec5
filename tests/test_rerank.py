"""The second stage's features are whole-array operations over all candidates; the weights in
rag/rerank.py were fitted on the plain per-passage definition below. Both must give the same
features (real model, FAISS, BM25), on the bundled corpus and on passages built to hit the edge
cases: question sentences, stopword-only sentences, numbers, repeated terms, title-only terms,
passages without sentences, questions with no or unknown terms."""
from __future__ import annotations

import numpy as np
import pytest

from rag.documents import Document
from rag.ingest import build_index
from rag.rerank import FEATURES, FeatureReranker
from rag.sentences import is_question
from rag.retriever import HybridRetriever
from rag.store import load_index
from rag.text import TermStats, terms


def _proximity(position_lists: list[list[int]]) -> float:
    """Matched terms over the length of the shortest window holding one position of each."""
    if not position_lists:
        return 0.0
    if len(position_lists) == 1:
        return 1.0
    events = sorted((p, i) for i, ps in enumerate(position_lists) for p in ps)
    need, count, have, best, lo = len(position_lists), {}, 0, None, 0
    for p, i in events:
        count[i] = count.get(i, 0) + 1
        have += count[i] == 1
        while have == need:
            width = p - events[lo][0] + 1
            best = width if best is None or width < best else best
            count[events[lo][1]] -= 1
            have -= count[events[lo][1]] == 0
            lo += 1
    return need / best


def reference_features(stored, stats, question, qvec, rows, dense, bm25_norm) -> np.ndarray:
    """The features of rag/rerank.py's module docstring, one passage at a time."""
    q_terms = terms(question)
    q_set, q_pairs = set(q_terms), set(zip(q_terms, q_terms[1:]))
    idf = {t: stats.idf(t) for t in q_set}
    total = sum(idf.values()) or 1.0
    total2 = sum(v * v for v in idf.values()) or 1.0
    out = np.zeros((len(rows), len(FEATURES)))
    for i, row in enumerate(rows):
        c = stored.chunks[row]
        title, body = terms(c.title), terms(c.text)
        lo, hi = stored.sentence_range(row)
        seqs = [[] if is_question(c.text[s:e]) else terms(c.text[s:e]) for _, s, e in stored.sentences[lo:hi]]
        sents, sent_pairs = [set(x) for x in seqs], [set(zip(x, x[1:])) for x in seqs]
        blank = np.array([not x for x in seqs], dtype=bool)
        seq = title + body
        all_terms, pairs, title_terms = set(seq), set(zip(seq, seq[1:])), set(title)
        positions: dict[str, list[int]] = {}
        for p, t in enumerate(body):
            positions.setdefault(t, []).append(p)
        s_sims = stored.sent_vectors[lo:hi] @ qvec if hi > lo else np.asarray([dense[i]])
        if hi > lo and blank.any() and not blank.all():
            s_sims = np.where(blank, -1.0, s_sims)
        s_max = float(s_sims.max())
        pair = float(((s_sims[:-1] + s_sims[1:]) / 2).max()) if len(s_sims) > 1 else s_max
        cov = sum(idf[t] for t in q_set if t in all_terms) / total
        s_covs = [sum(idf[t] for t in q_set if t in s or t in title_terms) / total for s in sents]
        s_cov = max(s_covs, default=cov)
        best_cov = s_covs[int(np.argmax(s_sims))] if s_covs else s_cov
        s_big = max((len(q_pairs & sp) / len(q_pairs) for sp in sent_pairs), default=0.0) if q_pairs else 0.0
        nums = [t for t in q_set if t.isdigit()]
        out[i] = (dense[i], 0.0, bm25_norm[i], s_max, 0.0, cov, s_cov,
                  len(q_pairs & pairs) / len(q_pairs) if q_pairs else 0.0,
                  sum(idf[t] for t in q_set if t in title_terms) / total,
                  sum(idf[t] ** 2 for t in q_set if t in all_terms) / total2,
                  _proximity([positions[t] for t in q_set if t in positions]), 0.0, 0.0, pair, s_big,
                  best_cov, sum(t in all_terms for t in nums) / len(nums) if nums else 0.0,
                  s_max * s_cov, float(dense[i]) * float(bm25_norm[i]))
    out[:, 1] = out[:, 0] - out[:, 0].max()
    out[:, 4] = out[:, 3] - out[:, 3].max()
    out[np.argsort(-out[:, 0], kind="stable"), 11] = 1.0 / (1.0 + np.arange(len(rows)))
    out[np.argsort(-np.asarray(bm25_norm, dtype=np.float64), kind="stable"), 12] = 1.0 / (1.0 + np.arange(len(rows)))
    return out


def check_same(stored, embedder, questions) -> int:
    """Compare both implementations on every question; returns the candidates compared."""
    retriever = HybridRetriever(stored)
    stats = TermStats.from_bm25(stored.bm25)
    reranker = FeatureReranker(stored, stats)
    compared = 0
    for question, qvec in zip(questions, embedder.encode(questions)):
        rows, _, _, dense, bm25n, _ = retriever.candidates_for(question, qvec, 10)
        got = reranker.features(question, qvec, rows, dense, bm25n)
        want = reference_features(stored, stats, question, qvec, rows, dense, bm25n)
        assert got.shape == want.shape == (len(rows), len(FEATURES))
        bad = np.abs(got - want).max(axis=0) > 1e-6
        assert not bad.any(), (question, [f for f, b in zip(FEATURES, bad) if b])
        compared += len(rows)
    return compared


def test_features_equal_the_plain_definition_on_the_bundled_corpus(engine, embedder, dev_rows):
    questions = [r["question"] for r in dev_rows] + ["What is it?", "Interpol Interpol red notice notice 2018"]
    assert check_same(engine.stored, embedder, questions) > 20 * len(questions)


@pytest.fixture(scope="module")
def edge_index(tmp_path_factory, embedder):
    docs = [
        Document(text="Was the bridge finished in 1998? The bridge over the Kell river opened in 1998. "
                      "It was so. Engineers from Lund built the bridge.", source="bridge.txt",
                 title="Kell river bridge"),
        Document(text="Who built it? What did it cost? Why?", source="asks.txt", title="Questions only"),
        Document(text="It is what it is, and so it was.", source="stop.txt", title="Stopwords"),
        Document(text="The red red fox jumped over the lazy dog. The dog slept. A fox, a dog and a red "
                      "barn stood in 2,400 acres of the Lund valley.", source="fox.txt", title="Lund farm"),
        Document(text="Budget figures: 120 million in 2019 and 140 million in 2020 for the Kell bridge.",
                 source="budget.txt", title="Budget"),
    ]
    index_dir = tmp_path_factory.mktemp("edge") / "idx"
    build_index(docs, index_dir, embedder=embedder)
    return load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim)


def test_features_equal_the_plain_definition_on_edge_cases(edge_index, embedder):
    questions = ["When did the Kell river bridge open?", "Who built the bridge over the Kell river?",
                 "red fox red barn", "How many acres is the Lund valley farm?", "What was the budget in 2019?",
                 "What is it?", "zyxxy quorble", "Lund Lund Lund", "2020 2019 budget bridge 1998"]
    assert check_same(edge_index, embedder, questions) >= 5 * len(questions)
    # the edge cases are there: a question sentence, a blank sentence, a chunk of questions only
    rr = FeatureReranker(edge_index, TermStats.from_bm25(edge_index.bm25))
    blanks = [rr._terms_of(edge_index, r).blank.tolist() for r in range(len(edge_index.chunks))]
    assert [True, False, True, False] in blanks and [True, True, True] in blanks
