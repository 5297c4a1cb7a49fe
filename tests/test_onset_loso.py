"""scripts/onset_loso_eval.py: every source is held out once, and its head never trains on it."""

from tests.conftest import load_script


def test_each_source_is_held_out_once_and_its_head_trains_on_every_other_clip_in_order(monkeypatch):
    module = load_script("onset_loso_eval", monkeypatch)
    source = {"c": "B", "a": "A", "d": "A", "b": "C", "e": "B"}

    folds = module.folds(source)

    assert list(folds) == ["A", "B", "C"]
    assert folds["A"] == (["c", "b", "e"], ["a", "d"])  # the clips keep their order: it changes what a head learns
    for held, (train, test) in folds.items():
        assert test and all(source[c] == held for c in test)
        assert train == [c for c in source if source[c] != held]
    assert sorted(c for _, test in folds.values() for c in test) == sorted(source)
