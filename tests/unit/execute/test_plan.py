"""Sweep planning: grids, random draws, budgets, ablations, baselines."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunchlab.errors import HunchError, SpecError
from hunchlab.execute.plan import guess_goal, parse_axes, plan_ablation, plan_sweep, plan_with_baseline
from hunchlab.spec import load_spec

BASE = 'command: "echo {lr} {model.width}"\nparams: {lr: 0.1, steps: 10, act: relu, model: {width: 8}}\nseed: 5\n'


def spec(tmp_path: Path, extra: str = "", name: str = "exp.yaml"):
    path = tmp_path / name
    path.write_text(BASE + extra)
    return load_spec(path)


def test_axes_split_on_commas_and_single_values_are_overrides():
    overrides, axes = parse_axes(["lr=1e-4,3e-4", "steps=5", "act=relu,tanh", "layers=[1, 2]"])
    assert overrides == ["steps=5", "layers=[1, 2]"]
    assert axes == {"lr": [0.0001, 0.0003], "act": ["relu", "tanh"]}


@pytest.mark.parametrize("arg", ["lr=", "lr=,", "lr=1,,2"])
def test_an_empty_axis_is_an_error(arg):
    with pytest.raises(SpecError, match="value"):
        parse_axes([arg])


def test_grid_runs_every_config_at_each_seed_seeds_outermost(tmp_path):
    plan = plan_sweep(spec(tmp_path), {"lr": [0.1, 0.2], "model.width": [8, 16]}, seeds=3)
    assert plan.budget == 12 and plan.seeds == 3
    assert [t.seed for t in plan.trials] == [5] * 4 + [6] * 4 + [7] * 4
    assert [t.label for t in plan.trials[:4]] == ["lr=0.1 model.width=8", "lr=0.1 model.width=16",
                                                 "lr=0.2 model.width=8", "lr=0.2 model.width=16"]
    assert {t.config for t in plan.trials} == {0, 1, 2, 3}
    assert plan.trials[5].overrides == {"lr": 0.1, "model.width": 16}


def test_a_sweep_over_a_missing_key_fails_before_anything_runs(tmp_path):
    with pytest.raises(SpecError, match="did you mean 'lr'"):
        plan_sweep(spec(tmp_path), {"lrr": [0.1, 0.2]})
    with pytest.raises(SpecError, match="expects a number"):
        plan_sweep(spec(tmp_path), {"lr": ["fast", "slow"]})
    with pytest.raises(SpecError, match="nothing to sweep"):
        plan_sweep(spec(tmp_path), {})


def test_budget_subsamples_a_grid_reproducibly_and_counts_runs(tmp_path):
    s = spec(tmp_path)
    axes = {"lr": [0.1, 0.2, 0.3], "model.width": [8, 16, 32]}
    a = plan_sweep(s, axes, seeds=2, budget=8)
    b = plan_sweep(s, axes, seeds=2, budget=8)
    assert a.budget == 8 and [t.label for t in a.trials] == [t.label for t in b.trials]
    assert len({t.config for t in a.trials}) == 4
    assert "4 of the grid's 9 configs" in a.notes[0]
    small = plan_sweep(s, {"lr": [0.1, 0.2]}, seeds=1, budget=5)
    assert small.budget == 2 and "less than the budget 5" in small.notes[0]


@pytest.mark.parametrize(("budget", "seeds", "match"), [(0, 1, "at least 1"), (5, 2, "not a multiple"),
                                                        (4, 0, "at least 1")])
def test_bad_budgets_are_errors(tmp_path, budget, seeds, match):
    with pytest.raises(HunchError, match=match):
        plan_sweep(spec(tmp_path), {"lr": [0.1, 0.2]}, seeds=seeds, budget=budget)


def test_random_search_is_seeded_in_range_and_typed(tmp_path):
    s = spec(tmp_path, "sweep:\n  n: 12\n  seed: 3\n  params:\n    lr: {log_uniform: [1.0e-5, 1.0e-1]}\n"
                       "    model.width: {uniform: [4, 64]}\n    act: {choice: [relu, tanh]}\n")
    a, b = plan_sweep(s), plan_sweep(s)
    assert a.space["method"] == "random" and a.budget == 12
    assert [t.overrides for t in a.trials] == [t.overrides for t in b.trials]
    lrs = [t.overrides["lr"] for t in a.trials]
    widths = [t.overrides["model.width"] for t in a.trials]
    assert all(1e-5 <= v <= 1e-1 for v in lrs)
    assert max(lrs) / min(lrs) > 10, "log-uniform spreads over decades"
    assert all(isinstance(w, int) and 4 <= w <= 64 for w in widths), "integer bounds draw integers"
    assert len({(t.overrides["lr"], t.overrides["model.width"], t.overrides["act"]) for t in a.trials}) == 12
    c = plan_sweep(load_spec(Path(s.path)), budget=6, seeds=2)
    assert c.budget == 6 and len({t.config for t in c.trials}) == 3


def test_a_finite_random_space_is_not_padded_with_repeats(tmp_path):
    s = spec(tmp_path, "sweep: {n: 10, params: {act: {choice: [relu, tanh]}}}\n")
    plan = plan_sweep(s)
    assert plan.budget == 2 and "only 2 distinct configs" in plan.notes[0]


@pytest.mark.parametrize(("block", "match", "line"), [
    ("sweep:\n  params:\n    lr: []\n", "empty list", 6),
    ("sweep:\n  method: grid\n  params:\n    lr: {uniform: [0.1, 1]}\n", "grid cannot enumerate", 7),
    ("sweep:\n  params:\n    lr: {uniform: [1, 0.1]}\n", "lo < hi", 6),
    ("sweep:\n  params:\n    lr: {log_uniform: [0, 1]}\n", "0 < lo < hi", 6),
    ("sweep:\n  params:\n    model.widht: [1, 2]\n", "did you mean 'model.width'", 6),
    ("sweep:\n  params:\n    lr: 0.1\n", "a sweep axis must be", 6),
    ("ablate:\n  no_act: {}\n", "switches nothing off", 5),
    ("ablate:\n  no_act: {actt: none}\n", "did you mean 'act'", 5),
    ("prune: {rule: mean}\n", "prune.rule", 4),
])
def test_bad_sweep_blocks_are_reported_with_file_and_line(tmp_path, block, match, line):
    with pytest.raises(SpecError, match=match) as e:
        spec(tmp_path, block)
    assert f"exp.yaml:{line}" in str(e.value)


def test_ablation_runs_the_full_config_and_each_variant_and_pairs(tmp_path):
    s = spec(tmp_path, "ablate:\n  slow: {lr: 0.01}\n  narrow: {model: {width: 2}}\n  linear: {act: none}\n")
    plan = plan_ablation(s, seeds=2)
    assert [t.label for t in plan.trials] == ["full", "slow", "narrow", "linear"] * 2
    assert plan.trials[2].overrides == {"model.width": 2}
    pairs = plan_ablation(s, seeds=1, pairs=True)
    assert [t.label for t in pairs.trials][4:] == ["slow + narrow", "slow + linear", "narrow + linear"]
    assert pairs.trials[4].overrides == {"lr": 0.01, "model.width": 2}


def test_an_ablation_that_changes_nothing_is_refused(tmp_path):
    s = spec(tmp_path, "ablate:\n  same: {lr: 0.1}\n  real: {lr: 0.0}\n")
    with pytest.raises(SpecError, match="'same' changes nothing: lr is already 0.1"):
        plan_ablation(s)
    with pytest.raises(SpecError, match="no `ablate:` block"):
        plan_ablation(spec(tmp_path))


def test_an_override_of_a_swept_key_replaces_that_axis_and_says_so(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(BASE + "sweep: {params: {model.width: [16, 32], lr: [0.1, 0.2]}}\n")
    plan = plan_sweep(load_spec(path, ["model.width=8", "steps=3"]))
    assert {t.overrides["model.width"] for t in plan.trials} == {8} and len(plan.trials) == 2
    assert plan.space["params"]["model.width"] == [8]
    assert plan.notes == ["model.width=8 replaces the sweep's axis model.width (16, 32): every trial runs model.width=8"]
    floats = plan_sweep(load_spec(path, ["lr=1"]))  # the axis takes the override as the param's type
    assert [t.overrides["lr"] for t in floats.trials] == [1.0, 1.0] and type(floats.trials[0].overrides["lr"]) is float
    with pytest.raises(SpecError, match="override 'model={width: 8}' and the sweep's axis model.width set the same"):
        plan_sweep(load_spec(path, ["model={width: 8}"]))


def test_an_override_of_a_key_an_ablation_switches_off_is_refused(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(BASE + "ablate:\n  slow: {lr: 0.01}\n  narrow: {model: {width: 2}}\n")
    with pytest.raises(SpecError, match="override 'lr=0.5' sets lr, which ablation 'slow' switches off") as e:
        plan_ablation(load_spec(path, ["lr=0.5"]))
    assert "change it in the spec's params" in e.value.fix and "ablate.slow" in e.value.fix
    with pytest.raises(SpecError, match="ablation 'narrow'"):
        plan_ablation(load_spec(path, ["model={width: 4}"]))
    assert len(plan_ablation(load_spec(path, ["steps=3"]), seeds=1).trials) == 3  # other params are free


def test_baseline_gets_the_same_budget_over_its_own_space(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE + "sweep: {params: {lr: [0.01, 0.1, 1.0]}}\n")
    s = spec(tmp_path, "baseline: base.yaml\nsweep: {n: 50, params: {lr: {log_uniform: [0.001, 1]}}}\n")
    method, baseline = plan_with_baseline(s, budget=6, seeds=2)
    assert (method.role, baseline.role) == ("method", "baseline")
    assert method.budget == 6 and baseline.budget == 6
    assert len({t.config for t in method.trials}) == 3
    (tmp_path / "base.yaml").write_text(BASE + "sweep: {params: {lr: [0.01]}}\n")
    method, baseline = plan_with_baseline(load_spec(s.path), budget=6, seeds=2)
    assert baseline.budget == 2 and "budgets differ" in method.notes[0]
    (tmp_path / "base.yaml").write_text(BASE)
    with pytest.raises(SpecError, match="would not be tuned"):
        plan_with_baseline(load_spec(s.path), budget=6)


def test_goal_is_guessed_from_the_metric_name():
    names = ("acc", "val_loss", "error_rate", "f1", "ppl")
    assert [guess_goal(m) for m in names] == ["max", "min", "min", "max", "min"]
