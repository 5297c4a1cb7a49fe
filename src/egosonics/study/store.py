"""Every answer in SQLite, written as it is given.

The database is in WAL mode (readers never block the writer; a crash loses nothing committed) and each answer is
one short ``BEGIN IMMEDIATE`` transaction on a connection of its own, so any number of server threads can write. An
answer is keyed by (participant, position): a resubmitted page (a double click, a browser retrying a POST) is
recognised and not stored twice, and the first answer stays.

Tables:
    systems       name, role, folder: the study the database belongs to (so the file alone can be analysed)
    participants  id (public, shown to the organiser), hash of the session secret (the cookie), when, browser
    pages         each participant's drawn pages: kind, clip, system (rating) or left/right (preference)
    answers       realism 1-5, relevant / synchronized / other_category 0-1 (rating), or choice left/right
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import random
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from egosonics.study.config import Study, StudyError
from egosonics.study.plan import PREFERENCE, RATING, Page, build_plan

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS systems (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('ours', 'baseline', 'ground_truth')),
    folder TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS participants (
    id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    plan_seed INTEGER NOT NULL,
    user_agent TEXT
);
CREATE TABLE IF NOT EXISTS pages (
    participant_id TEXT NOT NULL REFERENCES participants(id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('rating', 'preference')),
    clip TEXT NOT NULL,
    system TEXT REFERENCES systems(name),
    left_system TEXT REFERENCES systems(name),
    right_system TEXT REFERENCES systems(name),
    PRIMARY KEY (participant_id, position)
);
CREATE TABLE IF NOT EXISTS answers (
    participant_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    realism INTEGER CHECK (realism BETWEEN 1 AND 5),
    relevant INTEGER CHECK (relevant IN (0, 1)),
    synchronized INTEGER CHECK (synchronized IN (0, 1)),
    other_category INTEGER CHECK (other_category IN (0, 1)),
    choice TEXT CHECK (choice IN ('left', 'right')),
    answered_at TEXT NOT NULL,
    PRIMARY KEY (participant_id, position),
    FOREIGN KEY (participant_id, position) REFERENCES pages(participant_id, position)
);
"""

YES_NO_QUESTIONS = ("relevant", "synchronized", "other_category")


class AnswerError(ValueError):
    """An answer the store refuses; ``status`` is the HTTP status the server answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Rating:
    """The answers of one rating page (the four questions of the paper's Sec. A)."""

    realism: int
    relevant: bool
    synchronized: bool
    other_category: bool


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class StudyStore:
    """The SQLite file of one study. Thread-safe: every call opens (and closes) its own connection."""

    def __init__(self, path: str | os.PathLike[str], study: Study) -> None:
        self.path = Path(path)
        self.study = study
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StudyError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); use a local disk")
            conn.executescript(SCHEMA)
            self._check_and_record_systems(conn)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection in autocommit mode (transactions are explicit); closed on exit."""
        with closing(sqlite3.connect(self.path, timeout=60, isolation_level=None)) as conn:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn

    def _check_and_record_systems(self, conn: sqlite3.Connection) -> None:
        """Refuse a database made for another study (a system whose role changed, a clip that is gone)."""
        known = {row["name"]: row["role"] for row in conn.execute("SELECT name, role FROM systems")}
        for system in self.study.systems:
            if system.name in known and known[system.name] != system.role:
                raise StudyError(f"{self.path}: system {system.name!r} has role {known[system.name]!r} in this "
                                 f"database but {system.role!r} in {self.study.path}; use a new database file")
        used = conn.execute("SELECT DISTINCT clip, system, left_system, right_system FROM pages").fetchall()
        names = {s.name for s in self.study.systems}
        for row in used:
            gone = [s for s in (row["system"], row["left_system"], row["right_system"]) if s and s not in names]
            if gone or row["clip"] not in self.study.clips:
                raise StudyError(f"{self.path}: participants were shown clip {row['clip']!r} of system(s) "
                                 f"{gone or [row['system'] or row['left_system']]}, which {self.study.path} no "
                                 "longer has; restore the clip or use a new database file")
        conn.execute("BEGIN IMMEDIATE")
        for system in self.study.systems:
            conn.execute("INSERT INTO systems (name, role, folder) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE "
                         "SET folder = excluded.folder", (system.name, system.role, str(system.folder)))
        conn.execute("COMMIT")

    # ------------------------------------------------------------------------------------------------ participants
    def create_participant(self, *, user_agent: str = "") -> tuple[str, str]:
        """Draw a new participant's pages and store them; returns (participant id, session secret)."""
        seed = secrets.randbits(63)
        pages = build_plan(self.study, random.Random(seed))
        secret = secrets.token_urlsafe(24)
        with self.connect() as conn:
            for _ in range(10):  # 32-bit ids: a collision is rare, and then we draw again
                pid = f"p{secrets.token_hex(4)}"
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("INSERT INTO participants (id, secret_sha256, created_at, plan_seed, user_agent) "
                                 "VALUES (?, ?, ?, ?, ?)", (pid, _hash(secret), _now(), seed, user_agent[:300]))
                    conn.executemany("INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)",
                                     [(pid, p.position, p.kind, p.clip, p.system, p.left, p.right) for p in pages])
                    conn.execute("COMMIT")
                except sqlite3.IntegrityError:
                    conn.execute("ROLLBACK")
                    continue
                log.info("participant %s joined (%d pages)", pid, len(pages))
                return pid, secret
        raise RuntimeError("could not draw a free participant id in 10 tries")

    def authenticate(self, participant: str, secret: str) -> bool:
        """Whether ``secret`` is ``participant``'s session secret (constant-time comparison)."""
        with self.connect() as conn:
            row = conn.execute("SELECT secret_sha256 FROM participants WHERE id = ?", (participant,)).fetchone()
        return row is not None and hmac.compare_digest(row["secret_sha256"], _hash(secret))

    def pages(self, participant: str) -> list[Page]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM pages WHERE participant_id = ? ORDER BY position",
                                (participant,)).fetchall()
        return [Page(position=r["position"], kind=r["kind"], clip=r["clip"], system=r["system"],
                     left=r["left_system"], right=r["right_system"]) for r in rows]

    def next_position(self, participant: str) -> int:
        """The first page without an answer (= the number of answers, since pages are answered in order)."""
        with self.connect() as conn:
            return conn.execute("SELECT COUNT(*) FROM answers WHERE participant_id = ?", (participant,)).fetchone()[0]

    # ------------------------------------------------------------------------------------------------ answers
    def record(self, participant: str, position: int, *, rating: Rating | None = None,
               choice: str | None = None) -> bool:
        """Store the answer to page ``position``; True if stored, False if that page was already answered.

        Raises:
            AnswerError: no such page, the wrong kind of answer for it, a value out of range, or a page after the
                one the participant is on (pages are answered in order).
        """
        # 1. Check the values before touching the database
        if (rating is None) == (choice is None):
            raise AnswerError("give either a rating or a choice")
        if rating is not None:
            if isinstance(rating.realism, bool) or rating.realism not in range(1, 6):
                raise AnswerError(f"realism must be 1, 2, 3, 4 or 5, got {rating.realism!r}")
            values = (rating.realism, *(int(bool(getattr(rating, q))) for q in YES_NO_QUESTIONS), None)
        else:
            if choice not in ("left", "right"):
                raise AnswerError(f"choice must be 'left' or 'right', got {choice!r}")
            values = (None, None, None, None, choice)
        with self.connect() as conn:
            # 2. One transaction: the page must exist, be of the right kind and be the current (or an answered) one
            conn.execute("BEGIN IMMEDIATE")
            try:
                page = conn.execute("SELECT kind FROM pages WHERE participant_id = ? AND position = ?",
                                    (participant, position)).fetchone()
                if page is None:
                    raise AnswerError(f"participant {participant} has no page {position}", status=404)
                wanted = RATING if rating is not None else PREFERENCE
                if page["kind"] != wanted:
                    raise AnswerError(f"page {position} is a {page['kind']} page, got a {wanted} answer")
                answered = conn.execute("SELECT COUNT(*) FROM answers WHERE participant_id = ?",
                                        (participant,)).fetchone()[0]
                if position > answered:
                    raise AnswerError(f"page {position} is not open yet; answer page {answered} first", status=409)
                # 3. Insert; a page answered before keeps its first answer
                cursor = conn.execute(
                    "INSERT INTO answers (participant_id, position, realism, relevant, synchronized, other_category, "
                    "choice, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(participant_id, position) DO NOTHING",
                    (participant, position, *values, _now()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return cursor.rowcount == 1

    def answers(self, participant: str) -> list[dict[str, object]]:
        """A participant's own answers, blinded as their pages are: position, kind and the answer, no system names."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT a.position, p.kind, a.realism, a.relevant, a.synchronized, a.other_category, a.choice, "
                "a.answered_at FROM answers a JOIN pages p USING (participant_id, position) "
                "WHERE a.participant_id = ? ORDER BY a.position", (participant,)).fetchall()
        return [{k: v for k, v in dict(row).items() if v is not None} for row in rows]

    # ------------------------------------------------------------------------------------------------ organiser
    def table(self, name: str) -> tuple[list[str], list[dict[str, object]]]:
        """(column names, rows) of ``"participants"``, ``"ratings"`` or ``"preferences"`` (the CSV exports)."""
        if name not in _TABLES:
            raise KeyError(f"unknown table {name!r}; choose from {sorted(_TABLES)}")
        with self.connect() as conn:
            cursor = conn.execute(_TABLES[name])
            rows = [dict(row) for row in cursor.fetchall()]
        return [column[0] for column in cursor.description], rows

    def progress(self) -> list[dict[str, object]]:
        """One row per participant: id, joined, pages answered, pages in total, last answer."""
        return self.table("participants")[1]

    def rating_rows(self) -> list[dict[str, object]]:
        """Every rating, unblinded: participant, position, clip, system, role and the four answers."""
        return self.table("ratings")[1]

    def preference_rows(self) -> list[dict[str, object]]:
        """Every preference, unblinded: which side was which system and which system was preferred."""
        return self.table("preferences")[1]


# The organiser's tables, unblinded (system names and roles joined in).
_TABLES = {
    "participants": "SELECT p.id, p.created_at, "
                    "(SELECT COUNT(*) FROM answers a WHERE a.participant_id = p.id) AS answered, "
                    "(SELECT COUNT(*) FROM pages g WHERE g.participant_id = p.id) AS total, "
                    "(SELECT MAX(answered_at) FROM answers a WHERE a.participant_id = p.id) AS last_answer_at "
                    "FROM participants p ORDER BY p.created_at, p.id",
    "ratings": "SELECT a.participant_id, a.position, p.clip, p.system, s.role, a.realism, a.relevant, "
               "a.synchronized, a.other_category, a.answered_at FROM answers a "
               "JOIN pages p USING (participant_id, position) JOIN systems s ON s.name = p.system "
               "WHERE p.kind = 'rating' ORDER BY a.participant_id, a.position",
    "preferences": "SELECT a.participant_id, a.position, p.clip, p.left_system, p.right_system, a.choice, "
                   "CASE a.choice WHEN 'left' THEN p.left_system ELSE p.right_system END AS preferred, "
                   "a.answered_at FROM answers a JOIN pages p USING (participant_id, position) "
                   "WHERE p.kind = 'preference' ORDER BY a.participant_id, a.position",
}
