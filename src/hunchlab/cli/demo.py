"""``hunch demo``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from hunchlab.project import find_project


@click.command()
@click.argument("path", default="hunch-demo", type=click.Path(file_okay=False))
def demo(path: str) -> None:
    """Build a demo project in PATH (default ./hunch-demo) and run the research loop in it.

    Every step prints the command it runs, so you can type them yourself next.

    Example: hunch demo
    """
    from hunchlab.demo import FILES, STEPS, build_demo  # lazy: keeps `hunch demo --help` light

    root = build_demo(path)
    click.echo(f"built a demo project in {root} (a git repo with {', '.join(FILES)})\n")
    first = None
    for what, args in STEPS:
        args = [a.replace("{first}", first or "") for a in args]
        if what:
            click.secho(f"# {what}", fg="cyan")
        click.secho(f"$ hunch {' '.join(args)}", bold=True)
        proc = subprocess.run([sys.executable, "-m", "hunchlab", *args], cwd=root, stdin=subprocess.DEVNULL)
        if args[0] == "run" and first is None:
            first = _first_run_id(root)
        if proc.returncode != 0:
            raise click.ClickException(f"demo step failed: hunch {' '.join(args)} (exit {proc.returncode})")
        if args[:2] != ["tree", "add"]:
            click.echo()
    click.secho(f"Done. Go on from here:  cd {path}  then  hunch ui  (a dashboard of all of it), "
                f"hunch failures {first} --sample 20  (read and tag on a terminal), hunch note --run {first}",
                fg="green")


def _first_run_id(root: Path) -> str:
    from hunchlab import run_records  # lazy: keeps `hunch demo --help` light

    run_id: str = run_records.runs(project=find_project(root))[-1]["id"]
    return run_id
