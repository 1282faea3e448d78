"""hunchlab.verdicts: verdicts that never claim more than the numbers hold."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy import stats as sps

from hunchlab.errors import HunchError
from hunchlab.verdicts import compare_groups, effective_alpha, paired_verdict

SEEDS_A = [0.712, 0.705, 0.721, 0.698, 0.716]
SEEDS_B = [0.741, 0.735, 0.752, 0.729, 0.748]



def test_compare_groups_reports_a_significant_gain_with_interval_seeds_and_test() -> None:
    result = compare_groups(SEEDS_A, SEEDS_B, "accuracy", higher_is_better=True)
    ref = sps.ttest_ind(SEEDS_B, SEEDS_A, equal_var=False)
    assert result.p == pytest.approx(ref.pvalue)
    assert result.significant and result.better == "B"
    assert result.verdict.startswith("B higher (better) by 0.031 [")
    assert "5 vs 5 seeds, Welch t p" in result.verdict


def test_compare_groups_says_within_noise_when_not_significant() -> None:
    a = [0.70, 0.72, 0.69, 0.73, 0.71]
    b = [0.71, 0.70, 0.72, 0.68, 0.72]
    result = compare_groups(a, b, "accuracy")
    assert not result.significant and result.better is None
    assert result.verdict.startswith(f"difference within noise (p={result.p:.2g}): ")
    assert result.verdict.endswith(", 5 vs 5 seeds; could detect 0.033 or more (80% power)")
    assert "higher" not in result.verdict and "lower" not in result.verdict


def test_compare_groups_names_a_lower_loss_as_better_for_a_lower_is_better_metric() -> None:
    result = compare_groups(SEEDS_B, SEEDS_A, "loss", higher_is_better=False)
    assert result.better == "B"
    assert result.verdict.startswith("B lower (better) by 0.031 [0.0")  # magnitude, not a negative interval


def test_compare_groups_uses_the_holm_adjusted_p_and_says_so() -> None:
    raw = compare_groups(SEEDS_A, SEEDS_B, "accuracy")
    adjusted = compare_groups(SEEDS_A, SEEDS_B, "accuracy", p_adjusted=0.2)
    assert raw.significant and not adjusted.significant
    assert adjusted.verdict.startswith("difference within noise (p=0.2, Holm-adjusted): ")
    still = compare_groups(SEEDS_A, SEEDS_B, "accuracy", p_adjusted=0.004)
    assert still.verdict.endswith("Welch t p=0.004 (Holm-adjusted)")


def test_compare_groups_with_one_seed_refuses_to_judge() -> None:
    result = compare_groups([0.7], SEEDS_B, "accuracy")
    assert result.verdict == "n=1 on a side (1 vs 5 seeds): no interval possible — run more seeds"
    assert (result.lo, result.hi, result.p, result.significant) == (None, None, None, None)
    assert result.diff == pytest.approx(np.mean(SEEDS_B) - 0.7)


def test_compare_groups_with_constant_seeds_warns_instead_of_claiming() -> None:
    same = compare_groups([0.8] * 3, [0.8] * 3, "accuracy")
    assert (same.p, same.significant, same.better) == (None, None, None)
    assert same.verdict.startswith("no difference: every seed gave 0.8 on both sides")
    differ = compare_groups([0.8, 0.8], [0.9, 0.9], "accuracy", higher_is_better=True)
    assert (differ.p, differ.significant, differ.better, differ.lo, differ.hi) == (None, None, None, None, None)
    assert "zero variance on both sides, so no test" in differ.verdict
    assert "check that the seed changes anything" in differ.verdict
    assert "no noise estimate" in (differ.reason or "")
    payload = json.loads(json.dumps(differ.to_dict(), allow_nan=False))
    assert payload["p"] is None and payload["significant"] is None and payload["better"] is None


def test_compare_groups_uses_a_true_minus_sign_for_negative_numbers() -> None:
    result = compare_groups([0.71, 0.70, 0.72, 0.69], [0.70, 0.69, 0.71, 0.70], "accuracy")
    assert "\u2212" in result.verdict and "-" not in result.verdict


def test_compare_groups_never_rounds_p_across_alpha() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = rng.normal(0.0, 1.0, size=6), rng.normal(1.2, 1.0, size=6)
        result = compare_groups(a, b, "score")
        if 0.045 <= result.p < 0.0505:
            shown = float(re.search(r"p=([0-9.]+)", result.verdict).group(1))
            assert (shown < 0.05) == result.significant


def test_compare_groups_never_shows_a_nonzero_interval_bound_as_zero() -> None:
    result = compare_groups([0.0, 1.0, 2.0, 3.0], [2.25, 3.25, 4.25, 5.25], "score")
    assert result.lo is not None and 0.0 < result.lo < 0.05
    assert " [0.0, " not in result.verdict and " [0.00, " not in result.verdict


def test_comparison_to_dict_is_json_serialisable() -> None:
    result = compare_groups(SEEDS_A, SEEDS_B, "accuracy", higher_is_better=True)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["a"]["n"] == 5 and payload["verdict"] == result.verdict
    json.dumps(compare_groups([0.7], SEEDS_B, "accuracy").to_dict(), allow_nan=False)


def test_compare_groups_rejects_bad_alpha_and_adjusted_p() -> None:
    with pytest.raises(HunchError):
        compare_groups(SEEDS_A, SEEDS_B, "accuracy", alpha=2.0)
    with pytest.raises(HunchError):
        compare_groups(SEEDS_A, SEEDS_B, "accuracy", p_adjusted=-0.1)


def test_within_noise_states_what_could_be_detected_and_the_seeds_for_a_named_difference() -> None:
    # The case: "within noise (p=0.15): 0.23 [-0.22, 0.67], 2 vs 2 seeds" said nothing of power.
    result = compare_groups([0.1, 0.3], [0.4, 0.47], "score", detect=0.1)
    assert not result.significant and result.power is not None
    assert result.power.detectable is not None and result.power.detectable > abs(result.diff)
    assert result.power.needed is not None and result.power.needed > 2
    assert f"{result.power.needed} seeds per side would detect 0.1" in result.verdict
    planned = compare_groups(SEEDS_A, SEEDS_B, "accuracy", detect=0.002)
    assert planned.significant and "seeds per side would detect 0.002" in planned.verdict


def test_verdict_and_interval_agree_with_and_without_holm() -> None:
    rng = np.random.default_rng(12)
    for _ in range(300):
        n = int(rng.integers(2, 9))
        a, b = rng.normal(0.0, 1.0, size=n), rng.normal(rng.uniform(0, 2), 1.0, size=n)
        raw = compare_groups(a, b, "score")
        for factor in (1.0, 2.0, 3.0, 6.0):
            adjusted = None if factor == 1.0 else min(1.0, raw.p * factor)
            c = compare_groups(a, b, "score", p_adjusted=adjusted)
            assert (c.lo > 0 or c.hi < 0) == c.significant, (c.p, c.p_adjusted, c.lo, c.hi)
            if adjusted is not None:
                assert "Holm" in c.verdict and c.confidence > 0.95


def test_the_holm_interval_is_the_t_interval_at_the_effective_level() -> None:
    c = compare_groups(SEEDS_A, SEEDS_B, "accuracy", p_adjusted=0.004)
    level = c.confidence
    assert level == pytest.approx(1 - 0.05 * c.p / 0.004)
    ci = sps.ttest_ind(SEEDS_B, SEEDS_A, equal_var=False).confidence_interval(level)
    assert (c.lo, c.hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert effective_alpha(0.05, 0.0, 0.0, family=4) == 0.05 and effective_alpha(0.05, 0.0, 0.01, 4) == 0.0125


def test_a_bounded_metric_never_gets_an_interval_outside_its_range() -> None:
    # The case: accuracy 0.95 [0.86, 1.04] from two seeds.
    c = compare_groups([0.92, 0.98], [0.90, 0.99], "acc", True, bounds=(0.0, 1.0))
    assert c.a.hi == 1.0 and c.b.hi == 1.0 and "cut to the range [0, 1]" in c.a.method
    assert -1.0 <= c.lo and c.hi <= 1.0
    spread = compare_groups([0.2, 0.9], [0.3, 0.95], "acc", True, bounds=(0.0, 1.0))
    assert (spread.lo, spread.hi) == (-1.0, 1.0)
    assert spread.verdict.endswith("it could not detect any difference possible in the range [0, 1] (80% power)")


def test_paired_verdicts_say_the_unit_the_method_and_what_few_examples_cannot_show() -> None:
    record = {"n": 3, "mean_diff": 1.0, "lo": -1.0, "hi": 1.0, "p": 0.25, "confidence": 0.95, "min_p": 0.25,
              "method": "exact sign-flip test (all 8 sign patterns)", "bounds": [-1.0, 1.0], "reason": None,
              "power": {"alpha": 0.05, "power": 0.8, "detectable": None, "detect": None, "needed": None,
                        "unit": "examples"}}
    text = paired_verdict("accuracy", record, ["A", "B"], 0.05)
    assert text.startswith("accuracy difference within noise (p=0.25): 1.0 [−1.0, 1.0] over 3 paired examples")
    assert "3 examples cannot show any difference at alpha=0.05: the smallest p they allow is 0.25" in text
    won = paired_verdict("accuracy", {**record, "n": 400, "p": 0.002, "lo": 0.02, "hi": 0.08, "mean_diff": 0.05,
                                      "method": "sign-flip test, 10,000 random sign patterns"}, ["A", "B"], 0.05)
    assert won == ("B accuracy higher by 0.050 [0.020, 0.080] over 400 paired examples, "
                   "sign-flip test, 10,000 random sign patterns p=0.002")
