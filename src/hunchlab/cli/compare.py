"""Commands that read results across runs: compare, plot, report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from hunchlab.cli.render import console, emit_csv, emit_json, output_options, table


def _echo_notes(notes: Sequence[str]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)


def print_blocks(blocks: Sequence[tuple[Any, ...]]) -> None:
    """The blocks ``hunchlab.report`` builds, in the terminal: tables with rich, notes on stderr."""
    out = console()
    for block in blocks:
        kind = block[0]
        if kind == "table":  # the title on its own line: rich would wrap it to the table's width
            if block[1]:
                out.print(block[1], style="bold", markup=False, soft_wrap=True)
            out.print(table(None, block[2], block[3]))
        elif kind == "list":
            for item in block[1]:
                out.print(f"• {item}", markup=False, soft_wrap=True)
        elif kind == "note":
            _echo_notes([block[1]])
        elif kind == "h":
            out.print(block[2], style="bold", markup=False)
        else:
            out.print(block[1], markup=False, soft_wrap=True)
        if kind != "note":
            out.print()


@click.command()
@click.argument("selectors", nargs=-1, required=True, metavar="SELECTOR...")
@click.option("-m", "--metric", "metrics", multiple=True, metavar="M",
              help="Compare only this metric (repeatable). Default: the summary metrics every side has.")
@click.option("--flips", type=click.IntRange(min=0), default=5, show_default=True,
              help="Flipped examples to show in each direction.")
@click.option("--code", "show_code", is_flag=True, help="Print the diff between the code states of A and B instead.")
@click.option("--resamples", type=click.IntRange(min=100), default=10_000, show_default=True,
              help="Random sign patterns for the paired test when it is neither exact nor normal.")
@click.option("--detect", type=float, metavar="D",
              help="A difference worth finding: say how many seeds per side (and examples) would detect it.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Write Markdown to stdout.")
@output_options
def compare(selectors: tuple[str, ...], metrics: tuple[str, ...], flips: int, show_code: bool, resamples: int,
            detect: float | None, as_markdown: bool, as_json: bool, as_csv: bool) -> None:
    """Compare runs or seed groups: what differs, and whether the difference is more than noise.

    Shows the config keys that differ, whether the code differs, and per summary
    metric each side's mean over seeds with a t-interval, the difference with Welch's
    interval and a verdict (a seed is the unit; "within noise" says what the
    comparison could have detected); on examples both sides logged (same ids), a
    sign-flip test, McNemar's test and the flips (an example is the unit). With
    several tests, p-values and intervals are Holm-adjusted. With more than two
    sides, each is compared with the first.

    \b
    SELECTOR is a run id (or unique prefix, or number), a group id (printed by
    `hunch run --seeds`), or filters in one argument: 'spec=exp lr=3e-4'. One
    selector matching several groups compares those groups.

    Example: hunch compare model.width=16 model.width=64 --detect 0.01
    """
    from hunchlab import compare as lib  # lazy: loads numpy only when called
    from hunchlab.blocks import render_markdown  # lazy: keeps `hunch compare --help` light
    from hunchlab.compare_text import compare_blocks, csv_rows  # lazy: keeps `hunch compare --help` light

    if show_code:
        click.echo(lib.code_diff(selectors) or "the code states are identical\n", nl=False)
        return
    result = lib.compare(selectors, metrics=metrics, flips=flips, resamples=resamples, detect=detect)
    if as_json:
        emit_json(result)
        return

    if as_csv:
        emit_csv(csv_rows(result))
    elif as_markdown:
        title = " vs ".join(f"{s['label']} ({s['description']})" for s in result["sides"])
        click.echo(render_markdown(title, compare_blocks(result), Path.cwd()), nl=False)
    else:
        print_blocks(compare_blocks(result))


@click.command()
@click.argument("selectors", nargs=-1, required=True, metavar="SELECTOR...")
@click.option("-m", "--metric", "metrics", multiple=True, metavar="M", help="Metric to plot; several make panels.")
@click.option("--x", "x", default="step", show_default=True, metavar="AXIS",
              help="step, time (seconds since each run started), param (the one param the groups differ in) "
                   "or a param's name.")
@click.option("--smooth", type=click.IntRange(min=0), default=0, help="Trailing mean over N points per run.")
@click.option("--band", type=click.Choice(["ci", "minmax"]), default="ci", show_default=True,
              help="Shade the 95% CI of the mean over seeds, or their min–max.")
@click.option("-o", "--out", "outs", multiple=True, metavar="FILE",
              help="Figure file (.png, .pdf, .svg); repeat for several. Default: figures/<metric>-by-<x>.png.")
def plot(selectors: tuple[str, ...], metrics: tuple[str, ...], x: str, smooth: int, band: str,
         outs: tuple[str, ...]) -> None:
    """Plot runs or seed groups: learning curves with a band over seeds, or a metric against a param.

    Each group is one line (its mean over seeds) with a shaded band; the legend says
    what the band is. Beside each figure go its data (CSV) and a script that redraws it.

    \b
    SELECTOR is a run id (or unique prefix, or number), a group id (printed by
    `hunch run --seeds`), or filters in one argument: 'spec=exp lr=3e-4'.

    Example: hunch plot model.width=16 model.width=64 --metric test_acc --out fig.pdf
    """
    from hunchlab.report import plot as lib_plot  # lazy: loads numpy only when called

    result = lib_plot(selectors, metrics=metrics, x=x, smooth=smooth, band=band, outs=outs)
    _echo_notes(result["notes"])
    for f in result["files"]:
        click.echo(f"{f['figure']}  (data {f['data']}, script {f['script']})")


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="SELECTOR...|QUESTION")
@click.option("-o", "--out", default="report.html", show_default=True, metavar="FILE",
              help="report.html (one self-contained file) or report.md (figures in a folder beside it).")
@click.option("--flips", type=click.IntRange(min=0), default=5, show_default=True,
              help="Flipped examples to show in each direction.")
def report(targets: tuple[str, ...], out: str, flips: int) -> None:
    """Write a shareable page about a question or some runs.

    The question and why it matters, the runs and groups with the comparison tables,
    figures, predictions and how they scored, and the linked journal entries.
    QUESTION is a question's id in the tree (its runs are the ones that name it).

    Example: hunch report model.width=16 model.width=64 --out report.html
    """
    from hunchlab.report import report as lib_report  # lazy: loads numpy only when called

    result = lib_report(targets, out=out, flips=flips)
    _echo_notes(result["notes"])
    click.echo(f"wrote {result['path']}")
    for figure in result["figures"]:
        click.echo(f"  {figure}")


def echo_group(project: Any, outcomes: Sequence[Any], first_seed: int) -> None:
    """After ``hunch run --seeds N``: the group's id and what to do with it next.

    ``first_seed`` is the spec's: ``run_seeds`` ran seeds ``first_seed`` to ``first_seed + n - 1``.
    """
    from hunchlab import run_records  # lazy: keeps `hunch run --help` light

    first = run_records.get_run(outcomes[0].run_id, metrics=False, examples=False, project=project)
    done = sum(o.status == "finished" for o in outcomes)
    key = first["group_key"]
    click.echo(f"group {key}: {len(outcomes)} runs (seeds {first_seed}–{first_seed + len(outcomes) - 1}), "
               f"{done} finished · next: hunch compare {key} OTHER  ·  hunch plot {key} --metric M")
