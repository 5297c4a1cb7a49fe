"""The study server over HTTP on loopback: sessions, resuming, concurrency, and every refusal with its message."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from egosonics.cli import main
from egosonics.study.server import StudyServer

from .conftest import TOKEN, Participant, make_study


def count_answers(db: Path) -> tuple[int, int, list[int]]:
    """(rows, distinct (participant, position) keys, answers per participant) straight from the SQLite file."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        distinct = "SELECT DISTINCT participant_id, position FROM answers"
        keys = conn.execute(f"SELECT COUNT(*) FROM ({distinct})").fetchone()[0]
        per = [n for (n,) in conn.execute("SELECT COUNT(*) FROM answers GROUP BY participant_id")]
    return rows, keys, per


def test_session_resumes_and_ignores_a_resubmitted_page(server: StudyServer) -> None:
    p = Participant(server)
    pid = p.join()
    pages = server.store.pages(pid)
    assert len(pages) == 20 and [pg.kind for pg in pages] == ["rating"] * 15 + ["preference"] * 5
    rng = np.random.default_rng(1)
    for page in pages[:7]:
        p.answer(page.position, page.kind, rng)
    # A reload (a new GET, the same cookie) shows the first unanswered page; the link itself leads back too.
    status, _, body = p.request("GET", f"/p/{pid}/")
    assert status == 200 and b"Clip 8 of 20" in body
    status, headers, _ = p.request("GET", "/")
    assert status == 303 and headers["location"] == f"/p/{pid}/"
    # The same page sent again (a double click): stored once, the first answer stays.
    first = server.store.answers(pid)[6]
    p.request("POST", f"/p/{pid}/answer", {"position": 6, "realism": 1, "relevant": "no", "synchronized": "no",
                                          "other_category": "no"})
    assert server.store.answers(pid)[6] == first and server.store.next_position(pid) == 7
    # Pages are blinded: no system or file name anywhere in the page a participant sees.
    for name in ("egosonics", "diff-foley", "ground-truth", "clip_"):
        assert name.encode() not in body
    for page in pages[7:]:
        p.answer(page.position, page.kind, rng)
    status, _, body = p.request("GET", f"/p/{pid}/")
    assert b"Thank you" in body and pid.encode() in body
    assert count_answers(server.store.path)[0] == 20


def test_media_are_served_blinded_with_ranges(server: StudyServer, clip_file: Path) -> None:
    p = Participant(server)
    pid = p.join()
    data = clip_file.read_bytes()
    status, headers, body = p.request("GET", f"/p/{pid}/media/0")
    assert status == 200 and body == data and headers["content-type"] == "video/mp4"
    status, headers, body = p.request("GET", f"/p/{pid}/media/0", headers={"Range": "bytes=100-199"})
    assert status == 206 and body == data[100:200] and headers["content-range"] == f"bytes 100-199/{len(data)}"
    status, _, body = p.request("GET", f"/p/{pid}/media/19/left")
    assert status == 200 and body == data
    status, _, body = p.request("GET", f"/p/{pid}/media/19/middle")
    assert status == 404 and b"has no clip &#x27;middle&#x27;" in body


def test_fifty_concurrent_participants_lose_and_duplicate_nothing(server: StudyServer) -> None:
    """50 participants answer their 20 pages at once (each also resends one page): exactly 1000 answers stored."""

    def session(k: int) -> int:
        rng = np.random.default_rng(k)
        p = Participant(server)
        pid = p.join()
        pages = server.store.pages(pid)
        for page in pages:
            p.answer(page.position, page.kind, rng)
            if page.position == k % 20:  # a resubmission that must not count twice
                p.answer(page.position, page.kind, rng)
        return len(pages)

    with ThreadPoolExecutor(max_workers=50) as pool:
        assert list(pool.map(session, range(50))) == [20] * 50
    rows, keys, per = count_answers(server.store.path)
    assert (rows, keys) == (1000, 1000) and per == [20] * 50
    with sqlite3.connect(server.store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM participants").fetchone()[0] == 50


def test_refusals_say_why(server: StudyServer, study_root: Path) -> None:
    alice, bob, stranger = Participant(server), Participant(server), Participant(server)
    a, b = alice.join(), bob.join()
    secret_file = study_root / "secret.txt"
    secret_file.write_text("not for participants")
    # 1. A participant reading another's answers or pages
    for path in (f"/p/{b}/answers.json", f"/p/{b}/", f"/p/{b}/media/0"):
        status, _, body = alice.request("GET", path)
        assert status == 403 and f"participant &#x27;{b}&#x27;&#x27;s pages and answers belong to another".encode() \
            in body, (path, body)
    status, _, body = alice.request("POST", f"/p/{b}/answer", {"position": 0, "choice": "left"})
    assert status == 403 and count_answers(server.store.path)[0] == 0
    status, _, body = stranger.request("GET", f"/p/{a}/answers.json")
    assert status == 403 and b"this browser has no session for participant" in body
    # 2. Organiser pages without the token, or with a wrong one
    for path in ("/admin", "/admin/results.json", "/admin/export/ratings.csv", "/admin/figures/mos.png"):
        status, _, body = stranger.request("GET", path)
        assert status == 401 and b"need the study&#x27;s token" in body, path
        status, _, body = stranger.request("GET", path + "?token=guess")
        assert status == 403 and b"wrong organiser token" in body, path
    assert stranger.request("GET", f"/admin?token={TOKEN}")[0] == 200
    # 3. Files outside the study folders (path traversal), even for the organiser
    (study_root / "clips" / "egosonics" / "link.mp4").symlink_to(secret_file)
    for attempt in ("..%2F..%2Fsecret.txt", "../../secret.txt", "%2e%2e/%2e%2e/secret.txt", "/" + str(secret_file),
                    "link.mp4"):
        status, _, body = stranger.request("GET", f"/admin/clip/egosonics/{attempt}?token={TOKEN}")
        assert status == 403 and b"is outside the study folders" in body, (attempt, body)
        assert b"not for participants" not in body
    for attempt in ("/static/../../secret.txt", "/p/../../secret.txt", f"/p/{a}/media/..%2F..%2Fsecret.txt"):
        status, _, body = alice.request("GET", attempt)
        assert status in (403, 404) and b"not for participants" not in body, (attempt, body)
        assert b"no page" in body or b"has no page" in body, (attempt, body)
    # 4. Bad answers: the value is repeated, nothing is stored
    for form, message in (({"position": 0, "realism": 7, "relevant": "yes", "synchronized": "yes",
                            "other_category": "no"}, b"realism must be 1, 2, 3, 4 or 5, got 7"),
                          ({"position": 0, "realism": 3, "relevant": "maybe", "synchronized": "yes",
                            "other_category": "no"}, b"relevant must be &#x27;yes&#x27; or &#x27;no&#x27;, got "
                                                     b"&#x27;maybe&#x27;"),
                          ({"position": 3, "realism": 3, "relevant": "yes", "synchronized": "yes",
                            "other_category": "no"}, b"page 3 is not open yet; answer page 0 first"),
                          ({"position": 0, "choice": "left"}, b"page 0 is a rating page, got a preference answer"),
                          ({"position": 99, "choice": "left"}, b"has no page 99")):
        status, _, body = alice.request("POST", f"/p/{a}/answer", form)
        assert status in (400, 404, 409) and message in body, (form, body)
    assert count_answers(server.store.path)[0] == 0


@pytest.fixture
def study_root(server: StudyServer) -> Path:
    return server.study.path.parent


def test_exports_and_report(server: StudyServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, body = Participant(server).request("GET", f"/admin/export/ratings.csv?token={TOKEN}")
    assert body.decode().strip() == "participant_id,position,clip,system,role,realism,relevant,synchronized," \
                                    "other_category,answered_at"  # a header even before the first answer
    rng = np.random.default_rng(3)
    for _ in range(3):
        p = Participant(server)
        pid = p.join()
        for page in server.store.pages(pid):
            p.answer(page.position, page.kind, rng)
    status, headers, body = p.request("GET", f"/admin/export/ratings.csv?token={TOKEN}")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    lines = body.decode().strip().splitlines()
    assert lines[0].startswith("participant_id,position,clip,system,role,realism") and len(lines) == 1 + 3 * 15
    status, _, body = p.request("GET", f"/admin/export/preferences.csv?token={TOKEN}")
    assert len(body.decode().strip().splitlines()) == 1 + 3 * 5
    # The same numbers offline: egosonics study STUDY --db DB --report DIR
    code = main(["study", str(server.study.path), "--db", str(server.store.path), "--report", str(tmp_path / "r")])
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == ["answers.png", "mos.png", "participants.csv", "preferences.csv", "preferences.png",
                     "ratings.csv", "results.json", "summary.csv"]
    assert "wrote" in capsys.readouterr().out


def test_cli_prints_the_addresses_and_refuses_bad_studies(tmp_path: Path, clip_file: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    yaml = make_study(tmp_path, clip_file, clips=2)
    proc = subprocess.Popen([sys.executable, "-m", "egosonics.cli", "study", str(yaml), "--port", "0", "--token",
                             TOKEN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(10)
    assert lines[0].startswith("participants: http://127.0.0.1:"), lines
    assert lines[1].startswith("organiser:    http://127.0.0.1:") and f"/admin?token={TOKEN}" in lines[1]
    assert (tmp_path / "study.sqlite").is_file()
    bad = tmp_path / "bad.yaml"
    bad.write_text("systems:\n  a: {role: winner, folder: clips/egosonics}\n")
    assert main(["study", str(bad)]) == 1
    assert "systems.a.role: unknown role 'winner'; choose from ['ours', 'baseline', 'ground_truth']" in \
        capsys.readouterr().err
