"""The studies' figures, each written with its CSV and a script that redraws it (``plots.custom_figure``).

The ``draw_*`` functions are portable: they import matplotlib inside, use only
the standard library and ``plots``' portable helpers, and their source is copied
into each figure's ``*_plot.py``. The ``*_figure`` functions turn a study's
results into the CSV rows they draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab.figure_files import FigureFiles
from hunchlab.plot_drawing import COLORS, group_by, number
from hunchlab.plots import custom_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hunchlab.studies.interpretability.superposition import Measures, SuperpositionSettings


# ---------------------------------------------------------------------------
# superposition: the phase figure and the W^T W heat maps


def draw_phase(rows: list[dict[str, str]], n_hidden: int, represented_norm: float) -> Figure:
    """Features represented and dimensions per feature against sparsity, ReLU vs linear, a dot per seed."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.0), layout="constrained")
    panels = zip(fig.subplots(1, 2), ("represented", "dims_per_feature"),
                 (f"features represented (||W_i|| > {represented_norm:g})", "dimensions per feature, m / ||W||_F^2"),
                 strict=True)
    for ax, column, label in panels:
        for i, (arm, arm_rows) in enumerate(group_by(rows, "arm").items()):
            x = [1 / (1 - number(r["sparsity"])) for r in arm_rows]
            ax.scatter(x, [number(r[column]) for r in arm_rows], s=10, color=COLORS[i], alpha=0.4, linewidths=0)
            means = {s: [number(r[column]) for r in g] for s, g in group_by(arm_rows, "sparsity").items()}
            xs = [1 / (1 - number(s)) for s in means]
            ax.plot(xs, [sum(v) / len(v) for v in means.values()], color=COLORS[i], marker="o", markersize=3,
                    label=arm)
        if column == "represented":
            ax.axhline(n_hidden, color="0.5", linestyle="--", linewidth=1, label=f"m = {n_hidden} dimensions")
        ax.set_xscale("log")
        ax.set_xlabel("1 / (1 - S): sparser to the right")
        ax.set_ylabel(label)
    fig.legend(*fig.axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    return fig


def draw_wtw(rows: list[dict[str, str]]) -> Figure:
    """W^T W per sparsity (ReLU and linear rows) and the ReLU model's feature norms, as in Elhage et al. Fig. 2."""
    from matplotlib.figure import Figure

    kinds = group_by(rows, "kind")
    sparsities = list(group_by(kinds["norm"], "sparsity"))
    fig = Figure(figsize=(1.5 * len(sparsities) + 0.6, 5.0), layout="constrained")
    axes = fig.subplots(3, len(sparsities), squeeze=False)
    image = None
    for col, s in enumerate(sparsities):
        for row, arm in ((0, "relu"), (2, "linear")):
            cells = [r for r in kinds["wtw"] if r["arm"] == arm and r["sparsity"] == s]
            n = int(max(number(r["i"]) for r in cells)) + 1
            grid = [[0.0] * n for _ in range(n)]
            for r in cells:
                grid[int(number(r["i"]))][int(number(r["j"]))] = number(r["value"])
            image = axes[row][col].imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1)
            axes[row][col].set_xticks([])
            axes[row][col].set_yticks([])
        norms = [r for r in kinds["norm"] if r["sparsity"] == s]
        ax = axes[1][col]
        ax.barh([int(number(r["i"])) for r in norms], [number(r["value"]) for r in norms],
                color=[COLORS[1] if number(r["superposition"]) > 0.1 else COLORS[0] for r in norms])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.3)
        ax.set_yticks([])
        ax.grid(False)
        axes[0][col].set_title(f"S = {s}")
    axes[0][0].set_ylabel("ReLU: W^T W")
    axes[1][0].set_ylabel("ReLU: ||W_i||\n(orange: superposed)")
    axes[2][0].set_ylabel("linear: W^T W")
    if image is not None:
        fig.colorbar(image, ax=[axes[0][-1], axes[2][-1]], shrink=0.6)
    return fig


def superposition_figures(folder: Path, s: SuperpositionSettings, per_seed: list[Measures]) -> list[FigureFiles]:
    from hunchlab.studies.interpretability.superposition import ARMS  # lazy: loads torch only when called

    phase = [{"arm": arm, "sparsity": sparsity, "seed": k, "represented": int(m.represented[a, i]),
              "dims_per_feature": float(m.dims_per_feature[a, i])}
             for k, m in enumerate(per_seed) for a, arm in enumerate(ARMS) for i, sparsity in enumerate(s.sparsities)]
    first = per_seed[0]
    n = s.n_features
    wtw = [{"kind": "wtw", "arm": arm, "sparsity": sparsity, "i": i, "j": j, "value": float(first.wtw[a, k, i, j])}
           for a, arm in enumerate(ARMS) for k, sparsity in enumerate(s.sparsities) for i in range(n) for j in range(n)]
    wtw += [{"kind": "norm", "arm": "relu", "sparsity": sparsity, "i": i, "value": float(first.norms[0, k, i]),
             "superposition": float(first.superposition[0, k, i])}
            for k, sparsity in enumerate(s.sparsities) for i in range(n)]
    return [
        custom_figure(phase, ["arm", "sparsity", "seed", "represented", "dims_per_feature"], draw_phase,
                      folder / "phase.png", n_hidden=s.n_hidden, represented_norm=s.represented_norm),
        custom_figure(wtw, ["kind", "arm", "sparsity", "i", "j", "value", "superposition"], draw_wtw,
                      folder / "wtw.png"),
    ]


# ---------------------------------------------------------------------------
# induction heads: per-head scores and effects, loss by position, attention patterns


def draw_heads(rows: list[dict[str, str]]) -> Figure:
    """Left: each head's previous-token and induction score. Right: the loss rise when heads are knocked out."""
    from matplotlib.figure import Figure

    panels = group_by(rows, "panel")
    fig = Figure(figsize=(8.0, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.4])
    for ax, panel in ((left, panels["score"]), (right, panels["effect"])):
        labels = list(group_by(panel, "label"))
        series = group_by(panel, "series")
        width = 0.8 / len(series)
        for k, (name, items) in enumerate(series.items()):
            at = {r["label"]: number(r["value"]) for r in items}
            places = [i + (k - (len(series) - 1) / 2) * width for i in range(len(labels))]
            ax.barh(places, [at.get(label, 0.0) for label in labels], width, color=COLORS[k], label=name)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    left.set_xlabel("attention score")
    right.set_xlabel("rise in repeated-part loss (nats)")
    right.axvline(0, color="0.3", linewidth=0.8)
    return fig


def draw_loss_by_position(rows: list[dict[str, str]]) -> Figure:
    """Loss against position relative to the first repeat, clean and with parts of the circuit knocked out."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for k, (condition, items) in enumerate(group_by(rows, "condition").items()):
        ax.plot([number(r["offset"]) for r in items], [number(r["loss"]) for r in items], color=COLORS[k],
                label=condition)
    ax.axvline(-0.5, color="0.5", linestyle="--", linewidth=1)
    ax.set_xlabel("position of the predicted token - period (0: first repeated token)")
    ax.set_ylabel("loss (nats)")
    ax.legend(fontsize=7)
    return fig


def draw_patterns(rows: list[dict[str, str]], title: str) -> Figure:
    """Each head's attention pattern on one sequence: rows are layers, columns heads."""
    from matplotlib.figure import Figure

    heads = group_by(rows, "head")
    layers = sorted({int(number(r["layer"])) for r in rows})
    n_heads = len({r["head"] for r in rows if int(number(r["layer"])) == layers[0]})
    fig = Figure(figsize=(2.4 * n_heads + 0.4, 2.4 * len(layers) + 0.4), layout="constrained")
    axes = fig.subplots(len(layers), n_heads, squeeze=False)
    for name, items in heads.items():
        layer, head = (int(v) for v in name.split("."))
        t = int(max(number(r["query"]) for r in items)) + 1
        grid = [[0.0] * t for _ in range(t)]
        for r in items:
            grid[int(number(r["query"]))][int(number(r["key"]))] = number(r["weight"])
        ax = axes[layer][head]
        ax.imshow(grid, cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"layer {layer}, head {head}")
        ax.set_xlabel("key")
        ax.set_ylabel("query")
        ax.grid(False)
    fig.suptitle(title)
    return fig


# ---------------------------------------------------------------------------
# sparse autoencoders: the reconstruction-sparsity frontier and MMCS over the L1 sweep


def draw_frontier(rows: list[dict[str, str]], true_l0: float) -> Figure:
    """Left: reconstruction error against L0 per L1 value. Middle: MMCS, true vs random. Right: dead/dense."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    fig = Figure(figsize=(9.5, 3.0), layout="constrained")
    left, middle, right = fig.subplots(1, 3)
    by_l1 = group_by(rows, "l1")

    def mean(items: list[dict[str, str]], column: str) -> float:
        return sum(number(r[column]) for r in items) / len(items)

    l0 = [mean(items, "l0") for items in by_l1.values()]
    left.plot(l0, [mean(items, "fvu") for items in by_l1.values()], color=COLORS[0], marker="o")
    for x, y, l1 in zip(l0, [mean(items, "fvu") for items in by_l1.values()], by_l1, strict=True):
        left.annotate(f"L1={l1}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    left.axvline(true_l0, color="0.5", linestyle="--", linewidth=1, label=f"true L0 = {true_l0:.2g}")
    left.set_xscale("log")
    left.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels collide
    left.set(xlabel="L0 (active latents per sample)", ylabel="fraction of variance unexplained")
    left.legend()
    places = list(range(len(by_l1)))  # the sweep's values, evenly spaced (0 has no place on a log axis)
    for k, (column, label) in enumerate((("mmcs_true", "true directions"), ("mmcs_random", "random directions"))):
        middle.plot(places, [mean(items, column) for items in by_l1.values()], color=COLORS[k], marker="o", label=label)
    middle.set_xticks(places, list(by_l1))
    middle.set(xlabel="L1 coefficient", ylabel="MMCS to the dictionary", ylim=(0, 1.02))
    middle.legend()
    for k, column in enumerate(("dead", "dense")):
        right.plot(places, [mean(items, column) for items in by_l1.values()], color=COLORS[k + 2], marker="o",
                   label=f"{column} latents")
    right.set_xticks(places, list(by_l1))
    right.set(xlabel="L1 coefficient", ylabel="latents")
    right.legend()
    return fig


def sae_frontier_figure(folder: Path, rows: list[dict[str, Any]], true_l0: float) -> FigureFiles:
    fields = ["l1", "seed", "l0", "fvu", "mmcs_true", "mmcs_random", "dead", "dense"]
    return custom_figure(rows, fields, draw_frontier, folder / "frontier.png", true_l0=true_l0)
