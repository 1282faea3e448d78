"""`hunch import` from real MLflow, W&B offline and TensorBoard stores, and `hunch export` back out.

The stores are written by the real packages (installed by `make install-test`), offline:
no account, no network. Each import is checked value for value against what was logged.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest

import hunchlab


def _history(record, key):
    return [(p["step"], p["value"]) for p in record["metrics"][key]]


def _imported(project):
    return {r["id"]: hunchlab.get_run(r["id"], project=project) for r in hunchlab.runs(project=project)}


def test_mlflow_runs_round_trip_and_import_is_idempotent(project, hunch, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.tracking.MlflowClient(uri)
    exp = client.create_experiment("baseline", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(exp, run_name="lr-sweep-1", tags={"team": "evals", "mlflow.source.git.commit": "a" * 40,
                                                               "mlflow.note.content": "first try"})
    rid = run.info.run_id
    for k, v in {"lr": 0.001, "layers": 4, "optimizer": "adam", "warmup": True}.items():
        client.log_param(rid, k, v)
    losses = [(s, 1.0 / (s + 3)) for s in range(50)]
    for step, value in losses:
        client.log_metric(rid, "loss", value, step=step, timestamp=1_700_000_000_000 + step)
    client.log_metric(rid, "acc", 0.8125, step=49)
    (tmp_path / "model.txt").write_text("weights")
    client.log_artifact(rid, str(tmp_path / "model.txt"), "ckpt")
    client.set_terminated(rid, "FINISHED")
    failed = client.create_run(exp, run_name="diverged")
    client.log_metric(failed.info.run_id, "loss", float("inf"), step=0)
    client.set_terminated(failed.info.run_id, "FAILED")

    out = hunch("import", "mlflow", "--tracking-uri", uri, "--experiment", "baseline", check=0).stdout
    assert "imported 2 run(s)" in out
    records = {r["name"]: r for r in _imported(project).values()}
    r = records["lr-sweep-1"]
    assert r["params"] == {"lr": 0.001, "layers": 4, "optimizer": "adam", "warmup": True}
    assert _history(r, "loss") == losses
    assert r["metrics"]["loss"][3]["time"] == pytest.approx(1_700_000_000.003)
    assert r["summary"] == {"loss": losses[-1][1], "acc": 0.8125}
    assert r["tags"] == {"team": "evals"} and r["notes"] == "first try"
    assert r["code"]["commit"] == "a" * 40 and r["status"] == "finished"
    assert r["created_at"] == pytest.approx(run.info.start_time / 1000)
    assert [a["path"] for a in r["imported"]["artifacts"]] == ["ckpt/model.txt"]
    assert r["imported"]["from"] == "mlflow" and r["imported"]["experiment"] == "baseline"
    assert records["diverged"]["status"] == "failed"
    again = hunch("import", "mlflow", "--tracking-uri", uri, check=0).stdout
    assert "imported 0 run(s)" in again and "2 already imported" in again
    assert len(hunchlab.runs(project=project)) == 2
    show = hunch("show", r["id"], check=0).stdout
    assert "imported from mlflow" in show and "notes: first try" in show
    assert "hunchlab has its numbers" in hunch("rerun", r["id"], check=2).stderr
    failed_id = records["diverged"]["id"]
    assert "loss" in hunch("compare", r["id"], failed_id, check=0).stdout  # imported runs are ordinary runs
    hunch("plot", r["id"], "--metric", "loss", "-o", "loss.png", check=0)
    from starlette.testclient import TestClient

    from hunchlab.web import create_app

    with TestClient(create_app(project), base_url="http://127.0.0.1:8765") as client:
        page = client.get(f"/runs/{r['id']}.json")
    assert page.status_code == 200 and "lr-sweep-1" in page.text


def test_mlflow_unknown_experiment_names_the_ones_there(project, hunch, tmp_path):
    pytest.importorskip("mlflow")
    err = hunch("import", "mlflow", "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", "--experiment", "nope",
                check=2).stderr
    assert "no MLflow experiment 'nope'" in err and "Default" in err


WANDB_SCRIPT = textwrap.dedent("""
    import os, sys, time
    import wandb
    run = wandb.init(project="adder", config={"lr": 0.003, "model": {"layers": 2}}, name=sys.argv[1],
                     tags=["baseline"], notes="seed sweep")
    for step in range(30):
        wandb.log({"train/loss": 2.0 / (step + 1), "acc": step / 32})
    wandb.config.update({"batch_size": 64})
    table = wandb.Table(columns=["question", "prediction", "answer", "correct"])
    table.add_data("2+2", "4", "4", True)
    table.add_data("9+9", "17", "18", False)
    wandb.log({"eval": table})
    wandb.summary["best_acc"] = 0.90625
    if sys.argv[1] == "dies":
        time.sleep(1)
        os._exit(3)
    wandb.finish()
""")


def _wandb_env(tmp_path):
    return {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(tmp_path),
            "WANDB_CONSOLE": "off", "HOME": str(tmp_path)}


def test_wandb_offline_runs_round_trip(project, hunch, tmp_path):
    pytest.importorskip("wandb")
    script = tmp_path / "wb.py"
    script.write_text(WANDB_SCRIPT)
    for name in ("ok", "dies"):
        subprocess.run([sys.executable, str(script), name], cwd=tmp_path, env=_wandb_env(tmp_path), check=False,
                       timeout=300, capture_output=True)
    out = hunch("import", "wandb", str(tmp_path / "wandb"), check=0).stdout
    assert "imported 2 run(s)" in out
    records = {r["name"]: r for r in _imported(project).values()}
    r = records["ok"]
    assert r["params"] == {"lr": 0.003, "model": {"layers": 2}, "batch_size": 64}
    assert _history(r, "train/loss") == [(s, 2.0 / (s + 1)) for s in range(30)]
    assert _history(r, "acc") == [(s, s / 32) for s in range(30)]
    assert r["summary"]["best_acc"] == 0.90625 and not any(k.startswith("eval") for k in r["summary"])
    assert r["tags"] == ["baseline"] and r["notes"] == "seed sweep" and r["status"] == "finished"
    by_id = {e["id"]: e for e in r["examples"]}
    assert by_id["eval/1"]["output"] == "17" and by_id["eval/1"]["correct"] is False
    # the killed run: no exit record (its name too may not have reached the file before the kill)
    assert [r["status"] for name, r in records.items() if name != "ok"] == ["crashed"]
    assert "imported 0 run(s)" in hunch("import", "wandb", str(tmp_path / "wandb"), check=0).stdout


def test_tensorboard_logdir_imports_as_one_run(project, hunch, tmp_path):
    pytest.importorskip("tensorboard")
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(tmp_path / "tb"))
    for step in range(20):
        writer.add_scalar("train/loss", 1.0 / (step + 1), step)
    writer.add_scalars("acc", {"train": 0.75, "val": 0.5}, 19)
    writer.close()
    hunch("import", "tensorboard", str(tmp_path / "tb"), check=0)
    (r,) = _imported(project).values()
    f32 = [float(torch.tensor(1.0 / (s + 1), dtype=torch.float32)) for s in range(20)]
    assert _history(r, "train/loss") == list(enumerate(f32))
    assert _history(r, "acc_train/acc") == [(19, 0.75)] and _history(r, "acc_val/acc") == [(19, 0.5)]


def test_export_writes_runs_metrics_and_examples_in_each_format(project, hunch):
    hunch("run", "exp.yaml", "--no-predict", check=0)
    hunch("run", "exp.yaml", "lr=0.01", "--no-predict", check=0)
    for fmt in ("csv", "jsonl", "parquet"):
        out = hunch("export", "all", "--format", fmt, "-o", f"out-{fmt}", check=0).stdout
        assert "runs." in out
    with open(project.root / "out-csv" / "metrics.csv") as f:
        points = list(csv.DictReader(f))
    assert len(points) == 2 * 2 * 20  # two runs, loss and acc, 20 steps
    runs = [json.loads(line) for line in (project.root / "out-jsonl" / "runs.jsonl").read_text().splitlines()]
    assert sorted(r["param.lr"] for r in runs) == [0.001, 0.01]
    pq = pytest.importorskip("pyarrow.parquet")
    examples = pq.read_table(project.root / "out-parquet" / "examples.parquet").to_pylist()
    assert {(e["id"], e["correct"]) for e in examples} == {("e1", True), ("e2", False)}
    assert "unknown" not in hunch("export", "lr=0.01", "--format", "jsonl", "-o", "one", check=0).stderr
    assert len((project.root / "one" / "runs.jsonl").read_text().splitlines()) == 1
