"""``hunch import mlflow``: runs read through MLflow's own client, from any tracking URI it supports.

MLflow keeps params as strings; they are read back as YAML scalars (``"0.001"`` → 0.001,
``"true"`` → True), the same rule as command-line overrides, so a logged number comes
back as that number. Tags named ``mlflow.*`` are MLflow's own: the run name, the note
(``mlflow.note.content``) and the git commit (``mlflow.source.git.commit``) are taken
from them; the rest stay in the imported record. Every metric's full history is read
(``get_metric_history``), with MLflow's millisecond timestamps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hunchlab.compat.importers import ImportedRun, ImportResult, save_all
from hunchlab.errors import MissingPackage, NotFound
from hunchlab.project import Project

STATUS = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "interrupted"}


def import_mlflow(project: Project, tracking_uri: str | None = None, experiment: str | None = None) -> ImportResult:
    """Import every run of ``experiment`` (default: all experiments) from ``tracking_uri``."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MissingPackage("importing from MLflow needs the mlflow package", fix="pip install mlflow") from None
    client = MlflowClient(tracking_uri=tracking_uri)
    uri = tracking_uri or client._tracking_client.tracking_uri
    if experiment is not None:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            names = [e.name for e in client.search_experiments()]
            raise NotFound(f"no MLflow experiment '{experiment}' at {uri}",
                           fix=f"experiments there: {', '.join(names) or 'none'}")
        experiments = [found]
    else:
        experiments = client.search_experiments()
    return save_all(project, _runs(client, uri, experiments))


def _runs(client: Any, uri: str, experiments: list[Any]) -> Iterator[ImportedRun]:
    from mlflow.entities import ViewType

    for exp in experiments:
        token = None
        while True:
            page = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000,
                                      page_token=token)
            for run in page:
                yield _convert(client, uri, exp, run)
            token = page.token
            if not token:
                break


def _convert(client: Any, uri: str, exp: Any, run: Any) -> ImportedRun:
    from hunchlab.overrides import parse_override  # lazy: loads yaml only when called

    info, data = run.info, run.data
    tags = dict(data.tags)
    status = STATUS.get(info.status, "interrupted")
    metrics = {key: [(m.step, m.value, m.timestamp / 1000) for m in client.get_metric_history(info.run_id, key)]
               for key in data.metrics}
    return ImportedRun(
        source="mlflow", source_id=info.run_id, location=uri,
        name=tags.get("mlflow.runName") or info.run_name,
        params={k: parse_override(f"x={v}")[1] for k, v in data.params.items()},
        summary=dict(data.metrics),  # what the MLflow UI shows as the run's metrics: each one's latest value
        metrics=metrics,
        tags={k: v for k, v in tags.items() if not k.startswith("mlflow.")},
        notes=tags.get("mlflow.note.content"),
        status=status,
        error=None if status != "interrupted" else f"MLflow status {info.status} when imported",
        started_at=info.start_time / 1000 if info.start_time else None,
        ended_at=info.end_time / 1000 if info.end_time else None,
        commit=tags.get("mlflow.source.git.commit"),
        artifacts=list(_artifacts(client, info.run_id, info.artifact_uri)),
        extra={"experiment": exp.name, "user": info.user_id or tags.get("mlflow.user"),
               "source_name": tags.get("mlflow.source.name")},
    )


def _artifacts(client: Any, run_id: str, root_uri: str, path: str | None = None) -> Iterator[dict[str, Any]]:
    """Every artifact file of the run, by reference: its path, size and URI."""
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            yield from _artifacts(client, run_id, root_uri, item.path)
        else:
            yield {"path": item.path, "size": item.file_size, "uri": f"{root_uri.rstrip('/')}/{item.path}"}
