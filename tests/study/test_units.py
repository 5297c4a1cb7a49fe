"""Study definition, page plans and statistics, without a server."""

from __future__ import annotations

import math
import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from egosonics.study.config import StudyError, load_study
from egosonics.study.plan import build_plan
from egosonics.study.results import wilson
from egosonics.study.store import StudyStore
from egosonics.utils.stats import mean_ci

from .conftest import make_study


def test_load_study_matches_clips_by_name(tmp_path: Path, clip_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = make_study(tmp_path, clip_file, clips=4)
    shutil.copyfile(clip_file, tmp_path / "clips" / "egosonics" / "extra.mp4")  # not in the other folders
    (tmp_path / "clips" / "egosonics" / "notes.txt").write_text("not a clip")
    study = load_study(path)
    assert study.clips == ("clip_0", "clip_1", "clip_2", "clip_3")
    assert [s.role for s in study.systems] == ["ours", "baseline", "ground_truth"]
    assert study.ours.name == "egosonics" and study.ground_truth.name == "ground-truth"  # type: ignore[union-attr]
    assert study.pages_per_participant == 4 * 3 + 4
    assert "left out clip(s) ['extra'] of system 'egosonics'" in caplog.text


@pytest.mark.parametrize(("edit", "message"), [
    ("systems:\n  a: {role: winner, folder: clips/egosonics}\n", "systems.a.role: unknown role 'winner'"),
    ("systems:\n  a: {role: ours, folder: nowhere}\n", "nowhere: folder not found"),
    ("systems:\n  a: {role: baseline, folder: clips/egosonics}\n", "exactly one system must have role 'ours', got 0"),
    ("systems:\n  a: {role: ours, folder: clips/egosonics}\n  b: {role: ours, folder: clips/diff-foley}\n",
     "exactly one system must have role 'ours', got 2"),
    ("systems:\n  a: {role: ours, folder: clips/egosonics}\n  b: {role: baseline, folder: empty}\n",
     "no clip name is in every system's folder"),
    ("systems:\n  a: {role: ours, folder: clips/egosonics}\nratings_per_participant: -3\n",
     "ratings_per_participant must be a whole number >= 0 (or left out), got -3"),
    ("systems:\n  a: {role: ours, folder: clips/egosonics}\ncolour: red\n", "unknown key(s) ['colour']"),
    ("systems: [a, b]\n", "'systems' must map each system's name"),
])
def test_bad_study_files_say_what_is_wrong(tmp_path: Path, clip_file: Path, edit: str, message: str) -> None:
    make_study(tmp_path, clip_file, clips=2)
    (tmp_path / "empty").mkdir()
    path = tmp_path / "bad.yaml"
    path.write_text(edit)
    with pytest.raises(StudyError) as info:
        load_study(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_two_files_with_one_clip_name_are_refused(tmp_path: Path, clip_file: Path) -> None:
    path = make_study(tmp_path, clip_file, clips=2)
    shutil.copyfile(clip_file, tmp_path / "clips" / "egosonics" / "clip_0.webm")
    with pytest.raises(StudyError, match=r"two clips named 'clip_0' \(clip_0.mp4 and clip_0.webm\)"):
        load_study(path)


def test_plan_is_complete_blinded_in_random_order_and_counterbalanced(tmp_path: Path, clip_file: Path) -> None:
    study = load_study(make_study(tmp_path, clip_file, clips=6))
    plans = [build_plan(study, random.Random(seed)) for seed in range(20)]
    for plan in plans:
        ratings = [(p.clip, p.system) for p in plan if p.kind == "rating"]
        pairs = [p for p in plan if p.kind == "preference"]
        assert sorted(ratings) == sorted((c, s.name) for c in study.clips for s in study.systems)
        assert [p.kind for p in plan] == ["rating"] * 18 + ["preference"] * 6  # ratings before comparisons
        assert sorted(p.clip for p in pairs) == list(study.clips)
        assert sum(p.left == "egosonics" for p in pairs) == 3  # ours on the left in exactly half
        assert all({p.left, p.right} == {"egosonics", "diff-foley"} for p in pairs)
        assert [p.position for p in plan] == list(range(24))
    assert len({tuple((p.clip, p.system) for p in plan) for plan in plans}) == 20  # every participant's own order


def test_capped_plans_share_pages_equally_among_systems(tmp_path: Path, clip_file: Path) -> None:
    extra = "ratings_per_participant: 9\npairs_per_participant: 2\n"
    study = load_study(make_study(tmp_path, clip_file, clips=8, extra=extra))
    plan = build_plan(study, random.Random(0))
    assert len(plan) == 11 == study.pages_per_participant
    assert Counter(p.system for p in plan if p.kind == "rating") == {"egosonics": 3, "diff-foley": 3,
                                                                     "ground-truth": 3}


def test_mean_ci_is_the_student_t_interval() -> None:
    values = [4, 5, 3, 4, 4, 2, 5]
    ci = mean_ci(values)
    ref = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert ci.mean == pytest.approx(np.mean(values)) and (ci.low, ci.high) == pytest.approx(ref)
    assert ci.std == pytest.approx(np.std(values, ddof=1)) and ci.n == len(values)
    assert (mean_ci([]).mean, mean_ci([]).low) == (None, None)
    assert (mean_ci([3]).mean, mean_ci([3]).low, mean_ci([3]).high) == (3.0, None, None)
    assert (mean_ci([4, 4, 4]).mean, mean_ci([4, 4, 4]).low, mean_ci([4, 4, 4]).high) == (4.0, 4.0, 4.0)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (7, 12), (1, 1), (50, 100)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    rate, low, high = wilson(k, n)
    ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert rate == k / n and (low, high) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert wilson(0, 0) == (None, None, None) and not math.isnan(low)


def test_a_database_made_for_another_study_is_refused(tmp_path: Path, clip_file: Path) -> None:
    path = make_study(tmp_path, clip_file, clips=2)
    store = StudyStore(tmp_path / "answers.sqlite", load_study(path))
    store.create_participant()
    path.write_text(path.read_text().replace("{role: baseline", "{role: ground_truth").replace(
        "{role: ground_truth, folder: clips/ground-truth", "{role: baseline, folder: clips/ground-truth"))
    with pytest.raises(StudyError, match="system 'diff-foley' has role 'baseline' in this database but "
                                         "'ground_truth' in"):
        StudyStore(tmp_path / "answers.sqlite", load_study(path))
