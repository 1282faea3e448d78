"""The comparison on plain data: verdicts that do not overclaim, Holm, paired tests and flips, rendering."""

from __future__ import annotations

import numpy as np
import pytest

from hunchlab.blocks import render_html, render_markdown
from hunchlab.compare_analysis import analyse
from hunchlab.compare_code import code_summary
from hunchlab.compare_sides import config_diff
from hunchlab.compare_text import compare_blocks
from hunchlab.errors import HunchError, NotFound
from hunchlab.metric_info import guess_goal
from hunchlab.readsql import Tallies


def _side(label: str, values: dict[str, list[float]], params: dict | None = None, prefix: str = "") -> dict:
    n = len(next(iter(values.values())))
    runs = [{"id": f"{prefix or label.lower()}-{i}", "seed": i, "status": "finished", "spec_name": "exp",
             "params": params or {"width": 16}, "summary": {k: v[i] for k, v in values.items()}, "last": {}}
            for i in range(n)]
    return {"label": label, "description": label, "runs": runs}


def _same_noise(seed: int, n: int = 5) -> list[float]:
    return list(0.8 + np.random.default_rng(seed).normal(0, 0.02, n))


def test_two_groups_from_the_same_distribution_are_within_noise():
    a = _side("A", {"acc": _same_noise(1)})
    b = _side("B", {"acc": _same_noise(2)}, {"width": 64})
    (m,) = analyse([a, b], NO_EXAMPLES[:2])["metrics"]
    assert m["significant"] is False and m["verdict"].startswith("difference within noise")
    assert m["a"]["n"] == m["b"]["n"] == 5 and m["a"]["lo"] < m["a"]["mean"] < m["a"]["hi"]


def test_a_clear_difference_is_significant_and_says_which_side_is_better():
    a = _side("A", {"acc": _same_noise(1), "loss": _same_noise(3)})
    b = _side("B", {"acc": [v + 0.1 for v in _same_noise(2)], "loss": [v + 0.1 for v in _same_noise(4)]})
    r = analyse([a, b], NO_EXAMPLES[:2])
    acc, loss = r["metrics"]
    assert acc["significant"] and acc["verdict"].startswith("B higher (better) by 0.")
    assert "5 vs 5 seeds, Welch t p" in acc["verdict"] and "Holm-adjusted" in acc["verdict"]
    assert loss["better"] == "A" and "B higher (worse)" in loss["verdict"]
    assert r["holm_tests"] == 2 and all(m["p_adjusted"] >= m["p"] for m in r["metrics"])


def test_one_seed_on_a_side_gives_no_interval_and_says_why():
    a = _side("A", {"acc": [0.8]})
    b = _side("B", {"acc": _same_noise(2)})
    (m,) = analyse([a, b], NO_EXAMPLES[:2])["metrics"]
    assert m["lo"] is None and m["p"] is None and "n=1 on a side" in m["verdict"] and "run more seeds" in m["verdict"]


def test_many_sides_are_each_compared_with_the_first():
    sides = [_side(label, {"acc": _same_noise(i)}) for i, label in enumerate("ABC")]
    r = analyse(sides, NO_EXAMPLES)
    assert [m["labels"] for m in r["metrics"]] == [["A", "B"], ["A", "C"]]


def _tallies(*sides: list[tuple[str, bool | None, float | None]]) -> list[Tallies]:
    """Per side, what readsql.example_tallies sums: ``(example id, correct, score)`` per record."""
    out = []
    for records in sides:
        table: dict[str, list[float]] = {}
        for example_id, correct, score in records:
            t = table.setdefault(example_id, [0.0, 0, 0.0, 0])
            if correct is not None:
                t[0], t[1] = t[0] + correct, t[1] + 1
            if score is not None:
                t[2], t[3] = t[2] + score, t[3] + 1
        ids = sorted(table)
        columns = [np.array([table[i][k] for i in ids], dtype=float if k % 2 == 0 else int) for k in range(4)]
        out.append(Tallies(np.array(ids, dtype=str), *columns))
    return out


NO_EXAMPLES = _tallies([], [], [])


def _records(correct: list[bool]) -> list[tuple[str, bool, float]]:
    return [(f"e{i}", c, float(c)) for i, c in enumerate(correct)]


def test_mcnemar_and_flips_counted_on_a_hand_made_case():
    a, b = _side("A", {"acc": [0.5]}), _side("B", {"acc": [0.6]})
    #           e0    e1    e2     e3     e4     e5    e6    e7     e8     e9
    right_a = [True, True, True, False, False, False, True, True, False, False]
    right_b = [False, False, True, True, True, True, True, True, False, False]
    r = analyse([a, b], _tallies(_records(right_a), _records(right_b)), flips=1)
    (p,) = r["paired"]
    assert p["n_shared"] == 10 and (p["mcnemar"]["b01"], p["mcnemar"]["b10"]) == (2, 3)
    assert p["flips"]["n_right_to_wrong"] == 2 and p["flips"]["n_wrong_to_right"] == 3
    assert [f["id"] for f in p["flips"]["right_to_wrong"]] == ["e0"]  # --flips 1: the first by id
    assert p["mcnemar"]["method"] == "exact binomial" and "flips balance within noise" in p["mcnemar"]["verdict"]
    assert p["accuracy"]["mean_diff"] == pytest.approx(0.1) and p["right_rule"] is None


def test_with_seeds_an_example_is_right_when_most_seeds_got_it_right():
    a = _side("A", {"acc": [0.5, 0.5, 0.5]})
    b = _side("B", {"acc": [0.5, 0.5, 0.5]})
    tallies = _tallies([("x", True, None), ("x", True, None), ("x", False, None), ("y", True, None)],  # A: x 2/3
                       [("x", False, None), ("x", True, None), ("x", False, None), ("y", True, None)])  # B: x 1/3
    (p,) = analyse([a, b], tallies)["paired"]
    (flip,) = p["flips"]["right_to_wrong"]
    assert (flip["id"], flip["a_right"], flip["a_n"], flip["b_right"], flip["b_n"]) == ("x", 2, 3, 1, 3)
    assert "more than half" in p["right_rule"] and "score" not in p


def test_a_large_paired_difference_is_significant():
    rng = np.random.default_rng(0)
    right_a = list(rng.random(400) < 0.6)
    right_b = [x or rng.random() < 0.5 for x in right_a]  # B fixes about half of A's mistakes, breaks none
    (p,) = analyse([_side("A", {"acc": [0.6]}), _side("B", {"acc": [0.8]})],
                   _tallies(_records(right_a), _records(right_b)))["paired"]
    assert p["flips"]["n_right_to_wrong"] == 0 and p["mcnemar"]["p"] < 1e-6
    assert p["mcnemar"]["verdict"].startswith("B fixes more than it breaks")
    assert p["accuracy"]["verdict"].startswith("B accuracy higher by") and p["accuracy"]["lo"] > 0


def test_metric_choice_errors_say_what_exists():
    a, b = _side("A", {"acc": [0.5, 0.6]}), _side("B", {"words": [3.0, 4.0]})
    with pytest.raises(HunchError, match="no metric in common: A has acc; B has words"):
        analyse([a, b], NO_EXAMPLES[:2])
    with pytest.raises(NotFound, match="did you mean 'acc'"):
        analyse([a, b], NO_EXAMPLES[:2], metrics=["acx"])
    with pytest.raises(HunchError, match="'acc' is missing on B"):
        analyse([a, b], NO_EXAMPLES[:2], metrics=["acc"])


def test_a_running_run_is_compared_on_what_it_has_logged():
    a = _side("A", {"acc": [0.5, 0.6]})
    b = _side("B", {"acc": [0.7]})
    b["runs"].append({**b["runs"][0], "id": "b-live", "summary": {}, "last": {"acc": 0.75}, "status": "running"})
    (m,) = analyse([a, b], NO_EXAMPLES[:2])["metrics"]
    assert m["b"]["n"] == 2 and m["b"]["mean"] == pytest.approx(0.725)


def test_config_diff_keeps_only_what_differs_and_direction_guesses():
    rows = config_diff([{"spec_name": "exp", "params": {"lr": 1, "model": {"width": 16}}},
                        {"spec_name": "exp", "params": {"lr": 1, "model": {"width": 64}, "extra": True}}])
    assert rows == [{"key": "model.width", "values": [16, 64]}, {"key": "extra", "values": [None, True]}]
    assert [guess_goal(m) for m in ("test_acc", "val_loss", "widgets")] == ["max", "min", None]


def test_code_summary_tells_same_from_different_code():
    state = {"captured": True, "commit": "abc", "dirty": False, "diff_bytes": 0, "untracked": 0,
             "fingerprint": "abc:-:-"}
    a, b = _side("A", {"acc": [1.0]}), _side("B", {"acc": [1.0]})
    for run in a["runs"] + b["runs"]:
        run["code_state"] = state
    assert code_summary([a, b])["same"] is True
    b["runs"][0]["code_state"] = {**state, "dirty": True, "diff_bytes": 2048, "fingerprint": "abc:12:-"}
    summary = code_summary([a, b])
    assert summary["same"] is False and "uncommitted changes (diff 2.0 kB)" in summary["text"]


def test_rendered_pages_escape_user_strings():
    a = _side("A", {"acc": _same_noise(1)}, {"note": "<script>alert(1)</script>"})
    b = _side("B", {"acc": _same_noise(2)}, {"note": "a|b"})
    blocks = compare_blocks(analyse([a, b], NO_EXAMPLES[:2]))
    page = render_html("<b>title</b>", blocks)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;title" in page
    assert "a\\|b" in render_markdown("t", blocks, base=__import__("pathlib").Path("."))


def test_nan_scores_are_left_out_of_the_score_test_not_fatal():
    a, b = _side("A", {"acc": [0.5]}), _side("B", {"acc": [0.6]})
    records = [(f"e{i}", i % 2 == 0, float(i)) for i in range(6)]
    broken = records[:-1] + [("e5", False, float("nan"))]
    (p,) = analyse([a, b], _tallies(records, broken), flips=0)["paired"]
    assert p["score"]["n"] == 5 and p["accuracy"]["n"] == 6
