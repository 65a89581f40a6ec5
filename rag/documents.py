"""Reading documents: the bundled default corpus and plain-text files from disk.

A :class:`Document` is decoded text plus what is known of its origin. Files are read as bytes
and decoded strictly (UTF-8, with or without BOM, or UTF-16 with a BOM); a file that is binary or
not valid text raises :class:`DocumentError` with a one-line reason, and the caller skips it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

#: File types :func:`read_file` accepts.
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
#: Largest file read, in bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024


class DocumentError(ValueError):
    """A file that cannot be ingested; the message is a one-line reason."""


@dataclass
class Document:
    """Decoded text of one source file with its provenance.

    ``source`` identifies the file (a path, or ``bundled:<name>``); ``sha256`` is the hash of the
    decoded text; ``article_urls`` maps article titles to their own URLs where known.
    """

    text: str
    source: str
    title: str
    url: str | None = None
    article_urls: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def decode_bytes(data: bytes, name: str = "file") -> str:
    """Decode file bytes to text: UTF-8 (BOM allowed) or BOM-marked UTF-16.

    Raises :class:`DocumentError` for binary data (NUL bytes without a UTF-16 BOM) and for bytes
    that are not valid UTF-8. Line endings are normalised to ``\\n``.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise DocumentError(f"{name}: invalid UTF-16 text ({e.reason})") from e
    elif b"\x00" in data[:8192]:
        raise DocumentError(f"{name}: binary data, not text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise DocumentError(
                f"{name}: not UTF-8 text (invalid byte at position {e.start}); save it as UTF-8") from e
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _article_urls(meta: dict) -> dict[str, str]:
    """Title -> URL from a metadata file's ``articles`` mapping."""
    return {t: a["url"] for t, a in meta.get("articles", {}).items() if isinstance(a, dict) and a.get("url")}


def read_file(path: str | Path) -> Document:
    """Read one text or Markdown file into a :class:`Document`.

    The title is the file name without its suffix (an archive page's own title lines still split
    it into articles). A sidecar ``NAME.meta.json`` with ``title``/``url`` overrides these.
    Raises :class:`DocumentError` for unsupported types, empty, oversized or undecodable files.
    """
    path = Path(path)
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise DocumentError(f"{path.name}: unsupported file type {path.suffix or '(none)'}; "
                            f"supported: {', '.join(sorted(TEXT_SUFFIXES))}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DocumentError(f"{path.name}: {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit")
    text = decode_bytes(path.read_bytes(), path.name)
    if not text.strip():
        raise DocumentError(f"{path.name}: empty file")
    meta: dict = {}
    sidecar = path.with_name(path.stem + ".meta.json")
    if sidecar.exists():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError as e:
            raise DocumentError(f"{sidecar.name}: invalid JSON ({e})") from e
    return Document(text=text, source=str(path.resolve()), title=meta.get("title") or path.stem,
                    url=meta.get("url"), article_urls=_article_urls(meta), meta=meta)


def iter_paths(paths: list[str | Path]) -> list[Path]:
    """Expand files and folders (walked recursively) into a sorted list of candidate files,
    skipping hidden files and ``*.meta.json`` sidecars. Raises ``FileNotFoundError`` for a path
    that does not exist."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"No such file or folder: {p}")
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        out += [f for f in files if not f.name.startswith(".") and not f.name.endswith(".meta.json")]
    return out


def default_corpus() -> Document:
    """The bundled default corpus: The Strategist's "Tag Archive for: Interpol" page
    (https://www.aspistrategist.org.au/tag/interpol/, Australian Strategic Policy Institute)."""
    data = resources.files("rag") / "data"
    meta = json.loads((data / "interpol.meta.json").read_text(encoding="utf-8"))
    text = decode_bytes((data / meta["file"]).read_bytes(), meta["file"])
    return Document(text=text, source=f"bundled:{meta['file']}", title=meta["title"],
                    url=meta["url"], article_urls=_article_urls(meta), meta=meta)
