"""``rag eval``: retrieval and answer metrics over a QA file in the ``seed_dev.jsonl`` schema.

Rows: ``{"question", "article", "evidence", "answer_any", "answerable"}``. A row's gold passage is
the retrieved-or-not chunk of the gold article (title starting with ``article``) whose text
contains ``evidence``. Metrics (answerable rows unless noted): hit@1/5/10 and MRR@10 and nDCG@10
of the gold passage (one relevant passage, so nDCG = 1/log2(1 + rank)); article hit@3; answer hit
(the answer contains an accepted answer after SQuAD normalisation: lower case, no punctuation or
articles); cited-gold-article precision (share of citations pointing at the gold article); refusal
accuracy over all rows (answerable rows answered, unanswerable rows refused).
"""
from __future__ import annotations

import json
import math
import re
import string
from pathlib import Path


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, drop punctuation, articles and extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation) | {"‘", "’", "“", "”"})
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def answer_hit(answer_text: str, accepted: list[str]) -> bool:
    """True when the normalised answer contains any normalised accepted answer."""
    a = squad_normalise(answer_text)
    return any(squad_normalise(x) and squad_normalise(x) in a for x in accepted)


def evaluate(engine, qa_path: str | Path, *, k: int = 10, progress: bool = False, mode: str | None = "none") -> dict:
    """Run every row of ``qa_path`` through ``engine`` and return the metrics as a dict (values in
    [0, 1]), with per-row details under ``"details"`` and ``recall_curve`` (recall@1..k).
    ``mode`` is the answer mode (``none``, ``openai``, ``local``); for generated answers the report
    adds citation precision (share of the model's citations whose passage supports the sentence)
    and the unsupported-sentence rate, both measured before unsupported parts are removed.
    Raises ``ValueError`` for a malformed row."""
    rows = []
    for n, line in enumerate(Path(qa_path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
                row["question"]
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{qa_path}:{n}: not a QA row with a 'question' ({e})") from e
            rows.append(row)
    details = []
    if progress:
        from tqdm import tqdm  # lazy: tqdm costs 50 ms; `rag eval` progress on a terminal only

        rows_iter = tqdm(rows, desc="questions", unit="q")
    else:
        rows_iter = rows
    for row in rows_iter:
        answer = engine.ask(row["question"], k=max(k, 1), mode=mode)
        ids = [p.chunk.id for p in answer.passages]
        gold = None
        if row.get("answerable", True):
            gold = next((c.id for c in engine.chunks if c.title.startswith(row["article"])
                         and row["evidence"] in c.text), None)
        rank = ids.index(gold) + 1 if gold in ids else None
        art_rank = next((i + 1 for i, p in enumerate(answer.passages)
                         if row.get("article") and p.chunk.title.startswith(row["article"])), None)
        cited = [c.title for c in answer.citations]
        details.append({
            "id": row.get("id"), "question": row["question"], "answerable": row.get("answerable", True),
            "gold": gold, "rank": rank, "article_rank": art_rank, "refused": answer.refused,
            "answer_hit": (not answer.refused) and answer_hit(answer.text, row.get("answer_any", [])),
            "cited_gold": sum(t.startswith(row.get("article") or "\0") for t in cited), "cited": len(cited),
            "grounding": dict(answer.grounding), "mode": answer.mode, "notices": list(answer.notices),
        })
    ans = [d for d in details if d["answerable"]]
    n = max(len(ans), 1)

    def hit(kk):
        return sum(d["rank"] is not None and d["rank"] <= kk for d in ans) / n

    report = {
        "rows": len(details), "answerable": len(ans),
        "hit@1": hit(1), "hit@5": hit(5), "hit@10": hit(10),
        f"recall@{k}": hit(k), "k": k,
        "mrr@10": sum(1 / d["rank"] for d in ans if d["rank"] and d["rank"] <= 10) / n,
        "ndcg@10": sum(1 / math.log2(1 + d["rank"]) for d in ans if d["rank"] and d["rank"] <= 10) / n,
        "article_hit@3": sum(d["article_rank"] is not None and d["article_rank"] <= 3 for d in ans) / n,
        "answer_hit": sum(d["answer_hit"] for d in ans) / n,
        "cited_gold_precision": (sum(d["cited_gold"] for d in ans) / max(sum(d["cited"] for d in ans), 1)),
        "refusal_accuracy": sum(d["refused"] != d["answerable"] for d in details) / max(len(details), 1),
        "recall_curve": [hit(i) for i in range(1, k + 1)],
        "mode": mode or "none",
        "citation_precision": _ratio(details, "verified_citations", "citations"),
        "unsupported_sentence_rate": _ratio(details, "unsupported", "sentences"),
        "details": details,
    }
    return report


def _ratio(details: list[dict], num: str, den: str) -> float | None:
    """Sum of ``grounding[num]`` over sum of ``grounding[den]`` (None when nothing was generated)."""
    d = sum(x["grounding"].get(den, 0) for x in details)
    return None if d == 0 else sum(x["grounding"].get(num, 0) for x in details) / d


def plot_recall(report: dict, out: str | Path) -> None:
    """Save the recall@k curve of ``report`` as a PNG (needs matplotlib)."""
    try:
        import matplotlib  # lazy: matplotlib costs 0.2 s; `rag eval --plot` only

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # lazy: `rag eval --plot` only
    except ImportError as e:
        raise ValueError("--plot needs matplotlib: pip install matplotlib") from e
    curve = report["recall_curve"]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(curve) + 1), curve, marker="o")
    ax.set(xlabel="k", ylabel="recall@k (gold passage)", ylim=(0, 1.02),
           title=f"recall@k, {report['answerable']} answerable questions")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def format_table(report: dict) -> str:
    """The metrics as a two-column text table."""
    keys = ["hit@1", "hit@5", "hit@10", f"recall@{report['k']}", "mrr@10", "ndcg@10", "article_hit@3", "answer_hit",
            "cited_gold_precision", "refusal_accuracy"]
    lines = [f"{report['rows']} questions ({report['answerable']} answerable)", "-" * 34]
    lines += [f"{key:<22}{report[key]:>10.3f}" for key in keys]
    for key in ("citation_precision", "unsupported_sentence_rate"):
        if report.get(key) is not None:
            lines.append(f"{key:<26}{report[key]:>6.3f}")
    lines.insert(0, f"answer mode: {report.get('mode', 'none')}")
    return "\n".join(lines)
