"""The two study entries: what ``hunch run`` / ``hunch study run`` call with a Run.

Each entry trains (or loads) the models for every seed, computes its result
table with ``experiment``, and reports through the run: training losses with
``run.log``, the table as summary metrics, worked examples with
``run.example``, and figures in ``run.dir``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hunchlab.studies.runtime import set_threads, settings_from
from hunchlab.studies.test_time_compute.experiment import (
    Models,
    Result,
    Settings,
    build_models,
    mean_metrics,
    search_table,
    self_consistency_table,
)
from hunchlab.studies.training import Callback


@settings_from(Settings.from_config)
def self_consistency(run: Any) -> None:
    """Study 1: majority vote over sampled chains, and PRM versus ORM best-of-N (Wang 2022; Lightman 2023)."""
    s, _, results = _run_seeds(run, self_consistency_table)
    accuracy_vs_n_figure(run.dir / "accuracy_vs_n.png", s, results)
    run.artifact(run.dir / "accuracy_vs_n.png")


@settings_from(Settings.from_config)
def search_by_difficulty(run: Any) -> None:
    """Study 2: PRM beam search versus best-of-N by difficulty, and compute-optimal search (Snell 2024)."""
    s, seeds, results = _run_seeds(run, search_table)
    beam_minus_bon_figure(run.dir / "beam_minus_bon.png", s, results)
    compute_optimal_figure(run.dir / "compute_optimal.png", s, results)
    (run.dir / "compute_optimal_choices.json").write_text(
        json.dumps({f"seed{seed}": r.choices for seed, r in zip(seeds, results, strict=True)}, indent=1)
    )
    for name in ("beam_minus_bon.png", "compute_optimal.png", "compute_optimal_choices.json"):
        run.artifact(run.dir / name)


def _run_seeds(run: Any, table: Callable[[Settings, Models, int], Result]) -> tuple[Settings, list[int], list[Result]]:
    """Train and evaluate every seed, then report the mean table and the first seed's examples."""
    set_threads()
    s = Settings.from_config(run.config)
    seeds = [run.seed + 1000 * i for i in range(s.seeds)]  # apart, so runs with seeds 0, 1, 2 never share one
    results = []
    for seed in seeds:
        suffix = "" if seed == run.seed else f"/seed{seed}"

        def log(name: str, suffix: str = suffix) -> Callback:
            return lambda step, loss: run.log({f"train/{name}/loss{suffix}": loss}, step=step)

        results.append(table(s, build_models(s, seed, log), seed))
    for name, value in mean_metrics(results).items():
        run.summary[name] = value
    for record in results[0].records:
        run.example(**record)
    return s, seeds, results


# ---------------------------------------------------------------------------
# Figures: mean over seeds with a bar of one standard deviation when there are several


def _spread(results: list[Result], name: str) -> tuple[float, float]:
    values = [r.metrics[name] for r in results]
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return mean, sd


def _curve(ax: Any, results: list[Result], names: list[str], x: list[int], **style: Any) -> None:
    """One line over budgets; error bars over seeds when there are several seeds."""
    mean, sd = zip(*(_spread(results, name) for name in names), strict=True)
    if len(results) > 1:
        ax.errorbar(x, mean, yerr=sd, capsize=3, **style)
    else:
        ax.plot(x, mean, **style)


def _budget_axis(ax: Any, n_values: tuple[int, ...], label: str) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(n_values), [str(n) for n in n_values])
    ax.set_xlabel(label)
    ax.grid(alpha=0.3)


def _seeds_note(results: list[Result]) -> str:
    return f"mean ± sd over {len(results)} seeds" if len(results) > 1 else "one seed"


METHOD_STYLE = {
    "maj": dict(label="majority vote", color="tab:blue", marker="o"),
    "orm": dict(label="ORM best-of-N", color="tab:orange", marker="s"),
    "prm": dict(label="PRM best-of-N", color="tab:green", marker="^"),
    "pass": dict(label="pass@N (oracle)", color="gray", marker=".", linestyle=":"),
}


def accuracy_vs_n_figure(path: Path, s: Settings, results: list[Result]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(s.k_values), figsize=(4.2 * len(s.k_values), 4), sharey=True, squeeze=False)
    n = list(s.n_values)
    for ax, k in zip(axes[0], s.k_values, strict=True):
        single, _ = _spread(results, f"acc/single/k{k}")
        ax.axhline(single, color="black", linestyle="--", linewidth=1, label="single sample")
        for method, style in METHOD_STYLE.items():
            _curve(ax, results, [f"acc/{method}/k{k}/n{x}" for x in n], n, **style)
        _budget_axis(ax, s.n_values, "N sampled chains")
        ax.set_title(f"K = {k} steps")
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel(f"test accuracy ({s.n_test} problems per K)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.suptitle(f"Majority vote, and PRM vs ORM best-of-N, by chain length K ({_seeds_note(results)})")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def beam_minus_bon_figure(path: Path, s: Settings, results: list[Result]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    n = list(s.n_values)
    colors = plt.cm.viridis([0.85 * i / max(1, len(s.k_values) - 1) for i in range(len(s.k_values))])
    for k, color in zip(s.k_values, colors, strict=True):
        names = [f"beam_minus_bon/k{k}/n{x}" for x in n]
        _curve(ax, results, names, n, label=f"K = {k}", color=color, marker="o")
    ax.axhline(0, color="black", linewidth=1)
    _budget_axis(ax, s.n_values, "generation budget N (chains, or samples per step)")
    ax.set_ylabel("beam search − best-of-N weighted (accuracy)")
    ax.set_title(f"PRM beam search vs best-of-N, by difficulty\n({_seeds_note(results)})", fontsize=10)
    ax.legend(title="difficulty", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compute_optimal_figure(path: Path, s: Settings, results: list[Result]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    n = list(s.n_values)
    _curve(ax, results, [f"acc/bon/all/n{x}" for x in n], n, label="best-of-N weighted", color="tab:green", marker="^")
    _curve(
        ax,
        results,
        [f"acc/beam/all/n{x}" for x in n],
        n,
        label="beam search",
        color="tab:purple",
        marker="s",
        linewidth=5,
        alpha=0.4,
    )  # drawn wide: the compute-optimal line often lies on it
    _curve(
        ax,
        results,
        [f"acc/compute_optimal/n{x}" for x in n],
        n,
        label="compute-optimal (per-K choice on dev)",
        color="black",
        marker="o",
        linestyle="--",
    )
    target, _ = _spread(results, f"acc/bon/all/n{n[-1]}")
    ax.axhline(target, color="tab:green", linewidth=0.8, linestyle=":")
    savings, _ = _spread(results, "compute_optimal/savings")
    if savings > 0:
        ax.plot([n[-1] / savings], [target], marker="*", markersize=14, color="tab:red", linestyle="none")
        note = (
            f"compute-optimal reaches best-of-N@{n[-1]} (dotted)\n"
            f"at N≈{n[-1] / savings:.0f} (star): {savings:.2g}x less compute"
        )
    else:
        note = f"compute-optimal never reaches best-of-N@{n[-1]} (dotted)"
    ax.text(0.02, 0.97, note, transform=ax.transAxes, va="top", fontsize=8)
    _budget_axis(ax, s.n_values, "generation budget N")
    ax.set_ylabel(f"test accuracy, all K ({len(s.k_values) * s.n_test} problems)")
    ax.set_title(f"Compute-optimal test-time search\n({_seeds_note(results)})", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
