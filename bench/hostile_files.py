"""Hostile files: peak memory and time of reading and chunking each, one subprocess per case.

    python bench/hostile_files.py [--cases short_lines,docx_bomb,...] [--timeout 600]

Cases (generated in a temporary folder):

- ``short_lines``: a 6 MB text file of ``ok\\n`` × 2,000,000;
- ``tiny_paragraphs``: a 6 MB text file of one-word paragraphs, ``ok\n\n`` × 1,500,000;
- ``docx_bomb``: a .docx of about 0.5 MB whose ``word/document.xml`` decompresses to 152 MB;
- ``html_deep_8k`` / ``html_deep_100k``: ``<div>`` nested 8,000 / 100,000 levels deep, text inside;
- ``pdf_2000``: a 2,000-page PDF with a text layer (written by hand: one font, one line a page).

Each case runs ``rag.documents.read_file`` then ``rag.ingest.chunk_documents`` with the real
embedder's tokenizer (no embedding: the model's ONNX session is never loaded) in a fresh Python
process; the parent reads that child's peak RSS (``ru_maxrss`` from ``os.wait4``, KiB -> MiB) and
its wall time. A case that runs past ``--timeout`` seconds is killed and reported as such. Prints
a table, then one JSON line: ``{case: {"file_bytes", "peak_rss_mib", "seconds", "result"}}``.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES = ["baseline", "short_lines", "tiny_paragraphs", "docx_bomb", "html_deep_8k", "html_deep_100k", "pdf_2000"]


def make_short_lines(folder: Path) -> Path:
    p = folder / "short_lines.txt"
    p.write_bytes(b"ok\n" * 2_000_000)
    return p


def make_tiny_paragraphs(folder: Path) -> Path:
    p = folder / "tiny_paragraphs.txt"
    p.write_bytes(b"ok\n\n" * 1_500_000)
    return p


def make_baseline(folder: Path) -> Path:
    p = folder / "tiny.txt"
    p.write_text("A tiny file.\n\nIt holds two short paragraphs, enough to make one chunk of text.\n")
    return p


def make_docx_bomb(folder: Path, xml_mb: int = 152) -> Path:
    """A real .docx (python-docx's template) whose document.xml is replaced by ``xml_mb`` MB of
    one repeated paragraph (deflate compresses it ~300:1)."""
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    para = b"<w:p><w:r><w:t>ok</w:t></w:r></w:p>"
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document '
            b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    tail = b"</w:body></w:document>"
    p = folder / "bomb.docx"
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in src.infolist():
            if item.filename == "word/document.xml":
                with out.open("word/document.xml", "w", force_zip64=True) as f:
                    f.write(head)
                    block = para * 30_000
                    for _ in range(xml_mb * 1_000_000 // len(block)):
                        f.write(block)
                    f.write(tail)
            else:
                out.writestr(item, src.read(item.filename))
    return p


def make_deep_html(folder: Path, depth: int) -> Path:
    p = folder / f"deep{depth}.html"
    p.write_text("<html><body>" + "<div>" * depth + "deep text here" + "</div>" * depth + "</body></html>")
    return p


def make_pdf(folder: Path, pages: int = 2000) -> Path:
    """A minimal PDF 1.4: one Helvetica font, one content stream a page with one line of text."""
    objs: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font = 3 + 2 * pages
    for i in range(pages):
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                    f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        stream = (f"BT /F1 12 Tf 72 720 Td (Page {i + 1} says the harbour opened in {1900 + i % 100}.) Tj ET"
                  ).encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    p = folder / "big.pdf"
    p.write_bytes(bytes(out))
    return p


MAKERS = {"baseline": make_baseline, "short_lines": make_short_lines,
          "tiny_paragraphs": make_tiny_paragraphs, "docx_bomb": make_docx_bomb,
          "html_deep_8k": lambda d: make_deep_html(d, 8000),
          "html_deep_100k": lambda d: make_deep_html(d, 100_000), "pdf_2000": make_pdf}


def child(path: str) -> None:
    """Read and chunk one file; print a one-line JSON result."""
    sys.path.insert(0, str(ROOT))
    from rag.documents import DocumentError, read_file
    from rag.embedder import Embedder
    from rag.ingest import chunk_documents

    try:
        doc = read_file(path)
    except DocumentError as e:
        print(json.dumps({"result": f"skipped: {e}"}))
        return
    chunks = chunk_documents([doc], Embedder())
    print(json.dumps({"result": f"{len(doc.text):,} chars, {len(chunks):,} chunks"}))


def run_case(path: Path, timeout: float) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = t0 + timeout
    status = usage = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)  # polling the child's exit, not synchronising with it
    seconds = time.perf_counter() - t0
    out = proc.stdout.read().decode(errors="replace").strip().splitlines()
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    if seconds > timeout:
        result = f"killed after {timeout:.0f} s"
    elif out:
        result = json.loads(out[-1])["result"]
    else:
        result = f"failed: {err[-1] if err else os.waitstatus_to_exitcode(status)}"
    return {"file_bytes": path.stat().st_size, "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "seconds": round(seconds, 2), "result": result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            folder = Path(tmp) / case
            folder.mkdir()
            path = MAKERS[case](folder)
            results[case] = run_case(path, args.timeout)
            r = results[case]
            print(f"{case:<16} {r['file_bytes'] / 2**20:>9.2f} MiB  peak {r['peak_rss_mib']:>8.1f} MiB  "
                  f"{r['seconds']:>8.2f} s  {r['result']}", flush=True)
            path.unlink()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
