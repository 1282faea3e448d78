"""Sweeps and ablations through the real `hunch` command, checked by reopening the store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from hunchlab import run_records, sweeps
from hunchlab.execute.plan import plan_sweep
from hunchlab.execute.sweep import run_sweep
from hunchlab.execute.sweep_record import record
from hunchlab.spec import load_spec
from hunchlab.store import open_store
from hunchlab.store import sweeps as q

SLEEPY = '''
import time
def main(run):
    for step in range(run.config.steps):
        run.log({"acc": run.config.q * step / run.config.steps}, step=step)
        time.sleep(run.config.pause)
    run.summary["acc"] = run.config.q
'''

# A trial that starts once two have finished waits for the file `go` (at most 60 s): at most three
# of six finish before it, so the sweep is mid-way for as long as the test needs to stop it however
# loaded the machine is (with plain sleeps a starved test read "[2/6]" late, after the sweep ended).
GATED = '''
import pathlib, time
def main(run):
    gate = pathlib.Path(run.config.gate)
    if (gate / "done").exists() and len((gate / "done").read_text()) >= 2:
        deadline = time.time() + 60
        while not (gate / "go").exists() and time.time() < deadline:
            time.sleep(0.05)
    run.summary["acc"] = run.config.q
    with open(gate / "done", "a") as f:
        f.write("x")
'''

ABLATE = '''
def main(run):
    c = run.config
    run.summary["acc"] = 0.9 - (0.3 if c.aux == 0 else 0.0) - (0.05 if c.dropout == 0 else 0.0) + 0.01 * (run.seed % 3)
'''


def _write(project, name, text):
    (project.root / name).write_text(text)


def _sleepy(project, steps=10, pause=0.1, extra=""):
    _write(project, "sleepy.py", SLEEPY)
    _write(project, "sleepy.yaml", f"entry: sleepy:main\nparams: {{q: 1.0, steps: {steps}, pause: {pause}}}\n{extra}")


def _trial_runs(project, sweep_id):
    """{trial: [run statuses, oldest first]} straight from the store."""
    with open_store(project) as store:
        store.sync()
        with store.read() as conn:
            return {t["trial"]: [r["status"] for r in t["runs"]] for t in q.trials(conn, sweep_id)}


def _settled_runs(project, sweep_id, timeout=30):
    """``_trial_runs`` once no trial reads as running. After a kill -9 of the driver each trial's
    supervisor is told to go and kills its tree first: until it has, the run is rightly still
    running (a process of it can write), and under load that takes a moment."""
    deadline = time.time() + timeout
    while True:
        runs = _trial_runs(project, sweep_id)
        if time.time() > deadline or not any("running" in r for r in runs.values()):
            return runs
        time.sleep(0.2)


def _start(project, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    return subprocess.Popen([sys.executable, "-m", "hunchlab", *args], cwd=project.root, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def _wait_for_line(proc, needle, timeout=60):
    """The lines the command printed to stderr up to and including the first with ``needle``."""
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"no {needle!r} in {seen}")


def test_sweep_runs_every_config_and_seed_in_parallel_with_progress_and_a_table(project, hunch):
    out = hunch("sweep", "exp.yaml", "lr=0.001,0.01", "model.width=8,16", "steps=30", "--seeds", "2", "--jobs", "2",
                check=0)
    assert "[8/8]" in out.stderr and "sweep-1: 8 trials" in out.stderr and "8 finished" in out.stderr
    assert "lr" in out.stdout and "model.width" in out.stdout and "2/2" in out.stdout and "95% CI" in out.stdout
    runs = run_records.runs(project=project)
    assert len(runs) == 8 and {r["status"] for r in runs} == {"finished"}
    assert len({(r["params"]["lr"], r["params"]["model"]["width"], r["seed"]) for r in runs}) == 8
    assert {r["params"]["steps"] for r in runs} == {30}
    one = run_records.get_run(runs[0]["id"], project=project)
    assert one["sweep"]["id"] == "sweep-1" and one["sweep"]["budget"] == 8 and one["code"]["commit"]
    table = sweeps.sweep_table("1", project=project)
    assert [r["n"] for r in table["rows"]] == [2, 2, 2, 2] and table["metric"] == "acc"
    listed = json.loads(hunch("sweeps", "--json", check=0).stdout)
    assert listed[0]["counts"] == {"finished": 8} and listed[0]["budget"] == 8
    assert "nothing to resume" in hunch("sweep", "resume", "sweep-1", check=0).stdout
    assert json.loads(hunch("sweep", "show", "1", "--json", check=0).stdout)["rows"][0]["planned"] == 2


def test_an_override_of_a_swept_key_runs_that_value_only_and_an_ablated_one_is_refused(project, hunch):
    _write(project, "swept.yaml", (project.root / "exp.yaml").read_text()
           + "sweep: {params: {model.width: [32, 64]}}\nablate: {narrow: {model.width: 2}}\n")
    out = hunch("sweep", "swept.yaml", "model.width=8", "lr=0.001,0.01", check=0)
    assert "model.width=8 replaces the sweep's axis model.width (32, 64)" in out.stderr
    runs = run_records.runs(project=project)
    assert len(runs) == 2 and {r["params"]["model"]["width"] for r in runs} == {8}
    out = hunch("ablate", "swept.yaml", "model.width=8", check=2)
    assert "override 'model.width=8' sets model.width, which ablation 'narrow' switches off" in out.stderr
    assert len(run_records.runs(project=project)) == 2 and len(sweeps.list_sweeps(project=project)) == 1


def test_a_failed_trial_does_not_stop_the_sweep(project, hunch):
    _write(project, "flaky.py", 'def main(run):\n    if run.config.lr > 0.5:\n        raise ValueError("diverged")\n'
                                '    run.summary["acc"] = 1 - run.config.lr\n')
    _write(project, "flaky.yaml", "entry: flaky:main\nparams: {lr: 0.1}\n")
    out = hunch("sweep", "flaky.yaml", "lr=0.1,1.0,0.2", "--jobs", "2", check=0)
    assert "2 finished, 1 failed" in out.stderr and "✗ lr=1 seed 0: failed" in out.stderr
    table = sweeps.sweep_table("1", project=project)
    assert [r["overrides"]["lr"] for r in table["rows"]] == [0.1, 0.2, 1.0]
    assert table["rows"][-1]["statuses"] == {"failed": 1} and table["rows"][-1]["mean"] is None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_sweep_stopped_halfway_resumes_to_completion_without_duplicates(project, hunch, sig):
    _write(project, "gated.py", GATED)
    _write(project, "gated.yaml", f"entry: gated:main\nparams: {{q: 1.0, gate: '{project.root}'}}\n")
    proc = _start(project, "sweep", "gated.yaml", "q=1,2,3", "--seeds", "2", "--jobs", "2")
    seen = _wait_for_line(proc, "[2/6]")
    proc.send_signal(sig)
    seen += proc.communicate(timeout=60)[1].splitlines(keepends=True)
    (project.root / "go").touch()  # the resumed trials run straight through
    assert proc.returncode == (-9 if sig == signal.SIGKILL else 130), "".join(seen)  # kill PID stops it as Ctrl-C does
    before = _settled_runs(project, "sweep-1")
    statuses = [s for runs in before.values() for s in runs]
    assert statuses.count("finished") >= 2 and "running" not in statuses, (before, "".join(seen))
    ended = "crashed" if sig == signal.SIGKILL else "interrupted"
    assert set(statuses) <= {"finished", ended}
    listed = sweeps.list_sweeps(project=project)
    assert listed[0]["status"] == ended
    out = hunch("sweep", "resume", "sweep-1", check=0)
    assert "sweep-1" in out.stderr
    after = _trial_runs(project, "sweep-1")
    assert all(runs[-1] == "finished" and runs.count("finished") == 1 for runs in after.values()), after
    assert sum(runs.count("finished") for runs in after.values()) == 6


def test_median_pruning_stops_a_bad_trial_and_says_why(project, hunch):
    _sleepy(project, steps=10, pause=0.05,
            extra="sweep: {metric: acc}\nprune: {metric: acc, after: 3, min_trials: 2}\n")
    out = hunch("sweep", "sleepy.yaml", "q=1.0,0.9,0.1,0.97", "--jobs", "1", check=0)
    assert "3 finished, 1 pruned" in out.stderr and "median stopping" in out.stderr
    run = [r for r in run_records.runs(project=project) if r["params"]["q"] == 0.1][0]
    full = run_records.get_run(run["id"], project=project)
    assert full["status"] == "pruned" and "worse than the median" in full["error"]
    assert len(full["metrics"]["acc"]) < 10


def test_ablation_table_sorted_by_effect_with_honest_verdicts_and_a_plot(project, hunch):
    _write(project, "abl.py", ABLATE)
    _write(project, "abl.yaml", "entry: abl:main\nparams: {aux: 0.5, dropout: 0.1}\n"
                                "ablate:\n  no_dropout: {dropout: 0}\n  no_aux: {aux: 0}\n")
    out = hunch("ablate", "abl.yaml", "--seeds", "3", "--jobs", "2", "--plot", "abl.png", check=0)
    assert "ablation-1: 9 trials" in out.stderr and (project.root / "abl.png").exists()
    assert (project.root / "abl.csv").read_text().count("\n") == 4
    table = json.loads(hunch("ablate", "ablation-1", "--json", check=0).stdout)
    assert [r["label"] for r in table["rows"]] == ["full", "no_aux", "no_dropout"]
    no_aux = table["rows"][1]
    assert no_aux["delta"] == pytest.approx(-0.3) and no_aux["p_adjusted"] is not None
    assert "no_aux lower (worse)" in no_aux["verdict"] and "Holm-adjusted" in no_aux["verdict"]
    assert "no_aux" in out.stdout and "Δ vs full" in out.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["sweep", "exp.yaml", "lrr=0.1,0.2"], "did you mean 'lr'"),
    (["sweep", "exp.yaml", "lr="], "no values to sweep"),
    (["sweep", "exp.yaml", "lr=0.1,0.2", "--budget", "0"], "--budget must be at least 1"),
    (["sweep", "exp.yaml", "lr=0.1,0.2", "--jobs", "0"], "--jobs must be at least 1"),
    (["sweep", "exp.yaml", "steps=5"], "nothing to sweep"),
    (["ablate", "noop.yaml"], "ablation 'same' changes nothing"),
])
def test_bad_input_is_refused_before_anything_is_recorded(project, hunch, args, needle):
    _write(project, "noop.yaml", "entry: train:main\nparams: {lr: 0.1, steps: 2, model: {width: 8}}\n"
                                 "ablate: {same: {lr: 0.1}}\n")
    out = hunch(*args, check=2)
    assert out.stderr.startswith("error: ") and needle in out.stderr and "Traceback" not in out.stderr
    assert sweeps.list_sweeps(project=project) == [] and run_records.runs(project=project) == []
    assert not (project.hunch_dir / "sweeps").exists() or not any((project.hunch_dir / "sweeps").iterdir())


def test_32_workers_write_one_store_without_losing_a_point(project):
    _write(project, "many.py", 'def main(run):\n    for s in range(200):\n'
                               '        run.log({"x": s, "y": run.config.i}, step=s)\n'
                               '    run.summary["i"] = run.config.i\n')
    _write(project, "many.yaml", "entry: many:main\nparams: {i: 0}\n")
    result = run_sweep("many.yaml", [f"i={','.join(map(str, range(32)))}"], jobs=32, project=project)
    assert result.counts == {"finished": 32} and not result.problems
    runs = run_records.runs(project=project)
    assert sorted(r["summary"]["i"] for r in runs) == list(range(32))
    for r in runs:
        full = run_records.get_run(r["id"], project=project, examples=False)
        assert [p["step"] for p in full["metrics"]["x"]] == list(range(200))
        assert "locked" not in (project.run_dir(r["id"]) / "stderr.log").read_text()


def test_trials_run_the_code_submitted_with_the_sweep_not_later_edits(project, hunch):
    _write(project, ".gitignore", "data/\n")
    (project.root / "data").mkdir()
    _write(project, "data/x.txt", "shared data")
    _write(project, "ver.py", 'VERSION = "edited before submission"\n'
                              'def main(run):\n    run.summary["version"] = VERSION\n'
                              '    run.summary["data"] = open("data/x.txt").read()\n'
                              '    run.summary["acc"] = run.config.a\n')
    _write(project, "ver.yaml", "entry: ver:main\nparams: {a: 1}\n")
    recorded = record(project, [plan_sweep(load_spec("ver.yaml"), {"a": [1, 2]})], executor="local", cwd=project.root)
    with open_store(project) as store, store.write() as conn:  # as if its driver had been stopped at once
        q.set_driver(conn, recorded[0]["id"], status="interrupted")
    _write(project, "ver.py", 'def main(run):\n    raise SystemExit("the edited code ran")\n')
    hunch("sweep", "resume", recorded[0]["id"], check=0)
    for r in run_records.runs(project=project):
        assert r["summary"]["version"] == "edited before submission" and r["summary"]["data"] == "shared data"
    assert (project.root / "data" / "x.txt").read_text() == "shared data", "cleaning the snapshot keeps linked data"
    assert not (project.hunch_dir / "sweeps" / recorded[0]["id"] / "tree").exists()


def test_method_and_baseline_are_tuned_with_the_same_budget(project, hunch):
    _write(project, "base.yaml", "name: base\nentry: train:main\nparams: {lr: 0.001, steps: 5, model: {width: 8}}\n"
                                 "sweep: {params: {steps: [5, 10, 15]}}\n")
    _write(project, "method.yaml", "name: method\nentry: train:main\nparams: {lr: 0.001, steps: 5, model: {width: 8}}\n"
                                   "baseline: base.yaml\nsweep: {metric: acc, params: {steps: {uniform: [5, 40]}}}\n")
    out = hunch("sweep", "method.yaml", "--budget", "4", "--seeds", "2", "--jobs", "2", check=0)
    assert "sweep-1 + sweep-2: 8 trials" in out.stderr and "tuned with 4 trials" in out.stdout
    listed = {s["id"]: s for s in sweeps.list_sweeps(project=project)}
    method = listed["sweep-1"]
    assert (method["role"], method["pair_id"], method["budget"]) == ("method", "sweep-2", 4)
    assert (listed["sweep-2"]["role"], listed["sweep-2"]["budget"]) == ("baseline", 4)
    metas = [run_records.get_run(r["id"], project=project, examples=False)["sweep"] for r in run_records.runs(project=project)]
    assert sorted((m["role"], m["budget"]) for m in metas) == [("baseline", 4)] * 4 + [("method", 4)] * 4
