"""Crash safety: a real `rag ingest` subprocess killed with SIGKILL while it embeds and while it
writes leaves the previous index loadable and complete; the lock dies with the process."""
from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.indexes import add_documents
from rag.store import current_version, load_index, write_lock

from conftest import SHARED

SQUAD = SHARED / "eval" / "squad_v1.1_dev" / "paragraphs.jsonl"


def start_ingest(folder: Path, index_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(folder), "--index", str(index_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def wait_for(proc: subprocess.Popen, marker: bytes, timeout: float = 120) -> bytes:
    """Read the process's stderr until the regular expression ``marker`` matches (tqdm redraws
    with \\r, not \\n)."""
    seen, deadline = b"", time.monotonic() + timeout
    fd = proc.stderr.fileno()
    while not re.search(marker, seen):
        assert time.monotonic() < deadline and proc.poll() is None, seen.decode(errors="replace")[-2000:]
        if select.select([fd], [], [], 0.5)[0]:
            seen += os.read(fd, 65536)
    return seen


def state(index_dir: Path, embedder) -> tuple[str, list[str]]:
    """The live version and its chunk ids, after checking the index is complete and consistent."""
    s = load_index(index_dir, embedder_name=embedder.name, dim=embedder.dim)  # raises if damaged
    assert len(s.vectors) == len(s.chunks) == s.manifest["count"] == int(s.bm25.scores["num_docs"])
    assert len(s.sentences) == len(s.sent_vectors) == s.manifest["sentences"]
    assert s.sentences[:, 0].max() == len(s.chunks) - 1
    return current_version(index_dir).name, [c.id for c in s.chunks]


@pytest.mark.slow  # real servers or killed processes; `pytest -m 'not slow'` skips it
def test_sigkill_mid_embedding_and_mid_write_loses_nothing(tmp_path, embedder):
    small = tmp_path / "notes"
    small.mkdir()
    (small / "harbour.md").write_text("# Harbour notes\n\nThe harbour authority counted 412 container ships "
                                      "in March, a record for the port.\n")
    index_dir = tmp_path / "idx"
    add_documents([small], index_dir, embedder=embedder)
    before = state(index_dir, embedder)

    big = tmp_path / "squad"
    big.mkdir()
    with open(SQUAD, encoding="utf-8") as f:
        rows = [json.loads(line) for _, line in zip(range(80), f)]
    for r in rows:
        (big / f"{r['pid']}.txt").write_text(f"{r['title'].replace('_', ' ')}\n\n{r['context']}\n", encoding="utf-8")

    committed = False
    # killed once a progress bar shows a first batch done (mid-embedding), and as the write begins
    kills = [rb"Embedding chunks:[^\r\n]*?\| *[1-9]\d*/\d+", rb"Embedding sentences:[^\r\n]*?\| *[1-9]\d*/\d+",
             rb"Writing the index"]
    for marker in kills:
        proc = start_ingest(big, index_dir)
        wait_for(proc, marker)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        version, ids = state(index_dir, embedder)
        if marker.startswith(b"Embedding"):
            assert (version, ids) == before, "nothing is written before the embedding ends"
        else:  # killed while writing: the old version, or the new one complete
            committed = (version, ids) != before
            assert not committed or (len(ids) == len(before[1]) + len(rows) and set(before[1]) <= set(ids)), ids[:5]
        with write_lock(index_dir, wait=False):  # the dead writer's lock is gone with it
            # and what it left (a .tmp-* folder, or a renamed v-* never made live) is removed
            assert sorted(p.name for p in index_dir.iterdir() if p.is_dir()) == [version]

    # the next ingest succeeds and sweeps away what killed writers left behind
    (small / "harbour.md").write_text("# Harbour notes\n\nThe harbour authority counted 415 container ships "
                                      "in March, a record for the port.\n")
    add_documents([small], index_dir, embedder=embedder)
    version, ids = state(index_dir, embedder)
    assert len(ids) == 1 + (len(rows) if committed else 0) and "harbour-notes#p1" in ids
    leftovers = [p.name for p in index_dir.iterdir() if p.is_dir()]
    assert leftovers == [version]
