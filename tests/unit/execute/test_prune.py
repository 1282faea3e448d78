"""The median pruning rule: which trials a sweep stops early, and which it lets finish."""

from __future__ import annotations

from hunchlab.execute.prune import MedianPruner


def _pruner(**rule):
    return MedianPruner({"metric": "acc", "goal": "max", "after": 0, "min_trials": 2, **rule})


def _feed(pruner, run_id, points, tmp_path):
    path = tmp_path / f"{run_id}.jsonl"
    logs = [f'{{"t": "log", "step": {s}, "m": {{"acc": {v}}}}}' for s, v in points]
    lines = ['{"hunch_events": 1, "run": "x"}', *logs]
    path.write_text("\n".join(lines) + "\n")
    pruner.observe(run_id, path)


def test_median_stopping_prunes_only_below_the_median_of_enough_finished_trials(tmp_path):
    p = _pruner()
    p.add_finished([(0, 0.5), (10, 0.8)])
    _feed(p, "bad", [(0, 0.1), (10, 0.2)], tmp_path)
    assert p.verdict("bad") is None, "one finished trial is not enough"
    p.add_finished([(0, 0.6), (10, 0.9)])
    reason = p.verdict("bad")
    assert reason and "step 10" in reason and "median 0.85" in reason
    _feed(p, "good", [(0, 0.55), (10, 0.95)], tmp_path)
    assert p.verdict("good") is None
    _feed(p, "early", [(3, 0.0)], tmp_path)
    assert "median 0.55" in p.verdict("early"), "finished values at or before the step count"
    late = _pruner(after=5)
    late.finished = p.finished
    _feed(late, "early", [(3, 0.0)], tmp_path)
    assert late.verdict("early") is None, "nothing is judged before `after`"


def test_median_stopping_respects_the_goal_and_learns_from_finished_trials(tmp_path):
    p = _pruner(goal="min", min_trials=1)
    p.add_finished([(0, 1.0)])
    _feed(p, "a", [(0, 0.5)], tmp_path)
    assert p.verdict("a") is None
    p.ended("a", "finished")
    _feed(p, "b", [(0, 0.9)], tmp_path)
    assert "median 0.75" in p.verdict("b")
    p.ended("b", "pruned")
    assert len(p.finished) == 2, "a pruned trial does not move the median"
