"""Calibrate the citation check (rag/grounding.py) on the bundled corpus.

For every sentence of every passage: a *positive* pair is (a shortened paraphrase-like form of the
sentence: its middle 60 % of words, to mimic a model restating part of a sentence; its own passage);
a *hard negative* is (the full sentence; the other passage most similar to it). The script prints
the pass rate of both at the thresholds in rag/grounding.py and a small grid, so the thresholds can
be chosen to keep positives and reject wrong-passage citations.

    python bench/calibrate_citations.py
"""
import numpy as np

from rag import Engine
from rag.grounding import MIN_COVERAGE, MIN_SIMILARITY
from rag.types import Passage


def main() -> None:
    eng = Engine()
    st = eng.stored
    chunk_vecs = st.vectors.index.reconstruct_n(0, len(st.chunks))
    pos, neg = [], []
    for j, (row, s, e) in enumerate(st.sentences):
        text = st.chunks[row].text[s:e]
        words = text.split()
        if len(words) < 8:
            continue
        cut = len(words) // 5
        para = " ".join(words[cut:len(words) - cut])
        pv = eng.embedder.encode([para])[0]
        pos.append(eng.checker.support(para, pv, Passage(st.chunks[row], 1.0, 1)))
        sims = chunk_vecs @ st.sent_vectors[j]
        sims[row] = -1
        other = int(np.argmax(sims))
        neg.append(eng.checker.support(text, st.sent_vectors[j], Passage(st.chunks[other], 1.0, 1)))
    pos, neg = np.array(pos), np.array(neg)
    print(f"{len(pos)} sentences")
    print("coverage≥  similarity≥  positives kept  hard negatives passed")
    for c in (0.3, 0.4, 0.5, 0.6):
        for s in (0.4, 0.5, 0.6):
            mark = "  <- current" if (c, s) == (MIN_COVERAGE, MIN_SIMILARITY) else ""
            kp = np.mean((pos[:, 0] >= c) & (pos[:, 1] >= s))
            kn = np.mean((neg[:, 0] >= c) & (neg[:, 1] >= s))
            print(f"{c:>9.1f}  {s:>11.1f}  {kp:>14.3f}  {kn:>20.3f}{mark}")


if __name__ == "__main__":
    main()
