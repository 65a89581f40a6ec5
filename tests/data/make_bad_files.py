"""Writes the small hostile-file corpus in ``tests/data/bad_files/`` (committed; run again to
recreate it). The big files (50 MB, a 2 MB line, over the size limit) are made by the tests
themselves in a temporary folder.

    python tests/data/make_bad_files.py
"""
from __future__ import annotations

import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent / "bad_files"


def pdf(pages: list[tuple[bytes, bytes]]) -> bytes:
    """A minimal valid PDF: one page per ``(content stream, resources dict)``, with a correct
    cross-reference table. Text uses the standard Helvetica font (no embedding needed)."""
    objs: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree (filled in below)
    kids = []
    font = len(objs) + 1
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for content, resources in pages:
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        stream_no = len(objs)
        res = resources.replace(b"FONT", b"%d 0 R" % font)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources " + res
                    + b" /Contents %d 0 R >>" % stream_no)
        kids.append(len(objs))
    objs[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def text_page(lines: list[str]) -> tuple[bytes, bytes]:
    ops = [b"BT /F1 12 Tf 72 770 Td 16 TL"]
    for line in lines:
        ops.append(b"(" + line.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)") + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops), b"<< /Font << /F1 FONT >> >>"


def image_page() -> tuple[bytes, bytes]:
    """A page that is only a picture (what a scanner makes): an 8x8 grey image, no text."""
    pixels = zlib.compress(bytes((x * 31 + y * 17) % 256 for y in range(8) for x in range(8)))
    return b"q 500 0 0 700 48 70 cm BI /W 8 /H 8 /CS /G /BPC 8 /F /Fl ID " + pixels + b" EI Q", b"<< >>"


FILES: dict[str, bytes] = {
    "empty.txt": b"",
    "whitespace only.txt": b"   \n\t\n  \r\n   \n",
    "binary.txt": bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256)) * 4,
    "diagram.png": bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(64),
    "latin1.txt": ("Café report from Zürich\n\n"
                   "The café beside the Zürich lake served 731 portions of crème brûlée to the "
                   "delegates during the congress week, according to its owner, Jürg Müller.\n").encode("latin-1"),
    "utf16.txt": ("Harbour pilots of Gdańsk\n\n"
                  "The harbour pilots of Gdańsk guided 58 tankers through the narrow channel in a "
                  "single week of storms, a record for the port authority.\n").encode("utf-16"),
    "page.html": b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Lighthouse keepers</title>
<style>body { color: red } .hidden { display: none } /* STYLE-TEXT */</style>
<script>var secret = "SCRIPT-TEXT"; document.write("<p>SCRIPT-TEXT</p>");</script>
<script type="application/ld+json">{"headline": "SCRIPT-TEXT"}</script>
</head><body onload="alert('SCRIPT-TEXT')">
<nav><a href="/">Home</a> <a href="/about">NAV-TEXT</a></nav>
<!-- COMMENT-TEXT -->
<article><h1>Lighthouse keepers</h1>
<p>The lighthouse at Cape Wrath was automated in 1998, after 170 years in which keepers
lived beside the light and <b>trimmed the lamp</b> every night.</p>
<script>console.log("SCRIPT-TEXT")</script><style>p { margin: 0 } /* STYLE-TEXT */</style>
<p>Its last principal keeper, Donald Mackay, wrote that storms shook the tower so hard that
the lens rang like a bell.</p>
<noscript>NOSCRIPT-TEXT</noscript></article>
<footer>FOOTER-TEXT Copyright 2024</footer>
</body></html>
""",
    "scanned.pdf": pdf([image_page(), image_page()]),
    "broken.pdf": b"%PDF-1.4\nthis is not really a PDF, it was cut off here",
    "report.pdf": pdf([
        text_page(["Tunnel inspection", "", "The inspection of the northern rail tunnel began in May",
                   "and lasted six weeks, with crews working only at night."]),
        text_page(["The inspectors found 23 cracks in the northern tunnel lining,",
                   "none of them deep enough to close the line to trains."]),
    ]),
    "name with spaces.txt": ("Beekeepers cooperative\n\n"
                             "The beekeepers cooperative sold 9,400 jars of heather honey at the "
                             "autumn market in the valley town.\n").encode(),
    "Straße über notes.md": ("Bridge survey\n\n"
                             "The survey counted 264 cyclists crossing the Rhine bridge at Straßburg "
                             "each morning before eight o'clock.\n").encode(),
    "v1..2 draft.txt": ("Draft rail budget\n\n"
                        "The draft budget allocates 47 million euros to rail maintenance over the "
                        "next three years, mostly for signalling.\n").encode(),
}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, data in FILES.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(FILES)} files to {OUT}")
