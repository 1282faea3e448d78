"""Scoring rules and the calibration report, checked against hand-computed values."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hunchlab.calibration import (
    CHANCE_BRIER,
    CHANCE_LOG_SCORE,
    CalibrationReport,
    brier,
    calibration_report,
    log_score,
    wilson_interval,
)
from hunchlab.errors import HunchError

Z90 = 1.6448536269514722  # standard normal 95th percentile: a two-sided 90% interval
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _at(day: int) -> datetime:
    return T0 + timedelta(days=day)


# --- Brier and log score -----------------------------------------------------


@pytest.mark.parametrize(
    ("p", "outcome", "expected"),
    [
        (0.9, True, 0.01),  # (0.9 - 1)^2
        (0.9, False, 0.81),  # (0.9 - 0)^2
        (0.5, True, 0.25),
        (0.5, False, 0.25),
        (0.0, True, 1.0),  # certain and wrong: the worst Brier, still bounded
        (1.0, True, 0.0),
        (0.3, False, 0.09),
    ],
)
def test_brier_is_squared_error(p: float, outcome: bool, expected: float) -> None:
    assert brier(p, outcome) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    ("p", "outcome", "expected"),
    [(0.9, True, math.log(0.9)), (0.9, False, math.log(0.1)), (0.5, True, math.log(0.5)), (0.2, False, math.log(0.8))],
)
def test_log_score_is_ln_of_probability_given_to_what_happened(p: float, outcome: bool, expected: float) -> None:
    assert log_score(p, outcome) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    ("p", "outcome", "expected"),
    [
        (1.0, False, math.log(1e-4)),  # clipped to 1 - 1e-4, so ln(1 - (1 - 1e-4)) = ln(1e-4) ~ -9.2103
        (0.0, True, math.log(1e-4)),  # clipped up to 1e-4
        (1.0, True, math.log(1 - 1e-4)),
        (0.0, False, math.log(1 - 1e-4)),
        (0.99999, False, math.log(1e-4)),  # inside the clip zone too
    ],
)
def test_log_score_clips_certainty_to_a_finite_value(p: float, outcome: bool, expected: float) -> None:
    assert log_score(p, outcome) == pytest.approx(expected, rel=1e-9)
    assert math.isfinite(log_score(p, outcome))


def test_log_score_clip_follows_eps() -> None:
    assert log_score(1.0, False, eps=0.01) == pytest.approx(math.log(0.01), rel=1e-12)
    assert log_score(0.995, False, eps=0.01) == pytest.approx(math.log(0.01), rel=1e-9)  # 0.995 -> 0.99


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan, "0.5", True])
def test_scores_reject_probabilities_outside_the_unit_interval(p: object) -> None:
    with pytest.raises(HunchError):
        brier(p, True)  # type: ignore[arg-type]
    with pytest.raises(HunchError):
        log_score(p, True)  # type: ignore[arg-type]


@pytest.mark.parametrize("eps", [0.0, 0.5, -1e-3])
def test_log_score_rejects_degenerate_eps(eps: float) -> None:
    with pytest.raises(HunchError):
        log_score(0.5, True, eps=eps)


def test_outcome_accepts_database_integers_but_not_other_values() -> None:
    assert brier(0.9, 1) == brier(0.9, True)
    with pytest.raises(HunchError):
        brier(0.9, "yes")  # type: ignore[arg-type]


# --- Wilson interval ---------------------------------------------------------


def test_wilson_interval_at_zero_and_all_successes_has_closed_forms() -> None:
    # 0/n: upper = z^2 / (n + z^2); n/n: lower = n / (n + z^2). With n = 2:
    assert wilson_interval(0, 2) == (0.0, pytest.approx(Z90**2 / (2 + Z90**2), rel=1e-12))  # 0.57497
    assert wilson_interval(2, 2) == (pytest.approx(2 / (2 + Z90**2), rel=1e-12), 1.0)  # 0.42503


def test_wilson_interval_half_successes_is_centred_at_one_half() -> None:
    # 1/2: centre 0.5, half-width z/(1 + z^2/2) * sqrt(0.5*0.5/2 + z^2/16) = 0.699114 * 0.542307 = 0.379134
    low, high = wilson_interval(1, 2)
    assert low == pytest.approx(0.5 - 0.379134, abs=1e-6)
    assert high == pytest.approx(0.5 + 0.379134, abs=1e-6)


# --- the report --------------------------------------------------------------


def test_report_means_match_hand_computation() -> None:
    report = calibration_report([(0.9, True, _at(0)), (0.9, False, _at(1)), (0.5, True, _at(2))])
    assert report.n == 3
    assert report.brier == pytest.approx((0.01 + 0.81 + 0.25) / 3, abs=1e-15)  # 0.356667
    assert report.log_score == pytest.approx((math.log(0.9) + math.log(0.1) + math.log(0.5)) / 3, abs=1e-15)


def test_report_gives_chance_reference_scores() -> None:
    report = calibration_report([(0.9, True, _at(0))])
    assert (report.chance_brier, report.chance_log_score) == (0.25, math.log(0.5))
    assert CHANCE_BRIER == 0.25
    assert math.log(0.5) == CHANCE_LOG_SCORE


def test_base_rate_reference_predicts_the_observed_frequency_for_every_item() -> None:
    report = calibration_report([(0.9, True, _at(0)), (0.9, False, _at(1)), (0.5, True, _at(2))])
    # 2 of 3 held, so f = 2/3. Brier: two items (2/3 - 1)^2 = 1/9, one (2/3)^2 = 4/9 -> (2/9 + 4/9)/3 = 2/9 = f(1 - f)
    assert report.base_rate == pytest.approx(2 / 3)
    assert report.base_rate_brier == pytest.approx(2 / 9, abs=1e-15)
    assert report.base_rate_log_score == pytest.approx((2 * math.log(2 / 3) + math.log(1 / 3)) / 3, abs=1e-15)


def test_base_rate_of_all_true_is_clipped_not_infinite() -> None:
    report = calibration_report([(0.9, True, _at(0)), (0.8, True, _at(1))])
    assert report.base_rate == 1.0
    assert report.base_rate_brier == 0.0
    assert report.base_rate_log_score == pytest.approx(math.log(1 - 1e-4))


def test_reliability_bins_count_mean_and_observed_frequency_with_wilson_interval() -> None:
    items = [
        (0.15, True, _at(0)),
        (0.15, False, _at(1)),  # bin [0.1, 0.2): 2 items, 1 held
        (0.7, True, _at(2)),  # an edge value belongs to the bin it starts: [0.7, 0.8)
        (0.75, True, _at(3)),
        (0.78, False, _at(4)),  # bin [0.7, 0.8): 3 items, 2 held
        (1.0, True, _at(5)),  # p = 1 joins the last, closed bin [0.9, 1.0]
    ]
    rows = calibration_report(items).reliability
    assert [(r.lower, r.upper, r.count) for r in rows] == [(0.1, 0.2, 2), (0.7, 0.8, 3), (0.9, 1.0, 1)]
    low_bin, mid_bin, top_bin = rows
    assert low_bin.mean_p == pytest.approx(0.15)
    assert low_bin.observed == 0.5
    assert (low_bin.observed_low, low_bin.observed_high) == (
        pytest.approx(0.120866, abs=1e-6),
        pytest.approx(0.879134, abs=1e-6),
    )
    assert mid_bin.mean_p == pytest.approx((0.7 + 0.75 + 0.78) / 3)  # 0.743333
    assert mid_bin.observed == pytest.approx(2 / 3)
    # 2/3, n=3: z^2 = 2.705543, denominator 1 + z^2/3 = 1.901848; centre (2/3 + z^2/6)/1.901848 = 0.587634,
    # half-width z/1.901848 * sqrt(2/27 + z^2/36) = 0.864871 * 0.386300 = 0.334100
    assert mid_bin.observed_low == pytest.approx(0.587634 - 0.334100, abs=2e-6)
    assert mid_bin.observed_high == pytest.approx(0.587634 + 0.334100, abs=2e-6)
    # 1/1: lower = 1/(1 + z^2) = 0.269866
    assert (top_bin.observed, top_bin.observed_low, top_bin.observed_high) == (
        1.0,
        pytest.approx(0.269866, abs=1e-6),
        1.0,
    )


def test_reliability_bin_count_follows_bins_argument() -> None:
    rows = calibration_report([(0.3, True, _at(0)), (0.6, False, _at(1))], bins=2).reliability
    assert [(r.lower, r.upper, r.count) for r in rows] == [(0.0, 0.5, 1), (0.5, 1.0, 1)]


def test_verdict_declines_below_five_resolved_predictions() -> None:
    report = calibration_report([(0.9, False, _at(i)) for i in range(4)])
    assert report.verdict == "too few resolved predictions to say (n=4 < 5)"


def test_verdict_over_confident_when_stated_confidence_exceeds_hit_rate_interval() -> None:
    # ten claims at 90%, five held: hit rate 50%, its 90% Wilson interval [0.269, 0.731] lies below 90%
    items = [(0.9, i < 5, _at(i)) for i in range(10)]
    report = calibration_report(items)
    assert report.verdict == "over-confident: stated 90% on average, right 50% of the time (n=10)"


def test_verdict_under_confident_when_hit_rate_interval_lies_above_stated() -> None:
    # twenty claims at 60%, all held: lower bound 20/(20 + z^2) = 0.881 > 0.6
    report = calibration_report([(0.6, True, _at(i)) for i in range(20)])
    assert report.verdict == "under-confident: stated 60% on average, right 100% of the time (n=20)"


def test_verdict_neutral_when_stated_confidence_is_inside_the_interval() -> None:
    report = calibration_report([(0.7, i < 7, _at(i)) for i in range(10)])
    assert report.verdict.startswith("no clear over- or under-confidence: stated 70% on average, right 70%")


def test_confidence_is_measured_in_the_predicted_direction() -> None:
    # p = 0.2 that a claim holds is 80% confidence that it does not; it failed, so that is a hit.
    # p = 0.5 picks no side and counts half a hit. Stated (0.8 + 0.8 + 0.5)/3 = 0.7, hits (1 + 0 + 0.5)/3 = 0.5
    report = calibration_report([(0.2, False, _at(0)), (0.2, True, _at(1)), (0.5, False, _at(2))])
    assert report.stated == pytest.approx(0.7)
    assert report.hit_rate == pytest.approx(0.5)


def test_trend_is_rolling_brier_in_resolution_order_with_partial_first_windows() -> None:
    items = [  # given out of order, with datetimes and ISO text mixed
        (0.9, False, "2024-05-03T12:00:00+00:00"),  # third: 0.81
        (0.9, True, _at(0)),  # first: 0.01
        (0.5, True, "2024-05-02T12:00:00Z"),  # second: 0.25
        (0.6, True, "2024-05-04T12:00:00"),  # fourth (naive = UTC): 0.16
    ]
    trend = calibration_report(items, window=2).trend
    assert [point.index for point in trend] == [1, 2, 3, 4]
    assert [point.window_n for point in trend] == [1, 2, 2, 2]
    assert [point.brier for point in trend] == pytest.approx(
        [0.01, (0.01 + 0.25) / 2, (0.25 + 0.81) / 2, (0.81 + 0.16) / 2]
    )
    assert trend[-1].resolved_at == "2024-05-04T12:00:00+00:00"


def test_trend_default_window_is_last_ten() -> None:
    # twelve items: the first two are certain misses (Brier 1), the rest perfect (Brier 0)
    items = [(1.0, False, _at(i)) for i in range(2)] + [(1.0, True, _at(i)) for i in range(2, 12)]
    trend = calibration_report(items).trend
    assert trend[9].brier == pytest.approx(2 / 10)  # items 1..10 include both misses
    assert trend[10].brier == pytest.approx(1 / 10)  # items 2..11
    assert (trend[11].brier, trend[11].window_n) == (0.0, 10)  # items 3..12


def test_timezones_are_compared_in_utc() -> None:
    early = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=5)))  # 07:00 UTC
    trend = calibration_report([(0.9, True, "2024-05-01T10:00:00Z"), (0.5, True, early)], window=1).trend
    assert [point.brier for point in trend] == pytest.approx([0.25, 0.01])


def test_empty_report_says_nothing_is_resolved_yet() -> None:
    report = calibration_report([])
    assert report.n == 0
    assert (report.brier, report.log_score, report.base_rate) == (None, None, None)
    assert (report.reliability, report.trend) == ((), ())
    assert report.verdict.startswith("nothing resolved yet")
    assert report.render().startswith("nothing resolved yet")


def test_report_round_trips_through_json() -> None:
    report = calibration_report([(0.9, True, _at(0)), (0.2, False, _at(1)), (0.6, True, _at(2))])
    assert CalibrationReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    empty = calibration_report([])
    assert CalibrationReport.from_dict(json.loads(json.dumps(empty.to_dict()))) == empty


def test_render_lists_scores_references_verdict_and_bins() -> None:
    text = calibration_report([(0.9, i < 5, _at(i)) for i in range(10)]).render()
    assert "10 resolved predictions" in text
    assert "over-confident" in text
    assert "Wilson" in text
    assert "90%-100%" in text


@pytest.mark.parametrize(
    "items",
    [[(0.9, True)], [(1.5, True, T0)], [(0.9, True, "yesterday")], [(0.9, True, 12345)], [(0.9, None, T0)]],
)
def test_report_rejects_malformed_items(items: list) -> None:
    with pytest.raises(HunchError):
        calibration_report(items)


@pytest.mark.parametrize(("bins", "window"), [(0, 10), (10, 0)])
def test_report_rejects_empty_bins_or_window(bins: int, window: int) -> None:
    with pytest.raises(HunchError):
        calibration_report([], bins=bins, window=window)


@pytest.mark.parametrize(("successes", "n"), [(0, 1), (1, 2), (2, 3), (7, 10), (13, 23), (40, 40)])
def test_wilson_interval_matches_statsmodels(successes: int, n: int) -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    expected = proportion.proportion_confint(successes, n, alpha=0.10, method="wilson")
    assert wilson_interval(successes, n) == pytest.approx(expected, abs=1e-12)
