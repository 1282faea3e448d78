"""Predict before every run, score after it: through the real `hunch` command."""

from __future__ import annotations

import json
import math
import sqlite3
import sys

import pytest

from hunchlab import predict, run_records


def last_run(project):
    return run_records.get_run(run_records.runs(project=project)[0]["id"], project=project)


def test_predictions_are_locked_before_the_run_and_resolved_by_its_result(project, hunch):
    # train:main with steps=20 gives summary acc = 0.2 and a last logged loss of 1/20
    hunch("run", "exp.yaml", "-p", "acc > 0.1 @ 80%", "-p", "loss in [0.04, 0.06] @ 60%",
          "-p", "acc >= 0.5 @ 90%", "-p", "missing > 1 @ 60%", check=0)
    run = last_run(project)
    by_text = {p["text"]: p for p in run["predictions"]}
    assert by_text["acc > 0.1 @ 80%"]["outcome"] is True and by_text["acc > 0.1 @ 80%"]["actual"] == 0.2
    assert by_text["loss in [0.04, 0.06] @ 60%"]["outcome"] is True  # from the last logged value
    assert by_text["acc >= 0.5 @ 90%"]["outcome"] is False
    assert math.isclose(by_text["acc >= 0.5 @ 90%"]["brier"], 0.81)
    missing = by_text["missing > 1 @ 60%"]
    assert missing["status"] == "unresolvable" and "never logged" in missing["note"] and "acc" in missing["note"]
    assert all(p["created_at"] < run["ended_at"] for p in run["predictions"])


def test_spec_predictions_and_show_lists_them(project, hunch):
    (project.root / "exp.yaml").write_text((project.root / "exp.yaml").read_text() + "predict: acc > 0.1 @ 70%\n")
    hunch("run", "exp.yaml", check=0)
    out = hunch("show", "1", check=0).stdout
    assert "predictions" in out and "acc > 0.1 @ 70%" in out and "right" in out


def test_comparison_claim_resolves_against_the_referenced_run(project, hunch):
    hunch("run", "exp.yaml", "--no-predict", check=0)
    base = last_run(project)["id"]
    hunch("run", "exp.yaml", "steps=40", "-p", f"acc > {base}.acc @ 60%", check=0)
    (pred,) = last_run(project)["predictions"]
    assert pred["outcome"] is True and pred["ref_value"] == 0.2 and pred["actual"] == 0.4


def test_a_comparison_with_a_reference_that_lacks_the_metric_is_refused_before_the_run(project, hunch):
    hunch("run", "exp.yaml", "--no-predict", check=0)
    base = last_run(project)["id"]
    proc = hunch("run", "exp.yaml", "-p", f"acc > {base}.accuracy @ 60%")
    assert proc.returncode == 2 and f"run {base} logged no 'accuracy' (it has: " in proc.stderr and "acc" in proc.stderr
    proc = hunch("run", "exp.yaml", "-p", "acc > nosuchbaseline.acc @ 60%")
    assert proc.returncode == 2 and "'nosuchbaseline' names no run, seed group or spec" in proc.stderr
    assert [r["id"] for r in run_records.runs(project=project)] == [base]  # nothing was started


def test_confident_wrong_prediction_files_a_surprise(project, hunch):
    proc = hunch("run", "exp.yaml", "-p", "acc > 0.9 @ 85%", check=0)
    assert "surprise" in proc.stderr
    run = last_run(project)
    with sqlite3.connect(project.hunch_dir / "store.db") as db:
        rows = db.execute("SELECT kind, run_id, written_up, body FROM journal").fetchall()
    assert len(rows) == 1 and rows[0][:3] == ("surprise", run["id"], 0)
    assert "What I now believe" in rows[0][3] and "0.2" in rows[0][3]


def test_no_predict_is_recorded_and_non_interactive_never_blocks(project, hunch):
    hunch("run", "exp.yaml", "--no-predict", check=0)
    assert last_run(project)["prediction"] == "no prediction (--no-predict)"
    hunch("run", "exp.yaml", check=0)  # stdin is not a terminal: no prompt, no hang
    assert last_run(project)["prediction"] == "no prediction (not a terminal)"


def test_bad_prediction_shows_where_and_the_grammar_and_writes_nothing(project, hunch):
    proc = hunch("run", "exp.yaml", "-p", "acc >> 0.8 @ 70%")
    assert proc.returncode == 2 and "column 6" in proc.stderr and "acc > 0.8 @ 70%" in proc.stderr
    assert run_records.runs(project=project) == []
    (project.root / "exp.yaml").write_text((project.root / "exp.yaml").read_text() + "predict: [acc > 2 @ 150%]\n")
    proc = hunch("run", "exp.yaml")
    assert proc.returncode == 2 and "exp.yaml:9" in proc.stderr


def test_prompt_asks_for_a_prediction_on_a_terminal(project, hunch):
    pexpect = pytest.importorskip("pexpect")
    hunch("run", "exp.yaml", "--no-predict", check=0)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(project.root), "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "hunchlab", "run", "exp.yaml"], cwd=str(project.root), env=env,
                          encoding="utf-8", timeout=60)
    child.expect("Before you look")
    child.expect("metrics: acc, loss")  # hints from the last run of this spec
    child.expect("predict> ")
    child.sendline("acc >> 1")  # a mistake: the grammar is shown and the prompt comes back
    child.expect("column")
    child.expect("predict> ")
    child.sendline("acc > 0.1 @ 75%")
    child.expect("predict> ")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    (pred,) = last_run(project)["predictions"]
    assert pred["text"] == "acc > 0.1 @ 75%" and pred["outcome"] is True


def test_forecasts_resolve_due_and_errors(project, hunch):
    out = hunch("forecast", "SAE features in a safety case", "--p", "30%", "--by", "2099-12-31", "--tag", "interp",
                check=0).stdout
    assert "forecast f1" in out and "hunch resolve f1" in out
    for args, needle in [(["--p", "1.5", "--by", "2099-01-01"], "between 0 and 1"),
                         (["--p", "0.5", "--by", "2001-01-01"], "not in the future"),
                         (["--p", "0.5", "--by", "someday"], "not a date")]:
        proc = hunch("forecast", "x", *args)
        assert proc.returncode == 2 and needle in proc.stderr
    # make f1 due by moving its date into the past, then any change refreshes the due list
    with sqlite3.connect(project.hunch_dir / "store.db") as db:
        db.execute("UPDATE predictions SET resolve_by = '2000-01-01' WHERE id = 1")
    hunch("forecast", "another", "--p", "0.6", "--by", "2099-01-01", check=0)
    assert "1 forecast is due" in hunch("runs").stderr
    assert "SAE features" in hunch("due", check=0).stdout
    hunch("resolve", "f1", "no", "--note", "not yet", check=0)
    assert "due" not in hunch("runs").stderr
    proc = hunch("resolve", "f1", "yes")
    assert proc.returncode == 2 and "prediction f1 is already resolved" in proc.stderr
    assert hunch("resolve", "f42", "yes").returncode == 2


def test_forecasts_and_run_predictions_are_numbered_apart_and_a_bare_number_is_refused(project, hunch):
    hunch("run", "exp.yaml", "-p", "acc > 0.1 @ 90%", "-p", "nope > 1 @ 60%", check=0)  # r1, r2 (r2: unresolvable)
    out = hunch("forecast", "width stops mattering", "--p", "0.4", "--by", "2099-01-01", check=0).stdout
    assert out.startswith("forecast f1: ")  # the first forecast, whatever the runs predicted before it
    out = hunch("read", "A paper", "--guess", "score in [0.4, 0.6] @ 60%", "--matters", "0.5", check=0).stdout
    assert "  f2 “A paper” will still matter in two years" in out
    listed = json.loads(hunch("forecasts", "--json", check=0).stdout)
    assert sorted(f["ref"] for f in listed) == ["f1", "f2"]
    shown = hunch("show", "1", check=0).stdout
    assert "r1" in shown and "r2" in shown and "hunch resolve r2 yes|no|void" in shown.replace("\n", " ")
    proc = hunch("resolve", "2", "no")
    assert proc.returncode == 2 and "neither its kind nor its number" in proc.stderr and "f1, f2" in proc.stderr
    assert "r2 nope > 1 @ 60% — stated 60%, resolved no" in hunch("resolve", "r2", "no", check=0).stdout
    assert hunch("resolve", "f1", "yes", check=0).stdout.startswith("f1 width stops mattering")
    assert "already resolved" in hunch("resolve", "r1", "yes", check=2).stderr
    assert "a guess about a paper" in hunch("resolve", "#4", "yes", check=2).stderr  # the `id` of --json


def test_done_when_scenario_calibration_counts_and_scores_by_hand(project, hunch, tmp_path):
    """Three run predictions (right+confident, wrong+confident, 50%), two forecasts, one reading."""
    hunch("run", "exp.yaml", "-p", "acc > 0.1 @ 90%", check=0)   # right, p=.9: Brier .01
    hunch("run", "exp.yaml", "-p", "acc > 0.5 @ 80%", check=0)   # wrong, p=.8: Brier .64
    hunch("run", "exp.yaml", "-p", "acc > 0.15 @ 50%", check=0)  # right, p=.5: Brier .25
    hunch("forecast", "a", "--p", "0.7", "--by", "2099-01-01", check=0)  # resolved yes: .09
    hunch("forecast", "b", "--p", "0.2", "--by", "2099-01-01", check=0)  # resolved yes: .64
    hunch("resolve", "f1", "yes", check=0)
    hunch("resolve", "f2", "yes", check=0)
    hunch("read", "A paper", "--guess", "score in [0.4, 0.6] @ 60%", "--matters", "0.5", check=0)
    hunch("read", "resolve", "1", "--actual", "score=0.7", check=0)  # wrong, p=.6: Brier .36
    data = json.loads(hunch("calibration", "--json", check=0).stdout)
    briers = [0.01, 0.64, 0.25, 0.09, 0.64, 0.36]
    assert data["n"] == 6
    assert math.isclose(data["brier"], sum(briers) / 6)
    logs = [math.log(0.9), math.log(0.2), math.log(0.5), math.log(0.7), math.log(0.2), math.log(0.4)]
    assert math.isclose(data["log_score"], sum(logs) / 6)
    assert json.loads(hunch("calibration", "--kind", "run", "--json", check=0).stdout)["n"] == 3
    out = hunch("calibration", "--plot", str(tmp_path / "cal.png"), check=0)
    assert "6 resolved predictions" in out.stdout
    assert (tmp_path / "cal.png").stat().st_size > 10_000 and (tmp_path / "cal.csv").exists()
    assert predict.calibration(project=project).n == 6
