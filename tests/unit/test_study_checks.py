"""Study checks fail both ways: below the threshold, above the ceiling, or on an unfair comparison."""

from __future__ import annotations

from hunchlab.studies.checks import NOT_REPRODUCED, PARTLY, REPRODUCED, TOO_LARGE, Claim, Invariant, equal, evaluate, failed, gap

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
