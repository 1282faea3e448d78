"""Commands about one recorded run: show it, and rerun it to check it reproduces.

Apart from cli/runs.py (init, run, runs) because these read a run back rather than make one,
and together they kept that module past 400 lines.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from hunchlab.cli.render import age, console, duration, emit_json, json_option, table
from hunchlab.compat.provenance import provenance_lines
from hunchlab.project import find_project

if TYPE_CHECKING:
    from hunchlab.shapes import RunRecord


@click.command()
@click.argument("ref", metavar="RUN")
@json_option("The whole record as JSON, metric histories and examples included.")
@click.option("--tail", type=int, default=10, show_default=True, help="Lines of stdout/stderr to show.")
def show(ref: str, as_json: bool, tail: int) -> None:
    """Show one run: config, code state, environment, summary, last metrics, artifacts, log tail.

    RUN is an id, a unique prefix of one, or its number.

    Example: hunch show bright-otter-7
    """
    from hunchlab import run_records  # lazy: keeps `hunch show --help` light

    project = find_project()
    if as_json:
        emit_json(run_records.get_run(ref, project=project))
        return
    r = run_records.get_run(ref, metrics=False, examples=False, project=project)
    _print_run(r, run_records.log_tail(project, r["id"], tail))
    _print_predictions(r)


RESULT: dict[bool | None, str] = {True: "✓ right", False: "✗ wrong"}  # a resolved prediction's outcome


def _print_predictions(r: RunRecord) -> None:
    if r.get("predictions"):
        rows = [(p.get("ref") or "", p["text"], f"{p['probability']:.0%}", p.get("actual"),
                 RESULT.get(p["outcome"], p["status"]) if p["status"] == "resolved"
                 else p["status"], None if (brier := p.get("brier")) is None else round(brier, 4), p.get("note") or "")
                for p in r["predictions"]]
        console().print(table("predictions", ["id", "claim", "p", "actual", "result", "Brier", "note"], rows))
    elif r.get("prediction"):
        console().print(f"[bold]predictions[/] {r['prediction']}")


def _print_run(r: RunRecord, logs: dict[str, str]) -> None:
    from rich.markup import escape

    from hunchlab.run_records import flatten, last_metrics, quarantine_note  # lazy: keeps `hunch show --help` light


    out = console()
    spec = r.get("spec") or {}
    took = duration((r["ended_at"] or time.time()) - r["created_at"])
    out.print(f"[bold]{r['id']}[/]  {escape(r.get('name') or '')}  [{_status_style(r['status'])}]{r['status']}[/]"
              f"  {took}  started {age(r['created_at'])}")
    if error := r.get("error"):
        out.print(f"  [red]{escape(error)}[/]")
    quarantine = quarantine_note(r)
    if quarantine:
        out.print(f"  [yellow]{escape(quarantine)}[/]")
    if elsewhere := r.get("files_elsewhere"):
        out.print(f"  [yellow]not in this project folder: {escape(elsewhere)}[/]")
    what = spec.get("entry") or spec.get("command") or ""
    out.print(f"  spec {escape(str(spec.get('path') or '-'))} · entry {escape(str(what))} · seed {r['seed']}"
              + (f" · question {escape(question)}" if (question := r.get("question")) else "")
              + (" · smoke" if spec.get("smoke") else "")
              + (f" · rerun of {r['rerun_of']}" if r.get("rerun_of") else "")
              + (f" · started by agent {escape(agent)}" if (agent := r.get("agent")) else ""))
    if spec.get("overrides"):
        out.print(f"  overrides: {escape(' '.join(spec['overrides']))}")

    for line in provenance_lines(r):
        out.print(f"  {escape(line)}")
    params = flatten(r["params"])
    if params:
        out.print(table("config", ["param", "value"], list(params.items())))
    code = r.get("code") or {}
    if code.get("git"):
        state = "dirty" if code.get("dirty") else "clean"
        out.print(f"[bold]code[/]  {escape(str(code.get('commit') or 'no commit yet ')[:12])}"
                  + (f" on {escape(str(code['branch']))}" if code.get("branch") else "")
                  + f" ({state}: diff {code.get('diff_bytes', 0)} bytes, {len(code.get('untracked', []))} untracked files)")
        if code.get("warning"):
            out.print(f"  [yellow]{escape(code['warning'])}[/]")
    else:
        out.print(f"[bold]code[/]  {escape(code.get('note', 'not captured'))}")
    env = r.get("env") or {}
    if env:
        out.print(f"[bold]env[/]   Python {env.get('python')} · {escape(str(env.get('platform')))} · {escape(str(env.get('hostname')))}"
                  f" · {escape(str(env.get('cpu')))} ×{env.get('cpu_count')}"
                  + (f" · GPU {escape(', '.join(env['gpu']))}" if env.get("gpu") else " · no GPU")
                  + f" · {len(env.get('packages', {}))} packages")
    if r["summary"]:
        out.print(table("summary", ["metric", "value"], list(r["summary"].items())))
    if r["metrics"]:
        out.print(table("metrics (last logged)", ["metric", "step", "value", "points"],
                        [(k, m["step"], m["value"], m["n"]) for k, m in last_metrics(r).items()]))
    if r["n_examples"]:
        out.print(f"[bold]examples[/] {r['n_examples']} records")
    if r["artifacts"]:
        out.print(table("artifacts", ["name", "size", "sha256"],
                        [(a["name"], a["size"], a["sha256"][:16]) for a in r["artifacts"]]))
    for stream, text in logs.items():
        if text.strip():
            out.print(f"[bold]{stream}[/] (last lines)")
            out.print(escape(text), style="dim" if stream == "stdout" else "red")


def _status_style(status: str) -> str:
    return {"finished": "green", "running": "cyan", "failed": "red", "crashed": "red"}.get(status, "yellow")


@click.command()
@click.argument("ref", metavar="RUN")
@click.option("--check", is_flag=True,
              help="Compare summaries, metric histories and example records with the original; exit 1 unless "
                   "they match (or when there is nothing to compare).")
@click.option("--rtol", type=float, default=1e-9, show_default=True, help="Relative tolerance for --check.")
@click.option("-q", "--quiet", is_flag=True, help="Do not echo the run's output.")
@json_option("With --check, write the checks as JSON.")
def rerun(ref: str, check: bool, rtol: float, quiet: bool, as_json: bool) -> None:
    """Re-execute RUN from its stored code state (commit + diff + untracked files), config and seed.

    Example: hunch rerun bright-otter-7 --check
    """
    from hunchlab import reproduce  # lazy: loads pydantic, yaml only when called (not for `hunch show`)

    original, new, result = reproduce.rerun(ref, echo=not quiet and not as_json, argv=["hunch", *sys.argv[1:]],
                                            rtol=rtol)
    if not check:
        click.echo(f"rerun of {original['id']}: run {new['id']} {new['status']}")
        sys.exit(0 if new["status"] == "finished" else 1)
    if as_json:
        emit_json(result.to_dict())
    else:
        _print_reproduction(result, rtol, new)
    sys.exit(0 if result.verdict == reproduce.REPRODUCED else 1)


def _print_reproduction(result: Any, rtol: float, new: RunRecord) -> None:
    """The checks as a table, then one line: what was compared and whether it reproduced."""
    from hunchlab import reproduce  # lazy: loads pydantic, yaml only when called (not for `hunch show`)

    click.echo(f"rerun of {result.original}: run {result.rerun} {result.status}")
    if result.checks:
        rows = [(c.kind, c.name, c.original, c.rerun, ("✓ match" if c.match else "✗ differs")
                 + (f": {c.detail}" if c.detail else "")) for c in result.checks]
        console().print(table(f"{result.original} vs {result.rerun} (rtol {rtol:g})",
                              ["kind", "name", "original", "rerun", ""], rows))
    ok = result.verdict == reproduce.REPRODUCED
    click.echo(f"{'✓' if ok else '✗'} {result.conclusion(new.get('error'))}", err=not ok)
