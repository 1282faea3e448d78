"""The wandb stand-in: W&B's step and commit rules, config → params, summary, Tables → examples."""

from __future__ import annotations

import argparse
import warnings

import pytest

import hunchlab
from hunchlab.compat import wandb
from hunchlab.compat.wandb import HunchCompatWarning


def _points(run_id: str) -> dict[str, list[tuple[int, float]]]:
    record = hunchlab.get_run(run_id)
    return {k: [(p["step"], p["value"]) for p in pts] for k, pts in record["metrics"].items()}


def test_implicit_steps_and_commit_false_follow_wandb(project):
    run = wandb.init(project="p", config={"lr": 0.1}, name="w", tags=["a", "b"], notes="first try")
    wandb.log({"loss": 1.0})                    # step 0
    wandb.log({"loss": 0.5, "acc": 0.1})        # step 1
    wandb.log({"acc": 0.2}, commit=False)       # pending at step 2
    wandb.log({"loss": 0.25})                   # joins the pending row, commits step 2
    wandb.log({"loss": 0.2}, step=10)           # explicit step: held until a later step
    wandb.log({"acc": 0.9}, step=10)
    wandb.log({"loss": 0.1}, step=12)           # commits step 10 first
    with pytest.warns(HunchCompatWarning, match="step 3 after step 12"):
        wandb.log({"loss": 9.0}, step=3)        # W&B drops a step going backwards
    wandb.finish()
    pts = _points(run.id)
    assert pts["loss"] == [(0, 1.0), (1, 0.5), (2, 0.25), (10, 0.2), (12, 0.1)]
    assert pts["acc"] == [(1, 0.1), (2, 0.2), (10, 0.9)]
    record = hunchlab.get_run(run.id)
    assert record["params"] == {"lr": 0.1}
    assert record["tags"] == ["a", "b"] and record["notes"] == "first try"
    assert record["wandb"]["project"] == "p"
    assert record["status"] == "finished"


def test_config_update_and_summary_reach_the_run(project):
    args = argparse.Namespace(lr=3e-4, batch_size=64)
    run = wandb.init(config=args)
    wandb.config.update({"layers": 2})
    wandb.config.dropout = 0.1
    assert wandb.config.lr == 3e-4 and wandb.config["layers"] == 2
    wandb.summary["best_acc"] = 0.93
    run.summary.update({"final_loss": 0.05})
    wandb.finish()
    record = hunchlab.get_run(run.id)
    assert record["params"] == {"lr": 3e-4, "batch_size": 64, "layers": 2, "dropout": 0.1}
    assert record["summary"] == {"best_acc": 0.93, "final_loss": 0.05}


def test_a_table_becomes_examples_and_nested_dicts_flatten(project):
    run = wandb.init()
    table = wandb.Table(columns=["question", "prediction", "answer", "correct", "difficulty"])
    table.add_data("2+2", "4", "4", True, "easy")
    table.add_data("7*8", "54", "56", False, "hard")
    wandb.log({"eval": {"acc": 0.5, "loss": 1.5}, "samples": table})
    wandb.finish()
    record = hunchlab.get_run(run.id)
    assert set(record["metrics"]) == {"eval.acc", "eval.loss"}
    by_id = {e["id"]: e for e in record["examples"]}
    assert by_id["samples/1"]["input"] == "7*8" and by_id["samples/1"]["target"] == "56"
    assert by_id["samples/1"]["correct"] is False and by_id["samples/1"]["fields"]["difficulty"] == "hard"


def test_unsupported_calls_warn_once_and_do_nothing(project, monkeypatch):
    monkeypatch.setattr(wandb, "_warned", set())
    run = wandb.init()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wandb.watch(object(), log="all")
        wandb.watch(object())
        wandb.log({"img": wandb.Image([[0]]), "loss": 1.0})
        run.log_code(".")
    wandb.finish()
    texts = [str(w.message) for w in caught if w.category is HunchCompatWarning]
    assert sum("wandb.watch" in t for t in texts) == 1
    assert any("_Unsupported" in t for t in texts) and any("run.log_code" in t for t in texts)
    assert _points(run.id) == {"loss": [(0, 1.0)]}
    with pytest.raises(AttributeError):
        wandb.no_such_thing  # noqa: B018


def test_log_before_init_says_what_to_do(project):
    with pytest.raises(hunchlab.HunchError, match="before wandb.init"):
        wandb.log({"x": 1})



def test_a_row_still_pending_at_exit_is_kept(project):
    import subprocess
    import sys

    script = ("import hunchlab.compat.wandb as wandb\nrun = wandb.init()\nwandb.log({'loss': 0.5}, step=7)\n"
              "print(run.id)\n")  # no finish: W&B commits the pending row at exit, and so must this
    out = subprocess.run([sys.executable, "-c", script], cwd=project.root, capture_output=True, text=True, check=True)
    assert "Error" not in out.stderr
    record = hunchlab.get_run(out.stdout.strip(), project=project)
    assert _points(record["id"]) == {"loss": [(7, 0.5)]} and record["status"] == "finished"
