"""Draw the four figures of docs/compare.md from simulations and hunchlab's own functions.

    PYTHONPATH=src python docs/figures/make_compare_figures.py   # about a minute on one core

- paired_tests.png: the false-positive rate at alpha=0.05 of the paired test hunchlab
  uses now (sign-flip, exact for few examples) and of the paired bootstrap it replaced,
  by the number of paired examples (both sides drawn from the same distribution);
- power.png: the smallest difference Welch's test detects at 80% power, by seeds per side;
- bounds.png: a 2-seed t-interval of accuracy, as computed and cut to [0, 1];
- few_seeds.png: learning curves from 2 seeds with a t-band (the old picture) and as
  hunchlab draws them now (every run and their mean), and from 8 seeds with the band.

Everything is generated (fixed seeds); nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hunchlab import plots  # noqa: E402
from hunchlab.intervals import mean_ci  # noqa: E402
from hunchlab.paired import paired_test  # noqa: E402
from hunchlab.power import welch_detectable  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZES = (5, 10, 20, 50, 200)
REPS = 2000


def bootstrap_p(d: np.ndarray, rng: np.random.Generator, resamples: int = 1000) -> float:
    """The replaced test: a percentile bootstrap of mean(d), p from the distribution shifted to 0."""
    means = d[rng.integers(0, d.size, size=(resamples, d.size))].mean(axis=1)
    extreme = np.count_nonzero(np.abs(means - d.mean()) >= abs(d.mean()))
    return (extreme + 1) / (resamples + 1)


def paired_tests_figure() -> None:
    rng = np.random.default_rng(0)
    rates: dict[str, list[float]] = {"paired bootstrap (before)": [], "sign-flip test (now)": []}
    for n in SIZES:
        a, b = rng.normal(size=(REPS, n)), rng.normal(size=(REPS, n))  # the null: A and B exchangeable
        boot = [bootstrap_p(y - x, rng) < 0.05 for x, y in zip(a, b, strict=True)]
        flip = [paired_test(x, y, confidence=None, resamples=1000, seed=i).p < 0.05
                for i, (x, y) in enumerate(zip(a, b, strict=True))]
        rates["paired bootstrap (before)"].append(float(np.mean(boot)))
        rates["sign-flip test (now)"].append(float(np.mean(flip)))
    fig, ax = plt.subplots(figsize=(5.2, 3.2), layout="constrained")
    for (label, values), marker in zip(rates.items(), "os", strict=True):
        ax.plot(SIZES, values, marker=marker, label=label)
    ax.axhline(0.05, color="0.4", linestyle="--", linewidth=1, label="the promised 5%")
    ax.set_xscale("log")
    ax.set_xticks(SIZES, [str(n) for n in SIZES])
    ax.set_xlabel("paired examples (exact test up to 16, random sign patterns after)")
    ax.set_ylabel("false-positive rate at α = 0.05")
    ax.set_title(f"No difference, {REPS:,} datasets per n", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.savefig(HERE / "paired_tests.png", dpi=130)


def power_figure() -> None:
    seeds = np.arange(2, 21)
    fig, ax = plt.subplots(figsize=(5.2, 3.2), layout="constrained")
    ax.plot(seeds, [welch_detectable(1.0, int(n), 1.0, int(n), 0.05) for n in seeds], marker="o", markersize=3)
    for n in (2, 3, 5, 10):
        d = welch_detectable(1.0, n, 1.0, n, 0.05)
        ax.annotate(f"{d:.1f} sd", (n, d), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_yscale("log")
    ax.set_yticks([1, 2, 3, 4, 5, 6], ["1", "2", "3", "4", "5", "6"])
    ax.minorticks_off()
    ax.set_ylim(0.8, 7.5)
    ax.set_xticks([2, 5, 10, 15, 20])
    ax.set_xlabel("seeds per side")
    ax.set_ylabel("smallest difference detected\n(80% power, α=0.05), in sd")
    ax.set_title("What 'within noise' could have detected (Welch's test)", fontsize=10)
    fig.savefig(HERE / "power.png", dpi=130)


def bounds_figure() -> None:
    seeds = [0.92, 0.98]
    raw, cut = mean_ci(seeds), mean_ci(seeds, bounds=(0.0, 1.0))
    fig, ax = plt.subplots(figsize=(5.2, 2.4), layout="constrained")
    for y, ci, label in ((1, raw, "t-interval, as computed"), (0, cut, "cut to the range [0, 1] (now)")):
        ax.errorbar([ci.mean], [y], xerr=[[ci.mean - ci.lo], [ci.hi - ci.mean]], fmt="o", capsize=4)
        ax.annotate(f"{label}: [{ci.lo:.2f}, {ci.hi:.2f}]", (ci.mean, y), textcoords="offset points",
                    xytext=(0, 8), ha="center", fontsize=8)
    ax.scatter(seeds, [0.5, 0.5], color="0.3", s=14, zorder=3, label="the two seeds")
    ax.axvspan(1.0, 1.4, color="0.9")
    ax.text(1.02, 0.5, "accuracy > 1:\nimpossible", fontsize=8, va="center", color="0.4")
    ax.set_xlim(0.5, 1.4)
    ax.set_ylim(-0.6, 1.8)
    ax.set_yticks([])
    ax.set_xlabel("accuracy")
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    ax.set_title("Two seeds of accuracy 0.92 and 0.98: 95% interval of the mean", fontsize=10)
    fig.savefig(HERE / "bounds.png", dpi=130)


def _runs(count: int, rng: np.random.Generator) -> list[dict]:
    steps = np.arange(0, 200, 5)
    return [{"run_id": f"r{i}", "metrics": {"loss": list(zip(steps, 2.0 * np.exp(-steps / 60.0) + 0.3
                                                                  + rng.normal(0, 0.08, steps.size), strict=True))}}
            for i in range(count)]


def few_seeds_figure() -> None:
    """Left: the old 95% t-band from 2 seeds; middle, right: what hunchlab draws now, from 2 and 8 seeds."""
    rng = np.random.default_rng(3)
    two, eight = _runs(2, rng), _runs(8, rng)
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.0), layout="constrained", sharey=True)
    steps = np.array([s for s, _ in two[0]["metrics"]["loss"]])
    values = np.array([[v for _, v in r["metrics"]["loss"]] for r in two])
    mean, sd = values.mean(axis=0), values.std(axis=0, ddof=1)
    half = 12.706 * sd / np.sqrt(2)  # the t quantile at 1 df
    axes[0].plot(steps, mean)
    axes[0].fill_between(steps, mean - half, mean + half, alpha=0.2)
    axes[0].set_title("before: 2 seeds, 95% t-band", fontsize=9)
    for ax, series, title in ((axes[1], two, "now: 2 seeds"), (axes[2], eight, "now: 8 seeds")):
        rows = plots._learning_rows([{"label": "g", "runs": series}], "loss", 0, "ci")  # the rows hunch plot draws
        for line in dict.fromkeys(r["line"] for r in rows):
            mine = [r for r in rows if r["line"] == line]
            x, y = [r["step"] for r in mine], [r["value"] for r in mine]
            if line != "mean":
                ax.plot(x, y, linewidth=0.7, alpha=0.45, color="C0")
                continue
            ax.plot(x, y, linewidth=2.2, color="C0")
            lo, hi = [r["band_lo"] for r in mine], [r["band_hi"] for r in mine]
            if not any(np.isnan(v) for v in lo):
                ax.fill_between(x, lo, hi, alpha=0.2, color="C0")
        ax.set_title(title + (" (each run, their mean)" if len(series) < plots.BAND_FROM else ", 95% t-band"),
                     fontsize=9)
    for ax in axes:
        ax.set_xlabel("step")
    axes[0].set_ylabel("train loss")
    fig.savefig(HERE / "few_seeds.png", dpi=130)


if __name__ == "__main__":
    paired_tests_figure()
    power_figure()
    bounds_figure()
    few_seeds_figure()
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.png"))))
