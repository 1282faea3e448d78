"""docs/compare.md: runs that differ only in the seed form one group "however they were started".

Through the spec's own value, a command-line override, a sweep axis and the Python API,
with the number written as 2 or as 2.0; and a store made before keys were computed by
value is re-keyed when it is opened.
"""

from __future__ import annotations

import json
import sqlite3

import hunchlab
from hunchlab.store import open_store

SPEC = """\
name: exp
entry: train:main
params: {lr: 2.0, steps: 3, model: {width: 4}}
"""


def _runs(hunch):
    return json.loads(hunch("runs", "--json", check=0).stdout)


def test_spec_values_overrides_and_sweep_axes_give_one_group_however_the_number_is_written(project, hunch):
    (project.root / "exp2.yaml").write_text(SPEC)
    hunch("run", "exp2.yaml", "--no-predict", check=0)  # lr: 2.0 from the spec, seed 0
    hunch("run", "exp2.yaml", "lr=2", "seed=1", "--no-predict", check=0)  # typed as an integer
    hunch("sweep", "exp2.yaml", "lr=0.5,2", "seed=2", check=0)  # an axis value typed as an integer
    runs = _runs(hunch)
    two = [r for r in runs if r["params"]["lr"] == 2]
    assert sorted(r["seed"] for r in two) == [0, 1, 2]
    assert len({r["group_key"] for r in two}) == 1
    assert all(type(r["params"]["lr"]) is float for r in two)  # the run sees the spec's type
    proc = hunch("compare", "spec=exp lr=2", "spec=exp lr=0.5", "--json", check=0)
    sides = json.loads(proc.stdout)["sides"]
    assert [len(s["runs"]) for s in sides] == [3, 1]


def test_python_api_runs_group_by_value(project):
    for seed, lr in ((0, 2), (1, 2.0)):
        with hunchlab.start(config={"lr": lr, "model": {"width": 4.0 if seed else 4}}, seed=seed,
                            project=project.root) as run:
            run.log({"loss": 1.0})
    with open_store(project) as store:
        store.sync()
        keys = {r["group_key"] for r in store.list_runs()}
    assert len(keys) == 1


def test_a_store_keyed_by_how_numbers_were_written_is_rekeyed_by_value_when_opened(project, hunch):
    (project.root / "exp2.yaml").write_text(SPEC)
    hunch("run", "exp2.yaml", "--no-predict", check=0)
    hunch("run", "exp2.yaml", "seed=1", "--no-predict", check=0)
    before = {r["id"]: r["group_key"] for r in _runs(hunch)}
    with sqlite3.connect(project.hunch_dir / "store.db") as db:  # as an older hunchlab left it
        db.execute("UPDATE runs SET group_key = 'old' || id")
        db.execute("DELETE FROM hunch_migrations WHERE name = '0010_group_by_value'")
    assert {r["id"]: r["group_key"] for r in _runs(hunch)} == before
    assert len(set(before.values())) == 1
