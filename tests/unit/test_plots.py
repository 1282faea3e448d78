"""Figures from plain data: the right numbers, the three files, and a script that really rebuilds."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hunchlab import plots
from hunchlab.errors import HunchError
from hunchlab.stats import mean_ci

SRC = Path(plots.__file__).resolve().parents[1]
# The environment without PYTHONPATH, so a generated script cannot reach hunchlab.
BARE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run(run_id: str, points: list[tuple[float, float]], metric: str = "loss") -> dict:
    return {"run_id": run_id, "metrics": {metric: points}}


# Three runs at the same steps: mean 2, 3, 4; sd 1 everywhere; min-max ±1.
THREE = [{"label": "base", "runs": [_run(f"r{i}", [(0, 1 + i), (1, 2 + i), (2, 3 + i)]) for i in range(3)]}]


def _learning(out: Path) -> plots.FigureFiles:
    return plots.learning_curves(THREE, ["loss"], out)


def _param(out: Path) -> plots.FigureFiles:
    points = [{"group": "adam", "x": lr, "values": [0.5, 0.6, 0.7]} for lr in (1e-4, 1e-3, 1e-2)]
    return plots.param_curve(points, "lr", "accuracy", out)


def _bars(out: Path) -> plots.FigureFiles:
    bars = [
        {"label": "full", "mean": 0.8, "lo": 0.75, "hi": 0.85},
        {"label": "no aug", "mean": 0.7, "lo": None, "hi": None},
    ]
    return plots.bar_chart(bars, out, "Ablation", "accuracy")


def _intervals(out: Path) -> plots.FigureFiles:
    points = [{"group": arm, "x": d, "y": y, "lo": y - 0.1, "hi": min(1.0, y + 0.1)}
              for arm, y in (("search", 0.9), ("blind", 0.3)) for d in (2, 4, 6)]
    return plots.interval_curves(points, out, "difficulty", "share proved", "95% Wilson interval")


def _reliability(out: Path) -> plots.FigureFiles:
    bins = [
        {"lo": 0.0, "hi": 0.5, "count": 4, "mean_p": 0.3, "freq": 0.25, "freq_lo": 0.05, "freq_hi": 0.6},
        {"lo": 0.5, "hi": 1.0, "count": 0, "mean_p": None, "freq": None, "freq_lo": None, "freq_hi": None},
    ]
    trend = [{"t": "2024-05-02T00:00:00Z", "brier": 0.2}, {"t": "2024-05-01T00:00:00", "brier": 0.3}]
    return plots.reliability_diagram(bins, trend, out)


FIGURES: dict[str, Callable[[Path], plots.FigureFiles]] = {
    "learning": _learning,
    "param": _param,
    "bars": _bars,
    "intervals": _intervals,
    "reliability": _reliability,
}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _column(rows: list[dict[str, str]], name: str) -> list[float | None]:
    return [float(r[name]) if r[name] else None for r in rows]


@pytest.mark.parametrize("suffix", plots.FORMATS)
@pytest.mark.parametrize("kind", FIGURES)
def test_each_figure_writes_image_data_and_script(tmp_path: Path, kind: str, suffix: str) -> None:
    files = FIGURES[kind](tmp_path / f"fig{suffix}")
    assert files == plots.FigureFiles(tmp_path / f"fig{suffix}", tmp_path / "fig.csv", tmp_path / "fig_plot.py")
    assert files.figure.stat().st_size > 500
    assert _rows(files.data)
    assert files.script.read_text().startswith('"""Redraw')


@pytest.mark.parametrize("kind", FIGURES)
def test_generated_script_rebuilds_the_same_figure_standalone(tmp_path: Path, kind: str) -> None:
    files = FIGURES[kind](tmp_path / "fig.svg")
    rebuilt = tmp_path / "rebuilt.svg"
    subprocess.run([sys.executable, str(files.script), str(rebuilt)], check=True, cwd=tmp_path, env=BARE_ENV)
    assert rebuilt.read_bytes() == files.figure.read_bytes()


def test_script_defaults_to_redrawing_the_original_file(tmp_path: Path) -> None:
    files = _bars(tmp_path / "fig.png")
    files.figure.unlink()
    subprocess.run([sys.executable, str(files.script)], check=True, env=BARE_ENV)
    assert files.figure.stat().st_size > 500


@pytest.mark.parametrize("name", ["fig.jpg", "fig", "fig.csv"])
def test_unknown_format_raises_before_writing_anything(tmp_path: Path, name: str) -> None:
    with pytest.raises(HunchError, match=r"\.png, \.pdf, \.svg"):
        _learning(tmp_path / "out" / name)
    assert not (tmp_path / "out").exists()


def test_learning_curve_ci_band_is_the_t_interval_of_the_mean(tmp_path: Path) -> None:
    rows = _rows(_learning(tmp_path / "fig.png").data)
    assert _column(rows, "x") == [0, 1, 2]
    assert _column(rows, "mean") == [2, 3, 4]
    assert _column(rows, "n") == [3, 3, 3]
    expected = mean_ci([1, 2, 3])
    assert _column(rows, "lo")[0] == pytest.approx(expected.lo)
    assert _column(rows, "hi")[0] == pytest.approx(expected.hi)


def test_learning_curve_minmax_band_and_legend_say_which(tmp_path: Path) -> None:
    files = plots.learning_curves(THREE, ["loss"], tmp_path / "fig.svg", band="minmax")
    rows = _rows(files.data)
    assert (_column(rows, "lo"), _column(rows, "hi")) == ([1, 2, 3], [3, 4, 5])
    assert "band: min–max over 3 runs" in files.figure.read_text()
    ci = _learning(tmp_path / "ci.svg").figure.read_text()
    assert "band: 95% CI over 3 runs" in ci


def test_single_run_has_no_band_and_says_n1(tmp_path: Path) -> None:
    series = [{"label": "solo", "runs": [_run("r0", [(0, 1.0), (1, 0.5)])]}]
    files = plots.learning_curves(series, ["loss"], tmp_path / "fig.svg")
    rows = _rows(files.data)
    assert _column(rows, "lo") == [None, None] and _column(rows, "hi") == [None, None]
    svg = files.figure.read_text()
    assert "solo (n=1)" in svg and "band:" not in svg


def test_runs_at_different_steps_align_on_the_union_without_extrapolating(tmp_path: Path) -> None:
    series = [{"label": "g", "runs": [_run("a", [(0, 0.0), (2, 2.0)]), _run("b", [(1, 1.0), (3, 3.0)])]}]
    rows = _rows(plots.learning_curves(series, ["loss"], tmp_path / "fig.png").data)
    assert _column(rows, "x") == [0, 1, 2, 3]
    assert _column(rows, "mean") == [0, 1, 2, 3]  # a is 1 at x=1, b is 2 at x=2 (interpolated)
    assert _column(rows, "n") == [1, 2, 2, 1]  # neither run is extended past its own range


def test_smoothing_is_a_trailing_mean_per_run(tmp_path: Path) -> None:
    series = [{"label": "g", "runs": [_run("a", [(0, 0.0), (1, 3.0), (2, 6.0), (3, 9.0)])]}]
    rows = _rows(plots.learning_curves(series, ["loss"], tmp_path / "fig.png", smooth=2).data)
    assert _column(rows, "mean") == [0, 1.5, 4.5, 7.5]


def test_long_curves_are_thinned_evenly_keeping_both_ends(tmp_path: Path) -> None:
    series = [{"label": "g", "runs": [_run("a", [(x, float(x)) for x in range(5000)])]}]
    rows = _rows(plots.learning_curves(series, ["loss"], tmp_path / "fig.png").data)
    assert len(rows) == plots.MAX_CURVE_POINTS
    assert (rows[0]["x"], rows[-1]["x"]) == ("0", "4999")
    assert all(r["x"] == r["mean"] for r in rows)  # kept points are real values, not averages


def test_several_metrics_become_panels_in_one_tidy_csv(tmp_path: Path) -> None:
    run = {"run_id": "r", "metrics": {"loss": [(0, 1.0)], "acc": [(0, 0.5), (5, 0.9)]}}
    files = plots.learning_curves([{"label": "g", "runs": [run]}], ["loss", "acc"], tmp_path / "fig.png")
    assert [r["metric"] for r in _rows(files.data)] == ["loss", "acc", "acc"]


def test_missing_metric_names_the_logged_ones(tmp_path: Path) -> None:
    with pytest.raises(HunchError, match="did you mean 'loss'"):
        plots.learning_curves(THREE, ["los"], tmp_path / "fig.png")
    assert not list(tmp_path.iterdir())


def test_param_curve_rows_hold_seeds_and_mean_with_ci(tmp_path: Path) -> None:
    rows = _rows(_param(tmp_path / "fig.png").data)
    means = [r for r in rows if r["role"] == "mean"]
    assert [r["x"] for r in means] == ["0.0001", "0.001", "0.01"]
    assert _column(means, "y") == pytest.approx([0.6] * 3)
    assert _column(means, "lo")[0] == pytest.approx(mean_ci([0.5, 0.6, 0.7]).lo)
    assert len([r for r in rows if r["role"] == "seed"]) == 9


def _param_rows(xs: list[str]) -> list[dict[str, str]]:
    return [{"group": "g", "x": x, "role": "mean", "y": "1", "lo": "", "hi": "", "n": "1"} for x in xs]


@pytest.mark.parametrize(("xs", "scale"), [(["1e-5", "1e-3", "1e-1"], "log"), (["1", "5", "10"], "linear")])
def test_param_axis_goes_logarithmic_beyond_two_decades(xs: list[str], scale: str) -> None:
    ax = plots.draw_param_curve(_param_rows(xs), "lr", "acc").axes[0]
    assert ax.get_xscale() == scale


def test_categorical_param_keeps_the_given_order() -> None:
    ax = plots.draw_param_curve(_param_rows(["sgd", "adam", "lion"]), "opt", "acc").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sgd", "adam", "lion"]


@pytest.mark.parametrize(("label", "sideways"), [("full", False), ("a rather long failure category", True)])
def test_bars_keep_order_and_turn_sideways_for_long_labels(label: str, sideways: bool) -> None:
    rows = [{"label": name, "mean": "1", "lo": "", "hi": ""} for name in (label, "b", "c")]
    ax = plots.draw_bars(rows, "t", "count").axes[0]
    ticks = ax.get_yticklabels() if sideways else ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == [label, "b", "c"]


def test_bar_csv_keeps_missing_intervals_blank(tmp_path: Path) -> None:
    rows = _rows(_bars(tmp_path / "fig.png").data)
    assert rows == [
        {"label": "full", "mean": "0.8", "lo": "0.75", "hi": "0.85"},
        {"label": "no aug", "mean": "0.7", "lo": "", "hi": ""},
    ]


def test_reliability_drops_empty_bins_and_sorts_the_trend_in_utc(tmp_path: Path) -> None:
    rows = _rows(_reliability(tmp_path / "fig.png").data)
    assert [(r["panel"], r["x"], r["y"]) for r in rows] == [
        ("calibration", "0.3", "0.25"),
        ("brier", "2024-05-01T00:00:00", "0.3"),
        ("brier", "2024-05-02T00:00:00", "0.2"),
    ]
    assert (rows[0]["y_lo"], rows[0]["y_hi"], rows[0]["count"]) == ("0.05", "0.6", "4")


@pytest.mark.parametrize(
    "call",
    [
        lambda out: plots.learning_curves([{"label": "g", "runs": []}], ["loss"], out),
        lambda out: plots.param_curve([{"group": "g", "x": 1, "values": []}], "lr", "acc", out),
        lambda out: plots.bar_chart([], out),
        lambda out: plots.reliability_diagram([], [], out),
        lambda out: plots.reliability_diagram([], [{"t": "yesterday", "brier": 0.1}], out),
        lambda out: plots.learning_curves(THREE, ["loss"], out, band="sd"),
    ],
)
def test_no_data_or_bad_input_is_a_hunch_error(tmp_path: Path, call: Callable[[Path], object]) -> None:
    with pytest.raises(HunchError):
        call(tmp_path / "fig.png")
    assert not list(tmp_path.iterdir())


def test_importing_plots_does_not_import_matplotlib() -> None:
    code = "import sys, hunchlab.plots; sys.exit('matplotlib' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, env={**BARE_ENV, "PYTHONPATH": str(SRC)})
