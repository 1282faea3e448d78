"""The served self-consistency entry: what ``hunch study run self-consistency-served`` calls with a Run.

It asks the endpoint for N samples of every problem through ``hunchlab.models.Client``
(cached: a rerun asks for nothing), scores them with ``experiment.table``, and reports
through the run: the table as summary metrics, one record per problem (so ``hunch
failures`` reads the problems the vote gets wrong, and ``hunch compare`` pairs two
models problem by problem), the token usage and cost in the run's record, and a figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hunchlab.models.client import Client, Request
from hunchlab.studies.runtime import Progress, settings_from
from hunchlab.studies.served.experiment import Settings, table
from hunchlab.studies.served.problems import make_problems


@settings_from(Settings.from_config)
def self_consistency(run: Any) -> None:
    """Majority vote over N sampled answers against one sample, on a served model (Wang et al. 2022)."""
    s = Settings.from_config(run.config)
    problems = make_problems(s.k_values, s.n_problems, s.data_seed)
    client = Client.for_project(s.endpoint, s.model, params={
        "temperature": s.temperature, "max_tokens": s.max_tokens, "seed": run.seed})
    requests = [Request(p.prompt, sample=i, system=s.system or None) for p in problems for i in range(s.n_samples)]
    progress = Progress("self-consistency-served: samples", len(requests))
    try:
        done = client.complete_all(requests, progress=lambda n, total: progress.update(n, f"{n}/{total}"))
    finally:
        client.record(run)  # what was spent is kept even when the endpoint fails half-way
    texts = [[c.text for c in done[i * s.n_samples:(i + 1) * s.n_samples]] for i in range(len(problems))]
    result = table(problems, texts, s, run.seed)
    run.summary.update(result.metrics)
    for record in result.records:
        run.example(**record)
    accuracy_figure(run.dir / "accuracy_vs_n.png", s, result.metrics)
    run.artifact(run.dir / "accuracy_vs_n.png")


def accuracy_figure(path: Path, s: Settings, m: dict[str, float]) -> None:
    """Accuracy against the budget n per K: one sample (flat), majority vote, and the oracle above it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = sorted(s.k_values)
    fig, axes = plt.subplots(1, len(ks), figsize=(4.2 * len(ks), 4), sharey=True, squeeze=False)
    n = s.budgets
    for ax, k in zip(axes[0], ks, strict=True):
        ax.axhline(m[f"acc/single/k{k}"], color="black", linestyle="--", linewidth=1, label="one sample")
        ax.plot(n, [m[f"acc/maj/k{k}/n{x}"] for x in n], marker="o", color="tab:blue", label=f"{s.vote} vote of n")
        ax.plot(n, [m[f"acc/pass/k{k}/n{x}"] for x in n], marker=".", linestyle=":", color="gray",
                label="pass@n (oracle)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(n, [str(x) for x in n])
        ax.set_xlabel("samples per vote n")
        ax.set_title(f"K = {k} turns")
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel(f"accuracy ({s.n_problems} problems per K)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.suptitle(f"Self-consistency on {s.model} (T = {s.temperature}; "
                 f"vote − one sample at n={s.n_samples}: {m['gap/maj_minus_single']:+.3f} "
                 f"[{m['gap/maj_minus_single/lo']:+.3f}, {m['gap/maj_minus_single/hi']:+.3f}])")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
