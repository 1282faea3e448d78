"""The ``hunch`` command: a thin layer that parses, calls one library function, renders.

Subcommands are imported only when invoked, and ``hunch --help`` lists them from the
registry below without importing any, so the CLI starts in tens of milliseconds.
``HunchError`` is printed here, and only here, in one or two lines with exit code 2.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import click

from hunchlab.errors import HunchError, HunchWarning, did_you_mean, machine_error
from hunchlab.project import find_project

# name -> (module under hunchlab.cli, function, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("runs", "init", "Create a project (.hunch/) in this folder."),
    "run": ("runs", "run", "Run an experiment from a spec, in one command."),
    "runs": ("runs", "runs", "List runs, with filters; --json/--csv for other tools."),
    "show": ("show", "show", "Show one run: config, code, environment, metrics, logs."),
    "rerun": ("show", "rerun", "Re-execute a run from its stored code and config; --check compares."),
    "import": ("bring", "import_", "Import runs from MLflow, W&B, TensorBoard logdirs or inspect_ai eval logs."),
    "export": ("bring", "export", "Write runs, metric histories and examples as Parquet, CSV or JSON lines."),
    "demo": ("demo", "demo", "Build a demo project and run the research loop end to end."),
    "sweep": ("sweep", "sweep", "Sweep params over seeds in parallel; `sweep show ID`, `sweep resume ID`."),
    "sweeps": ("sweep", "sweeps", "List sweeps and ablations."),
    "ablate": ("sweep", "ablate", "Switch components off one at a time: the ablation table."),
    "compare": ("compare", "compare", "Compare runs or seed groups: config, code, metrics with intervals, flips."),
    "plot": ("compare", "plot", "Plot learning curves (band over seeds) or a metric against a param."),
    "examples": ("triage", "examples", "List and export a run's per-example records, with filters."),
    "failures": ("triage", "failures", "Read a random sample of failures one by one and tag them."),
    "tag": ("triage", "tag", "Tag an example with a failure category (or many, from a CSV)."),
    "categories": ("triage", "categories", "Failure categories, largest first, with estimated shares; --vs a fix."),
    "report": ("compare", "report", "Write a shareable page (HTML or Markdown) about a question or runs."),
    "forecast": ("predict", "forecast", "Write down a forecast: a statement, a probability, a resolve-by date."),
    "forecasts": ("predict", "forecasts", "List forecasts, open ones first."),
    "resolve": ("predict", "resolve", "Resolve a forecast: yes, no or void."),
    "due": ("predict", "due", "List forecasts whose date has come."),
    "read": ("predict", "read", "Guess a paper's numbers before reading it; score the guesses after."),
    "calibration": ("predict", "calibration", "Your prediction track record: Brier, log score, reliability, trend."),
    "tree": ("journal", "tree", "The theory-of-change tree: goal → project → question, with runs."),
    "why": ("journal", "why", "Why does this run exist? The chain from the run up to its goal."),
    "note": ("journal", "note", "Write a journal entry, drafted from a run in your $EDITOR."),
    "journal": ("journal", "journal", "List, search and export journal entries."),
    "surprises": ("journal", "surprises", "Surprises (confident predictions that were wrong) to write up."),
    "review": ("journal", "review", "Reread the last month: runs, predictions, surprises, open questions."),
    "study": ("study", "study", "Reproduce frontier papers' findings at toy scale: list, run, check, new."),
    "ui": ("ui", "ui", "Serve a local web dashboard: runs, charts, compare, examples, tree, journal."),
    "store": ("store", "store", "Check the store against the run folders, or rebuild it from them."),
    "mcp": ("agents", "mcp", "Serve the Model Context Protocol: agents do research here, held to the same habits."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        command: click.Command = getattr(import_module(f"hunchlab.cli.{module}"), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in COMMANDS.items()])

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            raise click.UsageError(f"no command '{name}'{did_you_mean(name, COMMANDS)}")
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hunchlab", prog_name="hunch")
def cli() -> None:
    """hunch: run reproducible experiments, predict before you look, compare honestly.

    Start with `hunch demo`, or `hunch init` in your project and `hunch run spec.yaml`.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point: turns library errors into one-line messages and exit codes.

    A fault of the machine that reaches here as a bare ``OSError`` (a full disk, a
    read-only folder) is printed the same way: what, where, what to do, exit 2.
    """
    args = sys.argv[1:] if argv is None else argv
    _show_warnings()
    try:
        try:
            cli.main(args=args, prog_name="hunch", standalone_mode=False)
        finally:
            _mention_due(args)
    except HunchError as e:
        _fail(e)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as e:
        fault = machine_error(e)
        if fault is None:
            raise
        _fail(fault)


def _fail(e: HunchError) -> None:
    click.echo(f"error: {e.format_message()}", err=True)
    sys.exit(e.exit_code)


def _show_warnings() -> None:
    """The library's ``HunchWarning``s (a store that could not be folded into, …) as ``warning:`` lines."""
    import warnings


    default = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, HunchWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            default(message, category, *args, **kwargs)

    warnings.showwarning = show


def _mention_due(args: list[str]) -> None:
    """Every command ends with one line when forecasts are due (read from a small file, no store)."""
    if not args or args[0] in ("due", "resolve", "init", "demo") or {"-h", "--help", "--version"} & set(args):
        return
    from hunchlab.due import due_count  # lazy: loads hunchlab.due, hunchlab.timeparse only when called

    try:
        n = due_count(find_project())
    except HunchError:
        return
    if n:
        click.echo(f"⏰ {n} forecast{'s are' if n > 1 else ' is'} due: hunch due", err=True)
