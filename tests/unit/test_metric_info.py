"""hunchlab.metric_info: a metric's range and goal, declared in the spec or guessed (and said to be)."""

from __future__ import annotations

from hunchlab.metric_info import guess_goal, metric_info


def test_a_declared_range_and_goal_win_over_the_name() -> None:
    declared = [{"loss": {"range": [0, 10], "goal": "max"}}] * 2
    info = metric_info("loss", declared, [3.0, 4.0])
    assert (info.bounds, info.goal, info.bounds_from, info.goal_from) == ((0.0, 10.0), "max", "the spec", "the spec")


def test_a_proportion_name_gets_0_to_1_only_when_every_value_fits() -> None:
    assert metric_info("test_acc", [None], [0.4, 0.9]).bounds == (0.0, 1.0)
    assert metric_info("test_acc", [None], [40.0, 90.0]).bounds is None  # accuracy in percent
    assert metric_info("recall_gain", [None], [0.1]).bounds is None  # last word is not a proportion
    assert metric_info("val_loss", [None], [0.3]).bounds is None


def test_runs_that_disagree_on_a_declaration_get_none_of_it() -> None:
    declared = [{"acc": {"range": [0, 1]}}, {"acc": {"range": [0, 100]}}]
    assert metric_info("acc", declared, [50.0]).bounds is None


def test_goals_guessed_from_words() -> None:
    assert [guess_goal(m) for m in ("test_acc", "val/loss", "reward", "widgets", "loss_acc")] == \
        ["max", "min", "max", None, None]
