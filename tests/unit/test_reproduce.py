"""hunchlab.reproduce: a rerun's check compares summaries, histories and examples, and never passes on nothing."""

from __future__ import annotations

import math

from hunchlab.reproduce import NOT_REPRODUCED, NOTHING, REPRODUCED, check_reproduction


def _run(run_id: str, summary: dict | None = None, metrics: dict | None = None, examples: list | None = None,
         status: str = "finished") -> dict:
    return {"id": run_id, "status": status, "summary": summary or {}, "metrics": metrics or {},
            "examples": examples or []}


def _history(*values: float) -> list[dict]:
    return [{"step": i, "value": v, "time": 1000.0 + i} for i, v in enumerate(values)]


def _examples(*correct: bool) -> list[dict]:
    return [{"id": f"e{i}", "correct": c, "score": float(c), "output": int(c)} for i, c in enumerate(correct)]


def test_a_run_that_recorded_nothing_is_not_reproduced_but_has_nothing_to_compare() -> None:
    result = check_reproduction(_run("a"), _run("b"), rtol=1e-9, atol=1e-12)
    assert result.checks == [] and result.verdict == NOTHING and result.compared == {}


def test_everything_recorded_is_compared_and_counted() -> None:
    a = _run("a", {"acc": 0.5, "note": "ok", "nan": math.nan}, {"loss": _history(1.0, 0.5)}, _examples(True, False))
    b = _run("b", {"acc": 0.5, "note": "ok", "nan": math.nan}, {"loss": _history(1.0, 0.5)}, _examples(True, False))
    b["metrics"]["loss"][1]["time"] = 99.0  # wall-clock time is not part of a result
    result = check_reproduction(a, b, rtol=1e-9, atol=1e-12)
    assert result.verdict == REPRODUCED and result.compared == {"summary": 3, "history": 1, "examples": 1}
    assert result.to_dict()["verdict"] == REPRODUCED


def test_a_history_or_an_example_that_differs_is_caught_with_where() -> None:
    a = _run("a", {"acc": 0.5}, {"loss": _history(1.0, 0.5, 0.25)}, _examples(True, False))
    history = _run("b", {"acc": 0.5}, {"loss": _history(1.0, 0.5, 0.26)}, _examples(True, False))
    result = check_reproduction(a, history, rtol=1e-9, atol=1e-12)
    (bad,) = [c for c in result.checks if not c.match]
    assert result.verdict == NOT_REPRODUCED and bad.kind == "history"
    assert bad.detail == "first difference at step 2: 0.25 against 0.26"
    example = _run("b", {"acc": 0.5}, {"loss": _history(1.0, 0.5, 0.25)}, _examples(True, True))
    (bad,) = [c for c in check_reproduction(a, example, rtol=1e-9, atol=1e-12).checks if not c.match]
    assert bad.kind == "examples" and bad.detail == "1 records differ (first: e1 correct False → True)"


def test_a_metric_on_one_side_only_and_a_failed_rerun_do_not_reproduce() -> None:
    missing = check_reproduction(_run("a", {"acc": 0.5}), _run("b", {"acc": 0.5, "extra": 1.0}), rtol=0, atol=0)
    assert missing.verdict == NOT_REPRODUCED
    failed = check_reproduction(_run("a", {"acc": 0.5}), _run("b", {"acc": 0.5}, status="failed"), rtol=0, atol=0)
    assert failed.verdict == NOT_REPRODUCED


def test_the_conclusion_says_what_was_compared_and_the_verdict() -> None:
    a = _run("a", {"acc": 0.5, "f1": 0.4}, {"loss": _history(1.0, 0.5)}, _examples(True, False, True))
    same = check_reproduction(a, _run("b", {"acc": 0.5, "f1": 0.4}, {"loss": _history(1.0, 0.5)},
                                      _examples(True, False, True)), rtol=1e-9, atol=1e-12)
    assert same.conclusion() == ("compared 2 summary values, 1 metric histories, 3 example records: "
                                 "all match, reproduced")
    differs = check_reproduction(a, _run("b", {"acc": 0.6, "f1": 0.4}, {"loss": _history(1.0, 0.5)},
                                         _examples(True, False, True)), rtol=1e-9, atol=1e-12)
    assert differs.conclusion() == ("1 of 4 checks differ (compared 2 summary values, 1 metric histories, "
                                    "3 example records): not reproduced")


def test_the_conclusion_of_nothing_compared_or_a_failed_rerun_says_why() -> None:
    nothing = check_reproduction(_run("a"), _run("b"), rtol=1e-9, atol=1e-12)
    assert nothing.conclusion().startswith("nothing to compare: a recorded no summary, metric or example")
    failed = check_reproduction(_run("a", {"acc": 0.5}), _run("b", {"acc": 0.5}, status="crashed"), rtol=0, atol=0)
    assert failed.conclusion("ZeroDivisionError") == "the rerun crashed: ZeroDivisionError"
    assert failed.conclusion() == "the rerun crashed: "
