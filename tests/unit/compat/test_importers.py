"""Imported runs are ordinary runs: a run's seed param becomes its seed, so seeds form one group."""

from __future__ import annotations

from hunchlab import run_records
from hunchlab.compat.importers import ImportedRun, save_all


def imported(run_id: str, seed: object, lr: str = "0.1") -> ImportedRun:
    return ImportedRun(source="mlflow", source_id=run_id, location="sqlite:///m.db", params={"lr": lr, "seed": seed},
                       summary={"acc": 0.5})


def test_runs_that_differ_only_in_their_seed_param_form_one_seed_group(project):
    save_all(project, [imported("a", "0"), imported("b", 1), imported("c", "2"), imported("d", 0, lr="0.2")])
    runs = {r["name"]: r for r in run_records.runs(project=project)}
    seeds = {r["seed"] for name, r in runs.items() if name != "mlflow-d"}
    assert seeds == {0, 1, 2} and all("seed" not in r["params"] for r in runs.values())
    assert len({runs[n]["group_key"] for n in ("mlflow-a", "mlflow-b", "mlflow-c")}) == 1
    assert runs["mlflow-d"]["group_key"] != runs["mlflow-a"]["group_key"]  # another lr is another config



def test_a_seed_param_that_is_not_a_whole_number_stays_a_param(project):
    save_all(project, [imported("x", "first"), imported("y", 1.5), imported("z", True)])
    runs = run_records.runs(project=project)
    assert [(r["seed"], r["params"]["seed"]) for r in sorted(runs, key=lambda r: r["name"])] == [
        (None, "first"), (None, 1.5), (None, True)]
