"""Selectors: run ids, group ids and filters, and what a seed group keeps."""

from __future__ import annotations

import pytest

from hunchlab.errors import HunchError, NotFound
from hunchlab.selectors import group_runs, parse_selector, resolve


def _run(seq: int, group: str = "g1", seed: int = 0, status: str = "finished", smoke: bool = False,
         **params: object) -> dict:
    return {"id": f"run-{seq}", "seq": seq, "name": "exp", "status": status, "spec_name": "exp", "question": None,
            "group_key": group, "seed": seed, "params": {"lr": 0.1, **params}, "summary": {"acc": 0.5},
            "smoke": smoke, "created_at": 0.0}


def _resolver(runs: list[dict]):
    def resolve_run(ref: str) -> str:
        if ref in {r["id"] for r in runs}:
            return ref
        raise NotFound(f"no run '{ref}'")

    return resolve_run


def test_parse_selector_tells_filters_from_ids():
    assert parse_selector("bright-otter-7") is None
    assert [f.text for f in parse_selector("spec=exp  lr=3e-4")] == ["spec=exp", "lr=3e-4"]
    with pytest.raises(HunchError, match="empty selector"):
        parse_selector("  ")
    with pytest.raises(HunchError, match="several words but no filter"):
        parse_selector("run-1 run-2")


def test_a_group_keeps_one_run_per_seed_the_newest_finished():
    runs = [_run(1, seed=0), _run(2, seed=1), _run(3, seed=0), _run(4, seed=1, status="running")]
    (group,), notes = group_runs(runs)
    assert [r["id"] for r in group.runs] == ["run-3", "run-2"]  # seed 0: the rerun; seed 1: the finished one
    assert notes == [] and "left out 2 runs repeating a seed" in group.notes[0]


def test_smoke_and_unfinished_runs_are_left_out_and_said_so():
    runs = [_run(1, seed=0), _run(2, seed=1, status="failed"), _run(3, seed=2, smoke=True),
            _run(4, seed=3, status="running")]
    (group,), notes = group_runs(runs)
    assert [r["id"] for r in group.runs] == ["run-1", "run-4"]
    assert "1 smoke run" in notes[0] and "run-2" in notes[1]
    assert "run-4 is still running" in group.notes[0]
    (kept,), _ = group_runs(runs, keep_statuses=True)
    assert "run-2" in [r["id"] for r in kept.runs]


def test_groups_come_oldest_first():
    groups, _ = group_runs([_run(5, group="b"), _run(2, group="a"), _run(9, group="b", seed=1)])
    assert [g.key for g in groups] == ["a", "b"] and len(groups[1].runs) == 2


def test_resolve_run_id_group_id_and_filters():
    runs = [_run(1, group="aa11bb22cc", seed=0), _run(2, group="aa11bb22cc", seed=1),
            _run(3, group="ff00ee11dd", seed=0, lr=0.5)]
    one, group, filtered = resolve(["run-1", "aa11", "lr=0.5"], runs, _resolver(runs))
    assert (one.kind, [r["id"] for r in one.groups[0].runs]) == ("run", ["run-1"])
    assert (group.kind, [r["id"] for r in group.groups[0].runs]) == ("group", ["run-1", "run-2"])
    assert (filtered.kind, [g.key for g in filtered.groups]) == ("filter", ["ff00ee11dd"])
    (both,) = resolve(["spec=exp"], runs, _resolver(runs))
    assert len(both.groups) == 2


def test_resolve_errors_name_the_problem():
    runs = [_run(1)]
    with pytest.raises(NotFound, match="matches no runs"):
        resolve(["lr=9"], runs, _resolver(runs))
    with pytest.raises(HunchError, match="selector 'lrr=9': no run has 'lrr' \\(did you mean 'lr'"):
        resolve(["lrr=9"], runs, _resolver(runs))
    with pytest.raises(HunchError, match="no selector"):
        resolve([], runs, _resolver(runs))
    smoke = [_run(1, smoke=True)]
    with pytest.raises(NotFound, match="smoke run"):
        resolve(["spec=exp"], smoke, _resolver(smoke))


def test_a_number_that_is_also_a_group_prefix():
    runs = [_run(1, group="1718d48d9c", seed=0), _run(2, group="1718d48d9c", seed=1)]
    (sel,) = resolve(["1718"], runs, _resolver(runs))  # no run 1718: the group
    assert sel.kind == "group" and len(sel.groups[0].runs) == 2

    def by_number(ref: str) -> str:
        return "run-1" if ref in ("1718", "run-1") else _resolver(runs)(ref)

    with pytest.raises(NotFound, match="both run run-1 and the start of group 1718d48d9c"):
        resolve(["1718"], runs, by_number)


def test_run_resolver_reads_ids_numbers_and_unique_prefixes_from_the_runs() -> None:
    from hunchlab.errors import NotFound
    from hunchlab.selectors import run_resolver

    runs = [{"id": "bright-otter-12", "seq": 12}, {"id": "bright-owl-3", "seq": 3}, {"id": "calm-fox-1", "seq": 1}]
    resolve_run = run_resolver(runs)
    assert [resolve_run(r) for r in ("calm-fox-1", "12", "calm", " bright-ot ")] == \
        ["calm-fox-1", "bright-otter-12", "calm-fox-1", "bright-otter-12"]
    with pytest.raises(NotFound, match="ambiguous: bright-otter-12, bright-owl-3"):
        resolve_run("bright")
    with pytest.raises(NotFound, match="did you mean 'calm-fox-1'"):
        resolve_run("calm-fix-1")
