"""hunchlab.predict: the calibration report drawn as a figure, from the library as from the CLI."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hunchlab.calibration import calibration_report
from hunchlab.predict import calibration_plot


def test_the_calibration_plot_draws_each_reliability_bin_and_the_brier_trend(tmp_path: Path) -> None:
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    report = calibration_report([(0.9, True, t0), (0.9, False, t0 + timedelta(days=1)),
                                 (0.2, False, t0 + timedelta(days=2))])
    files = calibration_plot(report, tmp_path / "cal.png")
    assert files.figure.stat().st_size > 0 and files.script.exists()
    with open(files.data, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    bins = [r for r in rows if r["panel"] == "calibration"]
    # stated probability against observed frequency with its interval, one point per bin
    assert [(float(r["x"]), float(r["y"]), int(r["count"])) for r in bins] == [(0.2, 0.0, 1), (0.9, 0.5, 2)]
    assert float(bins[1]["y_lo"]) == pytest.approx(report.reliability[1].observed_low)
    assert float(bins[1]["y_hi"]) == pytest.approx(report.reliability[1].observed_high)
    trend = [float(r["y"]) for r in rows if r["panel"] == "brier"]
    assert trend == pytest.approx([t.brier for t in report.trend])  # 0.01, 0.41, 0.287: the rolling Brier
