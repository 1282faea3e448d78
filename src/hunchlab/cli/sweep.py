"""Commands for sweeps and ablations: sweep (start, show, resume), sweeps, ablate."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from hunchlab import sweeps as lib
from hunchlab.cli.render import age, console, duration, emit_json, fmt, json_option, table
from hunchlab.sweeps import sweep_columns


def executor_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Where trials run, spelled the same on sweep, sweep resume and ablate."""
    fn = click.option("--address", default=None, metavar="ADDR",
                      help="Ray cluster address (host:port); default: the project setting ray_address, "
                           "else a Ray started on this machine.")(fn)
    fn = click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
                      help="local: worker processes on this machine (default); ray: one Ray task per trial.")(fn)
    fn = click.option("-j", "--jobs", type=int, default=None,
                      help="Trials at once (default: the number of cores, or the Ray cluster's CPUs).")(fn)
    return fn


class _SweepGroup(click.Group):
    """``hunch sweep SPEC ...`` is the sweep itself (the hidden ``start``); ``show`` and ``resume`` are the
    other forms. Its help shows the run's options, since that is the form the docs use."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["start", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "SPEC [ARGS]... [OPTIONS] | show ID | resume ID")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.commands["start"].format_options(ctx, formatter)
        self.format_commands(ctx, formatter)


@click.group(cls=_SweepGroup)
def sweep() -> None:
    """Sweep params: every config × seeds, in parallel, recorded as one sweep.

    ARGS with commas are axes (lr=1e-4,3e-4), the rest overrides (steps=50). Axes combine
    as a grid with the spec's `sweep:` block, which can also give ranges for a random
    search (see docs/sweeps.md); an axis or override of a key the block varies replaces
    that axis. Each trial is its own run, of the code as it was when the sweep started.

    \b
    hunch sweep SPEC ARGS... [OPTIONS]   run a sweep (the options below)
    hunch sweep show ID                  its table, best config first
    hunch sweep resume ID                run what is missing or failed

    Example: hunch sweep exp.yaml lr=1e-4,3e-4,1e-3 model.width=64,128 --seeds 3 --jobs 4
    """


@sweep.command("start", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False))
@click.argument("args", nargs=-1)
@click.option("--seeds", type=int, default=None, help="Runs per config (seeds spec.seed, spec.seed+1, ...).")
@click.option("--budget", type=int, default=None,
              help="Exactly N trials (runs); with a `baseline:` in the spec, N for the method and N for the baseline.")
@click.option("--metric", default=None, help="Summary metric the table ranks by (default: the spec's sweep.metric).")
@click.option("--goal", type=click.Choice(["max", "min"]), default=None, help="Whether higher or lower is better.")
@click.option("--smoke", is_flag=True, help="Apply the spec's `smoke:` overrides to every trial.")
@executor_options
def start(spec_file: str, args: tuple[str, ...], seeds: int | None, budget: int | None, metric: str | None,
          goal: str | None, smoke: bool, jobs: int | None, executor: str | None, address: str | None) -> None:
    """Run a sweep (what `hunch sweep SPEC ARGS...` does; see `hunch sweep --help`).

    Example: hunch sweep exp.yaml lr=0.5,1,2 model.width=8,32 --seeds 3 --jobs 2
    """
    from hunchlab.execute.sweep import run_sweep  # lazy: loads pydantic, yaml only when called

    with _progress() as progress:
        result = run_sweep(spec_file, list(args), seeds=seeds, budget=budget, metric=metric, goal=goal, smoke=smoke,
                           executor=executor or "local", jobs=jobs, address=address, progress=progress)
    _finish(result, metric)


@sweep.command("show")
@click.argument("ref", metavar="ID")
@click.option("--metric", default=None, help="Rank by this summary metric instead.")
@json_option("The table as JSON.")
def show(ref: str, metric: str | None, as_json: bool) -> None:
    """Show a sweep: one row per config, mean ± 95% CI over seeds, best first.

    ID is a sweep id (sweep-3), its number, or a unique prefix.

    Example: hunch sweep show sweep-3 --metric acc
    """
    from hunchlab import sweeps  # local: the name is bound differently elsewhere in this module

    data = sweeps.sweep_table(ref, metric=metric)
    if data["sweep"]["kind"] == "ablation":
        data = sweeps.ablation_table(ref, metric=metric)
    if as_json:
        emit_json(data)
    elif data["sweep"]["kind"] == "ablation":
        _print_ablation(data)
    else:
        _print_sweep(data)


@sweep.command("resume")
@click.argument("ref", metavar="ID")
@executor_options
def resume(ref: str, jobs: int | None, executor: str | None, address: str | None) -> None:
    """Run the trials of a sweep that are missing or did not finish; finished and pruned ones stay.

    Trials run the code state the sweep was submitted with.

    Example: hunch sweep resume sweep-3
    """
    from hunchlab.execute.sweep import resume as resume_sweep  # lazy: loads pydantic, yaml only when called

    with _progress() as progress:
        result = resume_sweep(ref, executor=executor, jobs=jobs, address=address, progress=progress)
    if not result.total:
        click.echo(f"{result.sweeps[0]}: nothing to resume, every trial finished or was pruned")
        return
    _finish(result, None)


@click.command()
@json_option()
def sweeps(as_json: bool) -> None:
    """List sweeps and ablations, newest first: status, trials, budget, metric.

    Example: hunch sweeps
    """
    found = lib.list_sweeps()
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("no sweeps yet — `hunch sweep spec.yaml lr=1e-4,1e-3` starts one")
        return
    rows = [(s["id"], s["name"], s["status"], _counts_text(s["counts"]), s["budget"],
             s["role"] or "", s["metric"] or "", s["executor"], age(s["created_at"])) for s in found]
    columns = ["id", "spec", "status", "trials", "budget", "role", "metric", "executor", "age"]
    console().print(table(None, columns, rows))


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("target", metavar="SPEC|ID")
@click.argument("overrides", nargs=-1)
@click.option("--seeds", type=int, default=3, show_default=True, help="Runs per variant.")
@click.option("--pairs", is_flag=True, help="Also switch off every two components at once.")
@click.option("--metric", default=None, help="Summary metric to compare (default: the spec's sweep.metric).")
@click.option("--goal", type=click.Choice(["max", "min"]), default=None, help="Whether higher or lower is better.")
@click.option("--plot", "plot_file", default=None, type=click.Path(dir_okay=False),
              help="Also draw the table as a bar chart with error bars (.png, .pdf or .svg).")
@json_option("The table as JSON.")
@click.option("--smoke", is_flag=True, help="Apply the spec's `smoke:` overrides to every run.")
@executor_options
def ablate(target: str, overrides: tuple[str, ...], seeds: int, pairs: bool, metric: str | None, goal: str | None,
           plot_file: str | None, as_json: bool, smoke: bool, jobs: int | None, executor: str | None,
           address: str | None) -> None:
    """Ablate: run the full config and each component switched off, and print the ablation table.

    SPEC's `ablate:` block names each component with the overrides that switch it off
    (no_aux_loss: {aux_weight: 0}). Given an ablation's ID instead of a SPEC, show its table.

    Example: hunch ablate exp.yaml --seeds 5 --plot ablation.png
    """
    from hunchlab.execute.sweep import ablate as run_or_find  # lazy: loads pydantic, yaml only when called
    from hunchlab.figure_files import FigureFiles  # lazy: loads numpy only when called

    if plot_file:
        FigureFiles.beside(plot_file)  # a bad file name fails now, not after the runs
    with _progress() as progress:
        result, ref = run_or_find(target, overrides, seeds=seeds, pairs=pairs, metric=metric, goal=goal, smoke=smoke,
                                  executor=executor or "local", jobs=jobs, address=address, progress=progress)
    if result is not None:
        _summary(result)
        if result.interrupted:
            sys.exit(130)
        fault = result.fault()
        if fault is not None:
            raise fault
    data = lib.ablation_table(ref, metric=metric)
    if as_json:
        emit_json(data)
    else:
        _print_ablation(data)
    if plot_file:
        files = lib.ablation_plot(ref, plot_file, metric=metric)
        click.echo(f"wrote {files.figure} (data: {files.data}, script: {files.script})", err=True)


# ----------------------------------------------------------------------------- rendering


@contextmanager
def _progress() -> Iterator[Callable[[Any], None]]:
    """A progress bar with counts and ETA on a terminal; one line per ended trial otherwise (logs, CI)."""
    err = sys.stderr
    if not err.isatty():
        def line(p: Any) -> None:
            if p.last:
                click.echo(f"[{p.done}/{p.total}] {p.last} · {_status_line(p)}", err=True)
        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(TextColumn("[bold]sweep[/]"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TextColumn("{task.fields[status]}"), console=Console(stderr=True), transient=False)
    task = None
    with bar:
        def update(p: Any) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task("sweep", total=p.total, status="")
            bar.update(task, completed=p.done, status=_status_line(p))
            if p.last and p.last_status != "finished":
                bar.console.print(f"  {p.last}", markup=False, highlight=False)
        yield update


def _status_line(p: Any) -> str:
    counts = p.counts
    bad = counts.get("failed", 0) + counts.get("crashed", 0) + counts.get("error", 0)
    parts = [f"done {p.done}", f"running {p.running}", f"failed {bad}"]
    if counts.get("pruned"):
        parts.append(f"pruned {counts['pruned']}")
    parts.append(f"ETA {duration(p.eta)}" if p.eta is not None else "ETA …")
    return " · ".join(parts)


def _counts_text(counts: dict[str, int]) -> str:
    order = ["finished", "pruned", "failed", "crashed", "interrupted", "running", "not started"]
    keys = sorted(counts, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(f"{counts[k]} {k}" for k in keys)


def _summary(result: Any) -> None:
    """The end of a sweep: what happened, what needs a look, how to go on."""
    ids = " + ".join(result.sweeps)
    click.echo(f"{ids}: {result.total} trials in {duration(result.duration)} — {_counts_text(result.counts)}", err=True)
    for note in result.notes:
        click.echo(f"  note: {note}", err=True)
    for line in result.problems[:10]:
        click.echo(f"  ✗ {line}", err=True)
    if len(result.problems) > 10:
        click.echo(f"  … and {len(result.problems) - 10} more (hunch sweep show {result.sweeps[0]})", err=True)
    if result.interrupted:
        click.echo(f"stopped: finished trials are kept; go on with: hunch sweep resume {result.sweeps[0]}", err=True)


def _finish(result: Any, metric: str | None) -> None:
    _summary(result)
    fault = result.fault()
    if fault is not None:
        raise fault
    for sweep_id in result.sweeps:
        _print_sweep(lib.sweep_table(sweep_id, metric=metric, wait=True))
    if result.interrupted:
        sys.exit(130)
    if result.total and not result.counts.get("finished"):
        sys.exit(1)


def _ci(row: dict[str, Any]) -> str:
    if row["lo"] is None:
        return f"n={row['n']}" if row["n"] else ""
    return f"[{fmt(row['lo'])}, {fmt(row['hi'])}]"


def _notes(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in statuses.items() if s != "finished")


def _better(data: dict[str, Any]) -> str:
    text = {"max": "higher is better", "min": "lower is better"}.get(data["goal"] or "", "")
    return f"{text} (guessed from the name: set --goal)" if data.get("goal_guessed") else text


def _print_sweep(data: dict[str, Any]) -> None:
    s = data["sweep"]
    metric = data["metric"] or "(no metric yet)"
    keys = list(dict.fromkeys(k for r in data["rows"] for k in r["overrides"]))
    rows = [(i + 1, *[r["overrides"].get(k, "") for k in keys], f"{r['n']}/{r['planned']}", r["mean"], _ci(r),
             _notes(r["statuses"]), r["runs"][0] if r["runs"] else "") for i, r in enumerate(data["rows"])]
    role = f" · {s['role']}, tuned with {s['budget']} trials" if s["role"] else f" · budget {s['budget']} trials"
    title = f"{s['id']} · {s['name']} · {s['status']}{role}"
    cut = f", cut to its range [{data['bounds'][0]:g}, {data['bounds'][1]:g}]" if data.get("bounds") else ""
    caption = f"ranked by {metric}, {_better(data)}; mean and 95% t-interval over finished seeds{cut}"
    console().print(table(title, sweep_columns(keys, metric), rows, caption=caption))


def _print_ablation(data: dict[str, Any]) -> None:
    s = data["sweep"]
    metric = data["metric"] or "(no metric yet)"
    rows = [(r["label"], f"{r['n']}/{r['planned']}", r["mean"], _ci(r),
             "" if r["delta"] is None else fmt(r["delta"]),
             "" if r["delta_lo"] is None else f"[{fmt(r['delta_lo'])}, {fmt(r['delta_hi'])}]",
             r["verdict"]) for r in data["rows"]]
    console().print(table(f"{s['id']} · {s['name']} · ablation of {metric} ({_better(data)})",
                          ["variant", "n", metric, "95% CI", "Δ vs full", "Δ 95% CI", "verdict"], rows,
                          caption="Δ = variant − full (Welch t); p-values Holm-adjusted over the variants; "
                                  "sorted by how much switching the component off costs"))
