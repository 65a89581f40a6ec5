import json
import shutil

import numpy as np
import pytest

from rag import Engine
from rag.documents import Document
from rag.ingest import build_index
from rag.store import (IndexCorruptError, IndexMismatchError, IndexNotFoundError, current_version,
                       load_index)

TEXT = ("Harbour report\n\nThe harbour authority counted 412 container ships in March, a record for the port.\n\n"
        "Dredging of the northern channel finished in April after two years of delays and cost overruns.")


@pytest.fixture()
def small_index(tmp_path, embedder):
    d = tmp_path / "harbour"
    build_index([Document(text=TEXT, source="harbour.txt", title="harbour")], d, embedder=embedder)
    return d


def test_round_trip_search(small_index, embedder):
    si = load_index(small_index, embedder_name=embedder.name, dim=embedder.dim)
    assert [c.id for c in si.chunks] == ["harbour-report#p1", "harbour-report#p2"]
    assert si.manifest["embedder"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert si.manifest["dim"] == 384 and si.manifest["normalized"] is True
    assert si.manifest["sources"][0]["sha256"] == Document(TEXT, "x", "y").sha256
    q = embedder.encode(["When was the channel dredging completed?"])
    assert q.shape == (1, 384) and q.dtype == np.float32
    assert abs(float(np.linalg.norm(q[0])) - 1.0) < 1e-5
    scores, ids = si.vectors.search(q, 2)
    assert ids[0].tolist() == [1, 0]
    assert scores[0][0] > scores[0][1]


def test_engine_answers_from_own_index(small_index, embedder):
    eng = Engine(small_index, embedder=embedder)
    a = eng.ask("How many container ships did the harbour count in March?")
    assert not a.refused and "412" in a.text
    assert a.citations[0].chunk_id == "harbour-report#p1"


def test_other_embedder_raises_mismatch_naming_fix(small_index, embedder):
    version = current_version(small_index)
    m = json.loads((version / "manifest.json").read_text())
    m["embedder"], m["dim"] = "BAAI/bge-base-en-v1.5", 768
    (version / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError) as e:
        Engine(small_index, embedder=embedder)
    assert "bge-base-en-v1.5" in str(e.value) and "rag ingest" in str(e.value)


def test_missing_and_corrupt_index(tmp_path, small_index, embedder):
    with pytest.raises(IndexNotFoundError, match="rag ingest"):
        load_index(tmp_path / "nothing", embedder_name=embedder.name, dim=embedder.dim)
    (current_version(small_index) / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="rag ingest"):
        load_index(small_index, embedder_name=embedder.name, dim=embedder.dim)


def test_interrupted_write_leaves_previous_version_live(small_index, embedder):
    before = current_version(small_index)
    # what a writer killed before its rename leaves behind: a half-written temporary folder
    shutil.copytree(before, small_index / ".tmp-999-1")
    (small_index / ".tmp-999-1" / "manifest.json").unlink()
    si = load_index(small_index, embedder_name=embedder.name, dim=embedder.dim)
    assert len(si.chunks) == 2 and current_version(small_index) == before
    # the next successful write switches versions and clears the leftovers
    build_index([Document(text=TEXT + "\n\nA third paragraph about pilots, tugs and the night shift at the port.",
                          source="harbour.txt", title="harbour")], small_index, embedder=embedder)
    after = current_version(small_index)
    assert after != before and not before.exists() and not (small_index / ".tmp-999-1").exists()
    assert len(load_index(small_index, embedder_name=embedder.name, dim=embedder.dim).chunks) == 3
