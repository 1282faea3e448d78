"""The core loop through the real `hunch` command: init, run, runs, show, rerun, smoke."""

from __future__ import annotations

import json
import subprocess
import sys

from hunchlab import run_records
from hunchlab.store import open_store


def _ids(project):
    return [r["id"] for r in run_records.runs(project=project)]


def test_run_records_config_code_env_metrics_examples_and_logs(project, hunch):
    out = hunch("run", "exp.yaml", "lr=3e-4", "model.width=128", check=0)
    assert "trained 128" in out.stdout
    run = run_records.get_run(_ids(project)[0], project=project)
    assert run["status"] == "finished" and run["exit_code"] == 0
    assert run["params"] == {"lr": 0.0003, "steps": 20, "model": {"width": 128}}
    assert run["seed"] == 3
    assert run["summary"] == {"acc": 0.2}
    assert [p["step"] for p in run["metrics"]["loss"]] == list(range(20))
    assert {e["id"]: e["correct"] for e in run["examples"]} == {"e1": True, "e2": False}
    assert run["examples"][0]["fields"] == {"topic": "arith"}
    assert run["code"]["git"] and len(run["code"]["commit"]) == 40 and not run["code"]["dirty"]
    assert run["env"]["python"] and "hunchlab" in {k.lower() for k in run["env"]["packages"]}
    assert (project.run_dir(run["id"]) / "stdout.log").read_text().strip() == "trained 128"


def test_code_state_includes_uncommitted_diff_and_untracked_files(project, hunch):
    (project.root / "train.py").write_text((project.root / "train.py").read_text() + "\n# edited\n")
    (project.root / "helper.py").write_text("X = 1\n")
    hunch("run", "exp.yaml", check=0)
    run = run_records.get_run(_ids(project)[0], project=project)
    assert run["code"]["dirty"] and run["code"]["diff_bytes"] > 0
    assert run["code"]["untracked"] == ["helper.py"]
    assert "# edited" in (project.run_dir(run["id"]) / "code" / "diff.patch").read_text()


def test_runs_filters_and_machine_readable_output(project, hunch):
    hunch("run", "exp.yaml", "lr=3e-4", check=0)
    hunch("run", "exp.yaml", "steps=90", check=0)
    rows = json.loads(hunch("runs", "--where", "lr=3e-4", "--json", check=0).stdout)
    assert [r["params"]["lr"] for r in rows] == [0.0003]
    rows = json.loads(hunch("runs", "--where", "acc>0.5", "--json", check=0).stdout)
    assert [r["params"]["steps"] for r in rows] == [90]
    csv = hunch("runs", "--csv", check=0).stdout.splitlines()
    assert csv[0].startswith("id,name,status") and len(csv) == 3
    table = hunch("runs", check=0).stdout
    assert "exp" in table and "finished" in table
    newest = hunch("runs", "--limit", "1", check=0).stdout
    assert "showing 1 of 2" in newest and _ids(project)[0] in newest
    assert "showing 1 of 1" not in hunch("runs", "--where", "acc>0.5", "--limit", "1", check=0).stdout
    assert [r["params"]["steps"] for r in json.loads(hunch("runs", "-n", "1", "--json", check=0).stdout)] == [90]


def test_show_resolves_prefix_and_number_and_prints_the_record(project, hunch):
    hunch("run", "exp.yaml", check=0)
    run_id = _ids(project)[0]
    for ref in (run_id, run_id.split("-")[0], "1"):
        out = hunch("show", ref, check=0).stdout
        assert run_id in out and "summary" in out and "trained 64" in out
    whole = json.loads(hunch("show", run_id, "--json", check=0).stdout)
    assert len(whole["metrics"]["acc"]) == 20 and len(whole["examples"]) == 2


def test_smoke_applies_the_spec_smoke_overrides(project, hunch):
    hunch("run", "exp.yaml", "--smoke", check=0)
    run = run_records.get_run(_ids(project)[0], project=project)
    assert run["params"]["steps"] == 2 and run["spec"]["smoke"] is True


def test_shell_command_entry_substitutes_params_and_logs_through_the_event_file(project, hunch):
    (project.root / "sh.yaml").write_text(
        'command: "echo width={model.width} seed={seed} && '
        'echo \'{\\"t\\":\\"summary\\",\\"d\\":{\\"w\\":{model.width}}}\' >> $HUNCH_EVENTS"\n'
        "params: {model: {width: 32}}\nseed: 5\n")
    out = hunch("run", "sh.yaml", "model.width=48", check=0)
    assert "width=48 seed=5" in out.stdout
    run = run_records.get_run(_ids(project)[0], project=project)
    assert run["summary"] == {"w": 48} and run["spec"]["command"]


def test_rerun_check_reproduces_from_stored_code_even_after_the_file_changed(project, hunch):
    hunch("run", "exp.yaml", check=0)
    first = _ids(project)[0]
    # Change the code on disk: rerun must use the captured state, not this.
    (project.root / "train.py").write_text((project.root / "train.py").read_text().replace(
        "run.config.steps / 100", "run.config.steps / 50"))
    out = hunch("rerun", first, "--check", check=0)
    assert "reproduced" in out.stdout
    new = run_records.get_run(_ids(project)[0], project=project)
    assert new["rerun_of"] == first and new["summary"] == {"acc": 0.2}


def test_rerun_check_with_nothing_to_compare_says_so_and_exits_1(project, hunch):
    (project.root / "quiet.yaml").write_text("command: 'true'\n")
    hunch("run", "quiet.yaml", check=0)
    out = hunch("rerun", _ids(project)[0], "--check")
    assert out.returncode == 1 and "nothing to compare" in out.stderr and "reproduced" not in out.stdout


def test_rerun_check_fails_when_the_numbers_differ(project, hunch):
    (project.root / "rand.py").write_text(
        "import random\ndef main(run):\n    run.summary['x'] = random.SystemRandom().random()\n")
    (project.root / "rand.yaml").write_text("entry: rand:main\n")
    hunch("run", "rand.yaml", check=0)
    out = hunch("rerun", _ids(project)[0], "--check")
    assert out.returncode == 1 and "differ" in out.stderr


def test_failing_experiment_is_recorded_failed_with_traceback_exit_1(project, hunch):
    (project.root / "bad.yaml").write_text("entry: train:fail\n")
    out = hunch("run", "bad.yaml")
    assert out.returncode == 1 and "ValueError: boom" in out.stderr
    run = run_records.get_run(_ids(project)[0], project=project)
    assert run["status"] == "failed" and run["metrics"]["loss"][0]["value"] == 0.5
    assert "ValueError: boom" in (project.run_dir(run["id"]) / "stderr.log").read_text()


def test_project_is_found_from_a_subfolder(project, hunch):
    sub = project.root / "a" / "b"
    sub.mkdir(parents=True)
    hunch("run", "../../exp.yaml", cwd=sub, check=0)
    assert len(_ids(project)) == 1


def test_python_api_start_records_a_run(project):
    code = ("import hunchlab\n"
            "with hunchlab.start(config={'lr': 0.1}, name='adhoc') as run:\n"
            "    run.log({'x': 1}); run.log({'x': 2}); run.summary['done'] = 1\n")
    subprocess.run([sys.executable, "-c", code], cwd=project.root, check=True)
    run = run_records.get_run(_ids(project)[0], project=project)
    assert run["name"] == "adhoc" and run["status"] == "finished"
    assert [p["step"] for p in run["metrics"]["x"]] == [0, 1] and run["summary"] == {"done": 1}


def test_python_api_uncaught_exception_marks_the_run_failed(project):
    code = "import hunchlab\nrun = hunchlab.start()\nrun.log({'x': 1})\nraise SystemError('bad')\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True)
    assert proc.returncode == 1
    run = run_records.get_run(_ids(project)[0], project=project)
    assert run["status"] == "failed" and "bad" in run["error"]


def test_store_is_consistent_after_every_command(project, hunch):
    hunch("run", "exp.yaml", check=0)
    with open_store(project) as store:
        store.sync()
    assert not list(project.pending_dir.iterdir())
