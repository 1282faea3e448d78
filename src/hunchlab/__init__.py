"""hunchlab: a local-first research workbench.

The public API, kept light: importing it loads neither SQLAlchemy, pydantic, numpy
nor torch, so that an experiment pays nothing for being tracked until it logs.

    import hunchlab

    def main(run):                       # an entry, called by `hunch run spec.yaml`
        run.log({"loss": 0.3}, step=0)
        run.summary["acc"] = 0.91

    with hunchlab.start(config={"lr": 1e-3}) as run:   # a script or notebook
        run.log({"x": 1})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hunchlab.errors import HunchError
from hunchlab.run import Run
from hunchlab.run_start import current_run, start
from hunchlab.seeds import seed_everything

if TYPE_CHECKING:
    from hunchlab.project import Project
    from hunchlab.shapes import RunRecord, RunRow

__version__ = "0.1.0"

__all__ = ["HunchError", "Run", "__version__", "calibration", "current_run", "get_run", "runs", "seed_everything",
           "start"]


def runs(where: list[str] | None = None, *, project: Project | None = None) -> list[RunRow]:
    """All runs of the project, newest first, filtered by ``where`` (e.g. ``["lr=3e-4", "acc>0.8"]``)."""
    from hunchlab import run_records  # lazy: loads hunchlab.run_records only when called

    return run_records.runs(where, project=project)


def get_run(ref: str, *, project: Project | None = None) -> RunRecord:
    """One run's whole record (config, code, environment, metrics, examples) as plain data."""
    from hunchlab import run_records  # lazy: loads hunchlab.run_records only when called

    return run_records.get_run(ref, project=project)


def calibration(*, kind: str | None = None, tag: str | None = None, since: str | None = None,
                project: Project | None = None) -> Any:
    """Your prediction track record (Brier, log score, reliability, trend) as a report object."""
    # lazy: loads hunchlab.calibration, hunchlab.claims, hunchlab.due and more only when called
    from hunchlab import predict

    return predict.calibration(kind=kind, tag=tag, since=since, project=project)
