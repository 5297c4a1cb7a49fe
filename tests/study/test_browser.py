"""The study in headless Chromium: a whole participant session, and the organiser's page against the database."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from scipy import stats

from egosonics.study.server import StudyServer

from .conftest import TOKEN, Participant

pytestmark = pytest.mark.slow


def test_a_whole_participant_session(server: StudyServer, page: object) -> None:
    page.goto(server.url)
    page.click("#start")
    page.wait_for_url("**/p/*/")
    pid = page.url.rstrip("/").split("/")[-1]
    # The clip plays in the browser: its metadata (1 s, 32 × 32) loads from the blinded media URL.
    meta = page.evaluate("""async () => { const v = document.querySelector('#clip');
        if (v.readyState < 1) await new Promise((ok, fail) => { v.onloadedmetadata = ok; v.onerror = fail; });
        return [v.duration, v.videoWidth, new URL(v.src).pathname]; }""")
    assert abs(meta[0] - 1.0) < 0.1 and meta[1] == 32 and meta[2] == f"/p/{pid}/media/0"
    # An incomplete form is not sent: the browser asks for the missing answers first (required radios).
    page.click("#next")
    assert page.inner_text("#progress") == "Clip 1 of 20" and server.store.next_position(pid) == 0
    rng = np.random.default_rng(7)
    given: list[dict[str, object]] = []
    for position in range(20):
        assert page.inner_text("#progress") == f"Clip {position + 1} of 20"
        if position == 9:  # a reload in the middle resumes on the same page
            page.reload()
            assert page.inner_text("#progress") == "Clip 10 of 20"
        if page.locator("input[name=realism]").count():
            answer = {"realism": int(rng.integers(1, 6)),
                      **{q: int(rng.integers(0, 2)) for q in ("relevant", "synchronized", "other_category")}}
            page.check(f"input[name=realism][value='{answer['realism']}']")
            for q in ("relevant", "synchronized", "other_category"):
                page.check(f"input[name={q}][value={'yes' if answer[q] else 'no'}]")
        else:
            sources = page.eval_on_selector_all("video", "vs => vs.map(v => new URL(v.src).pathname)")
            assert sources == [f"/p/{pid}/media/{position}/left", f"/p/{pid}/media/{position}/right"]
            answer = {"choice": str(rng.choice(["left", "right"]))}
            page.check(f"input[name=choice][value={answer['choice']}]")
        given.append(answer)
        page.click("#next")
        page.wait_for_load_state()
    assert page.inner_text("#done") == "Thank you!" and page.inner_text("#code") == pid
    stored = server.store.answers(pid)
    assert [{k: a[k] for k in g} for a, g in zip(stored, given, strict=True)] == given


def _expected(db: str, systems: list[str], ours: str, baseline: str, truth: str) -> dict[str, tuple[float, str]]:
    """Every number of the organiser's page, computed here with SQL and scipy, formatted as the page should be."""
    score = lambda v: (v, f"{v:.3f}")  # noqa: E731
    share = lambda v: (v, f"{100 * v:.1f} %")  # noqa: E731
    out: dict[str, tuple[float, str]] = {}
    rating = "FROM answers a JOIN pages p USING (participant_id, position) WHERE p.kind = 'rating'"
    with sqlite3.connect(db) as conn:
        for s in systems:
            values = [v for (v,) in conn.execute(f"SELECT a.realism {rating} AND p.system = ?", (s,))]
            low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
            out[f"n:{s}"] = (len(values), str(len(values)))
            out[f"mos:{s}"], out[f"ci_low:{s}"], out[f"ci_high:{s}"] = score(np.mean(values)), score(low), score(high)
            row = conn.execute(f"SELECT AVG(a.realism >= 4), AVG(a.relevant), AVG(a.synchronized), "
                               f"AVG(a.other_category) {rating} AND p.system = ?", (s,)).fetchone()
            for key, value in zip(("realistic", "relevant", "synchronized", "category_error"), row, strict=True):
                out[f"{key}:{s}"] = share(value)
        n, wins = conn.execute(
            "SELECT COUNT(*), SUM((a.choice = 'left' AND p.left_system = ?) OR (a.choice = 'right' AND "
            "p.right_system = ?)) FROM answers a JOIN pages p USING (participant_id, position) "
            "WHERE p.kind = 'preference' AND ? IN (p.left_system, p.right_system)", (ours, ours, baseline)).fetchone()
        interval = stats.binomtest(wins, n).proportion_ci(0.95, method="wilson")
        out[f"pref_n:{baseline}"], out[f"pref_wins:{baseline}"] = (n, str(n)), (wins, str(wins))
        out[f"pref_rate:{baseline}"] = share(wins / n)
        out[f"pref_ci_low:{baseline}"], out[f"pref_ci_high:{baseline}"] = share(interval.low), share(interval.high)
        per = f"SELECT a.participant_id, p.clip, a.realism {rating} AND p.system = ?"
        cases, same = conn.execute(f"SELECT COUNT(*), AVG(o.realism >= g.realism) FROM ({per}) o JOIN ({per}) g "
                                   "USING (participant_id, clip)", (ours, truth)).fetchone()
        out["as_real_cases"], out["as_real_case_share"] = (cases, str(cases)), share(same)
        mean = f"SELECT p.clip, AVG(a.realism) AS m {rating} AND p.system = ? GROUP BY p.clip"
        clips, same = conn.execute(f"SELECT COUNT(*), AVG(o.m >= g.m) FROM ({mean}) o JOIN ({mean}) g USING (clip)",
                                   (ours, truth)).fetchone()
        out["as_real_clips"], out["as_real_clip_share"] = (clips, str(clips)), share(same)
    return out


def test_results_page_shows_the_numbers_of_the_database(server: StudyServer, page: object) -> None:
    # 12 participants: 9 finish, 3 stop part-way (their answers count too).
    rng = np.random.default_rng(11)
    for k in range(12):
        p = Participant(server)
        pages = server.store.pages(p.join())
        for pg in pages[: 20 if k < 9 else 5 + k]:
            p.answer(pg.position, pg.kind, rng)
    page.goto(f"{server.url}admin?token={TOKEN}")
    shown = {el.get_attribute("data-key"): el for el in page.locator("[data-key]").all()}
    expected = _expected(str(server.store.path), ["egosonics", "diff-foley", "ground-truth"], "egosonics",
                         "diff-foley", "ground-truth")
    assert set(expected) <= set(shown)
    for key, (value, text) in expected.items():
        element = shown[key]
        assert element.inner_text() == text, key
        assert float(element.get_attribute("data-value")) == pytest.approx(float(value), rel=1e-12, abs=1e-12), key
    with sqlite3.connect(server.store.path) as conn:
        answers = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    assert shown["participants"].inner_text() == "12" and shown["finished"].inner_text() == "9"
    assert shown["answers"].inner_text() == str(answers)
    # The figures are drawn (PNG decoded by the browser).
    widths = page.eval_on_selector_all("img.figure", "imgs => Promise.all(imgs.map(i => i.decode().then(() => "
                                                     "i.naturalWidth)))")
    assert len(widths) == 3 and min(widths) > 300
