"""Commands that bring history in and take data out: import, export (library: ``hunchlab.compat``)."""

from __future__ import annotations

from pathlib import Path

import click

from hunchlab.project import find_project


def _report(result: object) -> None:
    from hunchlab.compat.importers import ImportResult  # lazy: keeps `hunch import --help` light

    assert isinstance(result, ImportResult)
    click.echo(f"imported {len(result.imported)} run(s), {result.points:,} metric points"
               + (f", {result.examples:,} examples" if result.examples else "")
               + (f"; {len(result.skipped)} already imported, left as they were" if result.skipped else ""))
    for run_id in result.imported[:20]:
        click.echo(f"  hunch show {run_id}")


@click.group("import")
def import_() -> None:
    """Import runs from MLflow, W&B offline folders, TensorBoard logdirs or inspect_ai eval logs.

    Imported runs are ordinary runs, marked as imported; importing again changes nothing.

    Example: hunch import mlflow --tracking-uri sqlite:///mlflow.db
    """


@import_.command("mlflow")
@click.option("--tracking-uri", metavar="URI",
              help="MLflow tracking URI (default: MLflow's own, e.g. $MLFLOW_TRACKING_URI or ./mlruns).")
@click.option("--experiment", metavar="NAME", help="Only this experiment (default: all).")
def import_mlflow(tracking_uri: str | None, experiment: str | None) -> None:
    """Import every run of an MLflow tracking store.

    Params, metric histories, tags, notes, status, times and artifacts (by reference).

    Example: hunch import mlflow --tracking-uri sqlite:///mlflow.db --experiment baseline
    """
    # local: the name is bound differently elsewhere in this module
    from hunchlab.compat.mlflow_import import import_mlflow as run_import

    _report(run_import(find_project(), tracking_uri, experiment))


@import_.command("wandb")
@click.argument("path", type=click.Path(exists=True))
def import_wandb(path: str) -> None:
    """Import W&B offline runs: one folder (wandb/offline-run-…) or the wandb/ folder holding many.

    Example: hunch import wandb wandb/
    """
    # local: the name is bound differently elsewhere in this module
    from hunchlab.compat.wandb_import import import_wandb as run_import

    _report(run_import(find_project(), path))


@import_.command("tensorboard")
@click.argument("logdir", type=click.Path(exists=True, file_okay=False))
def import_tensorboard(logdir: str) -> None:
    """Import a TensorBoard logdir's scalars as one run.

    Example: hunch import tensorboard runs/Nov01_12-00-00_host
    """
    # local: the name is bound differently elsewhere in this module
    from hunchlab.compat.importers import import_tensorboard as run_import

    _report(run_import(find_project(), logdir))


@import_.command("inspect")
@click.argument("paths", nargs=-1, required=True, metavar="LOG...")
def import_inspect(paths: tuple[str, ...]) -> None:
    """Import inspect_ai eval logs (.eval or .json files, or log folders): one run per eval.

    Each sample becomes a per-example record (a sample's epochs folded into one), so
    hunch failures, categories and compare's paired tests read the eval sample by sample.

    Example: hunch import inspect logs/
    """
    # local: the name is bound differently elsewhere in this module
    from hunchlab.compat.inspect_log import import_inspect as run_import

    _report(run_import(find_project(), paths))


@click.command()
@click.argument("selectors", nargs=-1, required=True, metavar="SELECTOR...")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "jsonl"]), default="csv", show_default=True)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="hunch-export", show_default=True,
              help="Folder to write runs.*, metrics.* and examples.* into.")
def export(selectors: tuple[str, ...], fmt: str, out_dir: str) -> None:
    """Write runs, metric histories and examples as Parquet, CSV or JSON lines, for pandas or any tool.

    SELECTOR is a run id, a group id, filters such as 'lr=3e-4', or `all`.

    Example: hunch export all --format parquet -o export/
    """
    from hunchlab.compat.export import export as run_export  # lazy: keeps `hunch export --help` light

    counts = run_export(find_project(), list(selectors), fmt, Path(out_dir))
    click.echo(f"wrote {out_dir}/: " + ", ".join(f"{name}.{fmt} ({n:,} rows)" for name, n in counts.items()))
