"""Figures from plain data: the right numbers, the three files, and a script that really rebuilds."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hunchlab import plot_drawing, plots
from hunchlab.errors import HunchError
from hunchlab.intervals import mean_ci
from hunchlab.plot_drawing import COLORS, number

SRC = Path(plots.__file__).resolve().parents[1]
# The environment without PYTHONPATH, so a generated script cannot reach hunchlab.
BARE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run(run_id: str, points: list[tuple[float, float]], metric: str = "loss") -> dict:
    return {"run_id": run_id, "metrics": {metric: points}}


def _runs(count: int) -> list[dict]:
    """``count`` runs at the same steps: run i is 1+i, 2+i, 3+i."""
    return [{"label": "base", "runs": [_run(f"r{i}", [(0, 1 + i), (1, 2 + i), (2, 3 + i)]) for i in range(count)]}]


THREE, FIVE = _runs(3), _runs(5)  # FIVE: mean 3, 4, 5; min-max +-2


def _learning(out: Path) -> plots.FigureFiles:
    return plots.learning_curves(FIVE, ["loss"], out)


def _param(out: Path) -> plots.FigureFiles:
    points = [{"line": "adam", "x": lr, "values": [0.5, 0.6, 0.7, 0.55, 0.65]} for lr in (1e-4, 1e-3, 1e-2)]
    return plots.param_curve(points, "lr", "accuracy", out)


def _bars(out: Path) -> plots.FigureFiles:
    bars = [
        {"label": "full", "mean": 0.8, "lo": 0.75, "hi": 0.85},
        {"label": "no aug", "mean": 0.7, "lo": None, "hi": None},
    ]
    return plots.bar_chart(bars, out, "Ablation", "accuracy")


def _reliability(out: Path) -> plots.FigureFiles:
    bins = [
        {"lo": 0.0, "hi": 0.5, "count": 4, "mean_p": 0.3, "freq": 0.25, "freq_lo": 0.05, "freq_hi": 0.6},
        {"lo": 0.5, "hi": 1.0, "count": 0, "mean_p": None, "freq": None, "freq_lo": None, "freq_hi": None},
    ]
    trend = [{"t": "2024-05-02T00:00:00Z", "brier": 0.2}, {"t": "2024-05-01T00:00:00", "brier": 0.3}]
    return plots.reliability_diagram(bins, trend, out)


def draw_squares(rows: list[dict[str, str]], title: str) -> Any:
    """A caller's own portable draw function, for ``custom_figure``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.0, 3.0), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([number(r["x"]) for r in rows], [number(r["x"]) ** 2 for r in rows], color=COLORS[1])
    ax.set_title(title)
    return fig


def _custom(out: Path) -> plots.FigureFiles:
    return plots.custom_figure([{"x": x} for x in range(5)], ["x"], draw_squares, out, title="squares")


FIGURES: dict[str, Callable[[Path], plots.FigureFiles]] = {
    "custom": _custom,
    "learning": _learning,
    "param": _param,
    "bars": _bars,
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


def _means(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if r["line"] == "mean"]


def test_learning_curve_ci_band_is_the_t_interval_of_the_mean(tmp_path: Path) -> None:
    rows = _rows(_learning(tmp_path / "fig.png").data)
    assert list(rows[0]) == ["metric", "group", "line", "step", "value", "band_lo", "band_hi", "n_runs"]
    assert rows == _means(rows)  # from 5 runs on: the mean and its band, not every run
    assert _column(rows, "step") == [0, 1, 2]
    assert _column(rows, "value") == [3, 4, 5]
    assert _column(rows, "n_runs") == [5, 5, 5]
    expected = mean_ci([1, 2, 3, 4, 5])
    assert _column(rows, "band_lo")[0] == pytest.approx(expected.lo)
    assert _column(rows, "band_hi")[0] == pytest.approx(expected.hi)


def test_learning_curve_minmax_band_and_legend_say_which(tmp_path: Path) -> None:
    files = plots.learning_curves(FIVE, ["loss"], tmp_path / "fig.svg", band="minmax")
    rows = _rows(files.data)
    assert (_column(rows, "band_lo"), _column(rows, "band_hi")) == ([1, 2, 3], [5, 6, 7])
    assert "band: min–max over 5 runs" in files.figure.read_text()
    ci = _learning(tmp_path / "ci.svg").figure.read_text()
    assert "band: 95% t-interval of the mean over 5 runs" in ci


def test_fewer_than_five_runs_show_every_run_and_their_mean_without_a_band(tmp_path: Path) -> None:
    # With 2 seeds a t-band is +-12.7 standard errors: a loss band reaching -2 was seen.
    files = plots.learning_curves(THREE, ["loss"], tmp_path / "fig.svg")
    rows = _rows(files.data)
    assert [r["line"] for r in rows] == ["r0"] * 3 + ["r1"] * 3 + ["r2"] * 3 + ["mean"] * 3
    assert _column(_means(rows), "value") == [2, 3, 4] and not any(r["band_lo"] for r in rows)
    svg = files.figure.read_text()
    assert "thin: each run, thick: their mean (no band below 5 runs)" in svg and "band:" not in svg


def test_single_run_has_no_band_and_says_n1(tmp_path: Path) -> None:
    series = [{"label": "solo", "runs": [_run("r0", [(0, 1.0), (1, 0.5)])]}]
    files = plots.learning_curves(series, ["loss"], tmp_path / "fig.svg")
    rows = _rows(files.data)
    assert _column(rows, "band_lo") == [None, None] and [r["line"] for r in rows] == ["mean", "mean"]
    svg = files.figure.read_text()
    assert "solo (n=1)" in svg and "band:" not in svg


def test_a_band_far_wider_than_the_data_does_not_stretch_the_axis() -> None:
    rows = [{"metric": "loss", "group": "g", "line": "mean", "step": str(x), "value": str(1 - 0.1 * x),
             "band_lo": str(-2.0), "band_hi": str(4.0), "n_runs": "5"} for x in range(5)]
    fig = plot_drawing.draw_learning_curves(rows, "step", "step", "ci", 0, 5)
    low, high = fig.axes[0].get_ylim()
    assert -0.2 < low < 0.6 and 1.0 < high < 1.5  # the data span 0.6..1; the band alone would give -2..4
    legend = fig.legends[0].get_title().get_text()
    assert "band: 95% t-interval of the mean over 5 runs, cut at the axes" in legend


def test_runs_at_different_steps_align_on_the_union_without_extrapolating(tmp_path: Path) -> None:
    series = [{"label": "g", "runs": [_run("a", [(0, 0.0), (2, 2.0)]), _run("b", [(1, 1.0), (3, 3.0)])]}]
    rows = _means(_rows(plots.learning_curves(series, ["loss"], tmp_path / "fig.png").data))
    assert _column(rows, "step") == [0, 1, 2, 3]
    assert _column(rows, "value") == [0, 1, 2, 3]  # a is 1 at x=1, b is 2 at x=2 (interpolated)
    assert _column(rows, "n_runs") == [1, 2, 2, 1]  # neither run is extended past its own range


def test_time_curves_name_their_x_column_for_what_it_holds(tmp_path: Path) -> None:
    rows = _rows(plots.learning_curves(FIVE, ["loss"], tmp_path / "fig.png", x_label="time (s)").data)
    assert "time_s" in rows[0] and "step" not in rows[0]


def test_smoothing_is_a_trailing_mean_per_run(tmp_path: Path) -> None:
    series = [{"label": "g", "runs": [_run("a", [(0, 0.0), (1, 3.0), (2, 6.0), (3, 9.0)])]}]
    rows = _rows(plots.learning_curves(series, ["loss"], tmp_path / "fig.png", smooth=2).data)
    assert _column(rows, "value") == [0, 1.5, 4.5, 7.5]


def test_long_curves_are_thinned_evenly_keeping_both_ends(tmp_path: Path) -> None:
    series = [{"label": "g", "runs": [_run("a", [(x, float(x)) for x in range(5000)])]}]
    rows = _rows(plots.learning_curves(series, ["loss"], tmp_path / "fig.png").data)
    assert len(rows) == plots.MAX_CURVE_POINTS
    assert (rows[0]["step"], rows[-1]["step"]) == ("0", "4999")
    assert all(r["step"] == r["value"] for r in rows)  # kept points are real values, not averages


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
    assert list(rows[0]) == ["line", "lr", "role", "accuracy", "ci_lo", "ci_hi", "n_seeds"]
    means = [r for r in rows if r["role"] == "mean"]
    assert [r["lr"] for r in means] == ["0.0001", "0.001", "0.01"]
    assert _column(means, "accuracy") == pytest.approx([0.6] * 3)
    assert _column(means, "ci_lo")[0] == pytest.approx(mean_ci([0.5, 0.6, 0.7, 0.55, 0.65]).lo)
    assert len([r for r in rows if r["role"] == "seed"]) == 15 and {r["line"] for r in rows} == {"adam"}


def test_param_curve_with_few_seeds_shows_the_seeds_and_no_interval(tmp_path: Path) -> None:
    points = [{"line": None, "x": lr, "values": [0.5, 0.6]} for lr in (1e-4, 1e-3)]
    files = plots.param_curve(points, "lr", "acc", tmp_path / "fig.svg")
    rows = _rows(files.data)
    assert {r["line"] for r in rows} == {"all runs"}  # never the metric's name
    assert not any(r["ci_lo"] for r in rows) and "no CI below 5 seeds" in files.figure.read_text()


def _param_rows(xs: list[str]) -> list[dict[str, str]]:
    return [{"line": "g", "x": x, "role": "mean", "y": "1", "ci_lo": "", "ci_hi": "", "n_seeds": "1"} for x in xs]


def _draw_param(xs: list[str]) -> object:
    return plot_drawing.draw_param_curve(_param_rows(xs), "lr", "acc", "x", "y", 5).axes[0]


@pytest.mark.parametrize(("xs", "scale"), [(["1e-5", "1e-3", "1e-1"], "log"), (["1", "5", "10"], "linear")])
def test_param_axis_goes_logarithmic_beyond_two_decades(xs: list[str], scale: str) -> None:
    assert _draw_param(xs).get_xscale() == scale


def test_small_linear_param_values_get_short_tick_labels() -> None:
    # --x lr over 0.0002..0.001 printed "0.00060.00080.0010": long labels running together.
    ax = _draw_param(["0.0002", "0.0004", "0.0006", "0.0008", "0.001"])
    labels = [t.get_text().removeprefix("$\\mathdefault{").removesuffix("}$") for t in ax.get_xticklabels()]
    assert labels == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"]  # times a shared 1e-3 offset


def test_categorical_param_keeps_the_given_order() -> None:
    ax = _draw_param(["sgd", "adam", "lion"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sgd", "adam", "lion"]


@pytest.mark.parametrize(("label", "sideways"), [("full", False), ("a rather long failure category", True)])
def test_bars_keep_order_and_turn_sideways_for_long_labels(label: str, sideways: bool) -> None:
    rows = [{"label": name, "mean": "1", "lo": "", "hi": ""} for name in (label, "b", "c")]
    ax = plot_drawing.draw_bars(rows, "t", "count").axes[0]
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
        lambda out: plots.param_curve([{"line": "g", "x": 1, "values": []}], "lr", "acc", out),
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
