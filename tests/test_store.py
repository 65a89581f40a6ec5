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


# ---------------------------------------------------------------- integrity (issue 15, item 7)

MARCH = "The harbour authority counted 412 container ships in March, a record for the port."
APRIL = "The harbour authority counted 398 container ships in April, a record for the port."


def _chunk_lines(index_dir):
    return (current_version(index_dir) / "chunks.jsonl").read_text(encoding="utf-8").splitlines()


def test_manifest_records_each_file_size_and_sha256_and_chunks_their_text_hash(small_index):
    import hashlib

    from rag.store import FORMAT_VERSION, text_hash

    version = current_version(small_index)
    m = json.loads((version / "manifest.json").read_text())
    assert m["format"] == FORMAT_VERSION == 3
    on_disk = sorted(p.relative_to(version).as_posix() for p in version.rglob("*")
                     if p.is_file() and p.name != "manifest.json")
    assert sorted(m["files"]) == on_disk and "vectors.faiss" in on_disk and "chunks.jsonl" in on_disk
    for name, f in m["files"].items():
        data = (version / name).read_bytes()
        assert f == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    rows = [json.loads(line) for line in _chunk_lines(small_index)]
    assert [r["hash"] for r in rows] == [text_hash(r["text"]) for r in rows]
    assert len(rows[0]["hash"]) == 16


def test_swapped_chunk_texts_give_an_error_naming_rebuild_never_a_wrong_answer(tmp_path, embedder):
    idx = tmp_path / "ships"
    build_index([Document(text=f"Ship counts\n\n{MARCH}\n\n{APRIL}", source="ships.txt", title="ships")], idx,
                embedder=embedder)
    q = "How many container ships did the harbour count in March?"
    assert "412" in Engine(idx, embedder=embedder).ask(q).text
    lines = _chunk_lines(idx)
    a, b = json.loads(lines[0]), json.loads(lines[1])
    assert len(a["text"]) == len(b["text"])  # same sizes, same sentence offsets: only the hash tells
    a["text"], b["text"] = b["text"], a["text"]
    size = (current_version(idx) / "chunks.jsonl").stat().st_size
    (current_version(idx) / "chunks.jsonl").write_text(
        "\n".join([json.dumps(a, ensure_ascii=False), json.dumps(b, ensure_ascii=False)]) + "\n", encoding="utf-8")
    assert (current_version(idx) / "chunks.jsonl").stat().st_size == size
    with pytest.raises(IndexCorruptError) as e:
        Engine(idx, embedder=embedder).ask(q)
    assert "is not the text it was written with" in str(e.value)
    assert str(e.value).endswith(f"Rebuild it with: rag ingest PATH... --index {idx} --rebuild")
    from rag.store import check_index

    problems = check_index(idx, embedder_name=embedder.name, dim=embedder.dim)
    assert len(problems) == 3 and "chunks.jsonl: content differs" in problems[0]
    assert "chunk ship-counts#p1: text differs" in problems[1]


def test_sizes_are_checked_on_every_load(small_index, embedder):
    path = current_version(small_index) / "sent_vectors.npy"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(IndexCorruptError, match=r"sent_vectors.npy is \d[\d,]* bytes, written as .*--rebuild$"):
        load_index(small_index, embedder_name=embedder.name, dim=embedder.dim)


def test_sentence_offsets_outside_their_chunk_are_caught_on_load(small_index, embedder):
    path = current_version(small_index) / "sentences.npy"
    s = np.load(path)
    s[0, 2] = 10_000
    with open(path, "wb") as f:  # same size: only the offsets check sees it
        np.save(f, s)
    with pytest.raises(IndexCorruptError, match="sentence offsets outside their chunks"):
        load_index(small_index, embedder_name=embedder.name, dim=embedder.dim)


def test_leftovers_of_killed_writers_are_removed_when_a_writer_opens_the_index(small_index):
    from rag.store import write_lock

    live = current_version(small_index)
    for name in (".tmp-4242-1", ".tmp-4243-2", "v-20260101T000000-4242-1"):
        shutil.copytree(live, small_index / name)  # what writers killed before or after their rename leave
    (small_index / "CURRENT.tmp").write_text("v-20260101T000000-4242-1")
    assert current_version(small_index) == live
    with write_lock(small_index):
        left = sorted(p.name for p in small_index.iterdir())
    assert left == [".lock", "CURRENT", live.name]


def test_a_writer_that_finds_leftovers_checks_the_live_version_and_warns(small_index, capsys):
    from rag.store import write_lock

    live = current_version(small_index)
    shutil.copytree(live, small_index / ".tmp-4242-1")
    path = live / "sent_vectors.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size: only the hash tells
    path.write_bytes(bytes(data))
    with write_lock(small_index):
        pass
    assert capsys.readouterr().err == (
        f"rag: warning: The index at {small_index} is damaged: sent_vectors.npy: content differs from what was "
        f"written (sha256). Rebuild it with: rag ingest PATH... --index {small_index} --rebuild\n")
    with write_lock(small_index):  # no leftovers: no check, no cost
        pass
    assert capsys.readouterr().err == ""
