"""Study checks fail both ways: below the threshold, above the ceiling, or on an unfair comparison."""

from __future__ import annotations

from hunchlab.studies.checks import (
    DEVIATES,
    NOT_REPRODUCED,
    PARTLY,
    REPRODUCED,
    TOO_LARGE,
    Claim,
    Invariant,
    equal,
    equal_pairs,
    evaluate,
    failed,
    gap,
)

CLAIM = Claim("A beats B", gap("a", "b"), threshold=0.1, paper="paper: +0.2", ceiling=0.5, partly_below=0.15)
FAIR = Invariant("A and B drew the same samples", equal("budget/a", "budget/b"))


def run(a: float, b: float, budget_a: int = 64, budget_b: int = 64) -> dict[str, float]:
    return {"a": a, "b": b, "budget/a": budget_a, "budget/b": budget_b}


def verdicts(*runs: dict[str, float]) -> list[str]:
    return [row["verdict"] for row in evaluate("s", [CLAIM], [FAIR], list(runs))]


def test_an_effect_inside_the_bounds_reproduces_with_its_spread() -> None:
    rows = evaluate("s", [CLAIM], [FAIR], [run(0.5, 0.2), run(0.6, 0.3)])
    assert [r["verdict"] for r in rows] == ["holds", REPRODUCED]
    assert rows[1]["measured"] == 0.3 and rows[1]["sd"] == 0.0 and rows[1]["runs"] == 2
    assert not failed(rows)


def test_a_small_effect_fails_and_a_middling_one_is_partly() -> None:
    assert verdicts(run(0.25, 0.2))[1] == NOT_REPRODUCED
    assert verdicts(run(0.32, 0.2))[1] == PARTLY


def test_an_effect_beyond_the_ceiling_is_flagged_not_passed() -> None:
    rows = evaluate("s", [CLAIM], [FAIR], [run(0.9, 0.1)])
    assert rows[1]["verdict"] == TOO_LARGE
    assert failed(rows) == ["A beats B"]


def test_unequal_budgets_fail_the_check_whatever_the_effect() -> None:
    rows = evaluate("s", [CLAIM], [FAIR], [run(0.5, 0.2), run(0.5, 0.2, budget_a=256)])
    assert rows[0]["verdict"].startswith("violated in 1 of 2")
    assert failed(rows) == ["A and B drew the same samples"]


def test_upper_bound_claims_and_missing_metrics() -> None:
    same = Claim("a broken arm gains nothing", gap("a", "b"), threshold=None, at_most=0.02, paper="-")
    assert [r["passed"] for r in evaluate("s", [same], [], [run(0.30, 0.29)])] == [True]
    assert [r["passed"] for r in evaluate("s", [same], [], [run(0.35, 0.29)])] == [False]
    rows = evaluate("s", [same], [FAIR], [{"a": 1.0}])
    assert all(r["verdict"].startswith("not measured") for r in rows)
    assert len(failed(rows)) == 2


def test_a_known_deviation_is_measured_and_reported_not_failed_and_passes_when_it_holds() -> None:
    low = Claim("A wins at low budgets", gap("a", "b"), threshold=0.0, paper="paper: qualitative",
                deviation="the toy shows the opposite; prm_data_frac=0.2 shows the paper's crossover")
    (row,) = evaluate("s", [low], [], [run(0.2, 0.3)])
    assert row["passed"] and row["deviation"] and row["verdict"].startswith(f"{DEVIATES}: the toy shows the opposite")
    (row,) = evaluate("s", [low], [], [run(0.3, 0.2)])
    assert row["verdict"] == REPRODUCED and "deviation" not in row


def test_equal_pairs_checks_every_cell_and_never_passes_on_nothing() -> None:
    same = Invariant("equal budgets", equal_pairs("budget/x/", "budget/y/"))
    cells = {"budget/x/k2": 8.0, "budget/y/k2": 8.0, "budget/x/k8": 32.0, "budget/y/k8": 32.0}
    assert [r["passed"] for r in evaluate("s", [], [same], [cells])] == [True]
    assert [r["passed"] for r in evaluate("s", [], [same], [{**cells, "budget/x/k8": 128.0}])] == [False]
    (row,) = evaluate("s", [], [same], [{"other": 1.0}])
    assert not row["passed"] and row["verdict"].startswith("not measured")
