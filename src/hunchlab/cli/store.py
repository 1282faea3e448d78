"""``hunch store check`` and ``hunch store rebuild``: the store against what is on disk."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from hunchlab.cli.render import duration, emit_json, json_option
from hunchlab.project import find_project


@click.group()
def store() -> None:
    """Check the store against the run folders and the ledger, or build it again from them.

    \b
    hunch store check     integrity, and any drift between the store and what is on disk
    hunch store rebuild   a new store from the run folders and the ledger (the old file is kept)

    Example: hunch store check
    """


@store.command()
@json_option("Write the report as JSON.")
def check(as_json: bool) -> None:
    """Check the store: SQLite's integrity check, runs it lacks or lost, lines nobody will fold,
    ledger rows it lacks. Changes nothing; exits 1 when something is wrong.

    Example: hunch store check
    """
    from hunchlab.store.rebuild import check as check_store  # lazy: loads sqlalchemy only when called

    report = check_store(find_project())
    if as_json:
        emit_json(report.to_dict())
    else:
        _print_check(report)
    if not report.ok:
        sys.exit(1)


def _print_check(report: Any) -> None:
    say = click.echo
    say(f"store {report.store}: {report.runs_in_store} runs; {report.runs_on_disk} run folders on disk")
    problems = [
        ("damaged", report.integrity),
        ("run folders the store does not have", report.missing),
        ("runs whose folder is gone", report.gone),
        ("runs with lines no reader will fold", report.unfolded),
        ("ledger rows the store lacks", [f"{t}: {n}" for t, n in report.ledger_missing.items()]),
        ("store rows the ledger lacks", [f"{t}: {n}" for t, n in report.ledger_extra.items()]),
    ]
    for what, items in problems:
        if items:
            shown = ", ".join(items[:8]) + (f" … ({len(items)} in all)" if len(items) > 8 else "")
            say(f"✗ {what}: {shown}")
    if report.incomplete:
        say(f"note: {len(report.incomplete)} run folder(s) without run.json (a start cut short): "
            f"{', '.join(report.incomplete[:5])}")
    say("✓ ok" if report.ok else "fix: hunch store rebuild (the old store file is kept beside the new one)")


@store.command()
@json_option("Write what was done as JSON.")
def rebuild(as_json: bool) -> None:
    """Build a new store from the run folders and the ledger; the old file is moved aside
    (store.db.old-TIME). Run it while nothing else runs in the project.

    Example: hunch store rebuild
    """
    from hunchlab.store.rebuild import rebuild as rebuild_store  # lazy: loads sqlalchemy only when called

    with _progress() as progress:
        report = rebuild_store(find_project(), progress)
    if as_json:
        emit_json(report.to_dict())
        return
    click.echo(f"rebuilt {report.store} from {report.runs} run folders and {report.ledger_ops} ledger entries "
               f"in {duration(report.seconds)}")
    if report.old:
        click.echo(f"the old store is kept as {report.old}")


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None]]:
    """A bar with an ETA on a terminal; nothing in a pipe."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("[bold]folding runs[/]"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task("fold", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
