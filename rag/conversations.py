"""Saved conversations: each user's questions and checked answers, in SQLite.

One database file (stdlib ``sqlite3``, write-ahead log, ``synchronous=FULL``) under the index
root, ``conversations.sqlite3``. Every turn is its own committed transaction, so a server killed
mid-answer loses no earlier turn, and several server processes can share the file. A user is any
string: a login name, or the chat's per-browser id. Every read and change names the user, and a
conversation of another user is treated as missing.

Example::

    store = ConversationStore(settings.index_root / "conversations.sqlite3")
    cid = store.create("alice", index="default")
    store.add_turn(cid, "alice", "Who is Meng Hongwei?", answer.to_dict())
    print(store.to_markdown(cid, "alice"))
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Title of a conversation until its first question names it.
NEW_TITLE = "New conversation"
#: Longest title kept, in characters (a longer one is cut, with "…").
MAX_TITLE = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, title TEXT NOT NULL, index_name TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_user ON conversations (user, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    n INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (conversation, n));
"""


class ConversationNotFound(KeyError):
    """No conversation with that id for that user."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "No such conversation."


@dataclass(frozen=True)
class ConversationInfo:
    """One row of :meth:`ConversationStore.list`: times in seconds since the epoch."""

    id: str
    title: str
    index: str
    created: float
    updated: float
    turns: int


@dataclass(frozen=True)
class Turn:
    """One question and its answer (``Answer.to_dict()`` as saved)."""

    n: int
    question: str
    answer: dict
    created: float


def _title_of(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


class ConversationStore:
    """The conversations of every user, in the SQLite file ``path`` (created with its folder).

    Thread- and process-safe: each call opens its own connection; writers wait up to 10 s for
    one another. Raises :class:`ConversationNotFound` for an id the user does not own, and
    ``ValueError`` for an empty title.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self):
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            with db:  # one transaction: committed on success, rolled back on error
                yield db

    def _owned(self, db, cid: str, user: str) -> None:
        if db.execute("SELECT 1 FROM conversations WHERE id=? AND user=?", (cid, user)).fetchone() is None:
            raise ConversationNotFound(f"No conversation {cid!r}.")

    def create(self, user: str, *, title: str = NEW_TITLE, index: str = "") -> str:
        """A new, empty conversation of ``user`` on the index named ``index``; returns its id."""
        cid, now = uuid.uuid4().hex, time.time()
        with self._db() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                       (cid, user, _title_of(title) or NEW_TITLE, index, now, now))
        return cid

    def add_turn(self, cid: str, user: str, question: str, answer: dict) -> int:
        """Save one turn (committed before returning); returns its number, 1-based. The first
        question names a conversation still called :data:`NEW_TITLE`."""
        now = time.time()
        with self._db() as db:
            self._owned(db, cid, user)
            n = db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE conversation=?", (cid,)).fetchone()[0]
            db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?)",
                       (cid, n, question, json.dumps(answer, ensure_ascii=False), now))
            db.execute("UPDATE conversations SET updated=?, title=CASE WHEN title=? THEN ? ELSE title END "
                       "WHERE id=?", (now, NEW_TITLE, _title_of(question), cid))
        return n

    def list(self, user: str) -> list[ConversationInfo]:
        """``user``'s conversations, the most recently updated first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.index_name, c.created, c.updated, COUNT(t.n) FROM conversations c "
                "LEFT JOIN turns t ON t.conversation = c.id WHERE c.user=? GROUP BY c.id "
                "ORDER BY c.updated DESC, c.created DESC", (user,)).fetchall()
        return [ConversationInfo(*r) for r in rows]

    def info(self, cid: str, user: str) -> ConversationInfo:
        """One conversation's row. Raises :class:`ConversationNotFound`."""
        for c in self.list(user):
            if c.id == cid:
                return c
        raise ConversationNotFound(f"No conversation {cid!r}.")

    def turns(self, cid: str, user: str) -> list[Turn]:
        """The turns of a conversation, in order. Raises :class:`ConversationNotFound`."""
        with self._db() as db:
            self._owned(db, cid, user)
            rows = db.execute("SELECT n, question, answer, created FROM turns WHERE conversation=? ORDER BY n",
                              (cid,)).fetchall()
        return [Turn(n, q, json.loads(a), t) for n, q, a, t in rows]

    def rename(self, cid: str, user: str, title: str) -> None:
        """Give a conversation a new title (whitespace folded, cut to :data:`MAX_TITLE`)."""
        title = _title_of(title or "")
        if not title:
            raise ValueError("A conversation's title cannot be empty.")
        with self._db() as db:
            self._owned(db, cid, user)
            db.execute("UPDATE conversations SET title=? WHERE id=?", (title, cid))

    def delete(self, cid: str, user: str) -> None:
        """Delete a conversation and its turns. Raises :class:`ConversationNotFound`."""
        with self._db() as db:
            self._owned(db, cid, user)
            db.execute("DELETE FROM conversations WHERE id=?", (cid,))

    def to_json(self, cid: str, user: str) -> dict:
        """The conversation as JSON-ready data: ``{"id", "title", "index", "created", "updated",
        "turns": [{"n", "question", "answer", "created"}]}``."""
        c = self.info(cid, user)
        return {"id": c.id, "title": c.title, "index": c.index, "created": c.created, "updated": c.updated,
                "turns": [{"n": t.n, "question": t.question, "answer": t.answer, "created": t.created}
                          for t in self.turns(cid, user)]}

    def to_markdown(self, cid: str, user: str) -> str:
        """The conversation as Markdown: each question and answer, the answers' ``[n]`` markers
        renumbered into one numbered bibliography at the end (title, author, site, date, URL,
        paragraph or page), one entry per cited passage and paragraph."""
        c = self.info(cid, user)
        out = [f"# {c.title}", ""]
        bib: dict[tuple, int] = {}
        entries: list[str] = []
        for t in self.turns(cid, user):
            a = t.answer
            local = {}
            for cit in a.get("citations", []):
                key = (cit.get("chunk_id"), cit.get("paragraph"), cit.get("page"))
                if key not in bib:
                    bib[key] = len(bib) + 1
                    entries.append(bibliography_entry(bib[key], cit))
                local[int(cit.get("number", 0))] = bib[key]
            text = re.sub(r"\[(\d+)\]", lambda m: f"[{local.get(int(m.group(1)), m.group(1))}]", a.get("text", ""))
            out += [f"**Q{t.n}: {t.question}**", ""]
            out += [("*No answer in the articles.* " if a.get("refused") else "") + text, ""]
        if entries:
            out += ["## Sources", "", *entries]
        return "\n".join(out).rstrip() + "\n"


def bibliography_entry(number: int, citation: dict) -> str:
    """``[n] Title. Author. Site. Date. URL, paragraph P (page G).`` from a citation's dict; the
    parts the source does not give are left out; without a URL the file name stands in."""
    parts = [citation.get("title") or "Untitled"]
    parts += [citation[k] for k in ("author", "site", "date") if citation.get(k)]
    where = f"paragraph {citation.get('paragraph')}" + (f", page {citation['page']}" if citation.get("page") else "")
    locator = citation.get("url") or citation.get("file") or ""
    parts.append(f"{locator}, {where}" if locator else where)
    return f"[{number}] " + ". ".join(str(p).strip().rstrip(".") for p in parts) + "."
