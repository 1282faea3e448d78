"""Unmodified scripts through `hunch run`: metrics from stdout, wandb calls and TensorBoard files;
no spec (`hunch run -- …`); outputs that stay out of the next run's code; pipefail."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

import hunchlab

from .scripts import ARGPARSE, SECTIONS, TENSORBOARD, WANDB


def _commit(root, *names):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", *names], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "scripts"], cwd=root, check=True)


def _last(project):
    run = hunchlab.runs(project=project)[0]
    return hunchlab.get_run(run["id"], project=project)


def _points(record, key):
    return [(p["step"], p["value"]) for p in record["metrics"][key]]


def test_an_argparse_script_runs_with_no_spec_and_its_outputs_are_not_code(project, hunch):
    (project.root / "train.py").write_text(ARGPARSE)
    _commit(project.root, "train.py")
    hunch("run", "--no-predict", "--save-spec", "lr.yaml", "--", "python", "train.py", "--lr", "0.1",
          "--batch-size", "4", "--seed", "3", check=0)
    first = _last(project)
    assert first["params"] == {"lr": 0.1, "batch_size": 4} and first["seed"] == 3
    assert _points(first, "loss") == [(s, round(1.03 * 0.9 ** (i + 1), 4)) for i, s in enumerate(range(0, 50, 10))]
    assert first["captured"]["stdout"] == {"points": 11, "patterns": {"step N … key value": 10, "key: value": 1},
                                           "lines": 6}
    assert sorted(first["outputs"]) == ["out/args.txt", "out/model.pt"]
    show = hunch("show", first["id"], check=0).stdout
    assert "captured from stdout: 11 points (step N … key value: 10; key: value: 1)" in show
    saved = yaml.safe_load((project.root / "lr.yaml").read_text())
    assert saved["command"] == "python train.py --lr {lr} --batch-size {batch_size} --seed {seed}"

    hunch("run", "lr.yaml", "lr=0.2", "--no-predict", check=0)
    second = _last(project)
    assert second["params"]["lr"] == 0.2 and _points(second, "val_acc") == [(40, 0.7)]
    assert second["code"]["untracked"] == ["lr.yaml"]  # not out/model.pt nor out/args.txt
    assert hunch("compare", first["id"], second["id"], "--code", check=0).stdout.count("Binary") == 0
    hunch("rerun", first["id"], check=0)
    assert _points(_last(project), "loss") == _points(first, "loss")
    assert [r["id"] for r in hunchlab.runs(["batch_size=4", "lr=0.1"], project=project)][-1] == first["id"]


def test_gpt_style_lines_need_at_most_one_spec_line(project, hunch):
    (project.root / "adder.py").write_text(SECTIONS)
    (project.root / "adder.yaml").write_text(
        "command: python adder.py --trainer.max_iters={trainer.max_iters}\n"
        "params: {trainer: {max_iters: 30}}\n"
        "metrics_from: ['train loss', 'final score: \\d+/\\d+ = (?P<test_acc>[\\d.]+)%']\n")
    _commit(project.root, "adder.py", "adder.yaml")
    hunch("run", "adder.yaml", "--no-predict", "--predict", "test_acc > 50 @ 90%", check=0)
    record = _last(project)
    assert [s for s, _ in _points(record, "loss")] == [0, 10, 20]  # nanoGPT-style, by default
    assert [s for s, _ in _points(record, "train_loss")] == [0, 10, 20]  # minGPT-style, by key
    assert _points(record, "train_loss")[0][1] == pytest.approx(1.9, abs=1e-5)
    (acc,) = _points(record, "test_acc")
    assert 50 < acc[1] < 100 and record["predictions"][0]["outcome"] is True
    hunch("run", "--no-predict", "--", "python", "adder.py", "--trainer.max_iters=20", "--system.work_dir=./o",
          check=0)
    nested = _last(project)
    assert nested["params"] == {"trainer": {"max_iters": 20}, "system": {"work_dir": "./o"}}


def test_a_run_whose_output_held_no_metric_says_how_to_name_them(project, hunch):
    proc = hunch("run", "--no-predict", "--", "python", "-c", "print('accuracy 98 percent')", check=0)
    assert "no metrics: nothing it printed looked like one; name them in the spec with metrics_from:" in proc.stderr
    assert "captured from stdout: no numbers in 1 lines" in hunch("show", _last(project)["id"], check=0).stdout


def test_stdout_scalars_can_be_switched_off(project, hunch):
    (project.root / "adder.py").write_text(SECTIONS)
    (project.root / "quiet.yaml").write_text("command: python adder.py\nmetrics_from: false\n")
    hunch("run", "quiet.yaml", "--no-predict", check=0)
    assert _last(project)["metrics"] == {}


def test_an_unmodified_wandb_script_logs_into_the_run(project, hunch):
    (project.root / "wb.py").write_text(WANDB)
    (project.root / "wb.yaml").write_text("command: python wb.py\n")
    proc = hunch("run", "wb.yaml", "--no-predict", check=0)
    assert "wandb.define_metric is not supported" in proc.stderr
    record = _last(project)
    assert _points(record, "train/loss") == [(s, 1 / (s + 1)) for s in range(20)]
    assert _points(record, "val/acc") == [(s, (s - 1) / 20) for s in (5, 10, 15, 20)]  # commit=False: next row
    assert record["params"] == {"lr": 0.01, "layers": 2, "batch_size": 32}
    assert record["summary"] == {"best_acc": 0.95}
    assert record["examples"][0]["correct"] is True
    assert "wb.py imports wandb" in record["captured"]["wandb"]["note"]
    assert "captured from wandb: on: wb.py imports wandb" in hunch("show", record["id"], check=0).stdout


def test_wandb_tee_also_writes_the_real_offline_run(project, hunch, tmp_path):
    pytest.importorskip("wandb")
    from hunchlab.compat.wandb_import import import_wandb

    (project.root / "wb.py").write_text(WANDB)
    (project.root / "tee.yaml").write_text(f"command: {sys.executable} wb.py\ncapture: {{wandb: tee}}\n")
    env = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(tmp_path), "HOME": str(tmp_path)}
    hunch("run", "tee.yaml", "--no-predict", env=env, check=0)
    ours = _last(project)
    assert _points(ours, "train/loss") == [(s, 1 / (s + 1)) for s in range(20)]
    import_wandb(project, str(tmp_path / "wandb"))  # what the real wandb wrote, read back
    theirs = _last(project)
    assert theirs["imported"]["from"] == "wandb" and _points(theirs, "train/loss") == _points(ours, "train/loss")


def test_summarywriter_scalars_are_read_into_the_run(project, hunch):
    pytest.importorskip("tensorboard")
    (project.root / "tb.py").write_text(TENSORBOARD)
    (project.root / "tb.yaml").write_text(f"command: {sys.executable} tb.py\n")
    hunch("run", "tb.yaml", "--no-predict", check=0)
    record = _last(project)
    assert [s for s, _ in _points(record, "train/loss")] == list(range(10))
    assert _points(record, "eval/acc") == [(9, 0.875)]
    assert record["captured"]["tensorboard"]["points"] == 11


def test_a_failing_command_in_a_pipeline_fails_the_run(project, hunch):
    (project.root / "pipe.yaml").write_text("command: python -c 'import sys; sys.exit(3)' | cat\n")
    hunch("run", "pipe.yaml", "--no-predict", check=1)
    assert _last(project)["status"] == "failed"


def test_outputs_globs_keep_files_as_artifacts(project, hunch):
    (project.root / "train.py").write_text(ARGPARSE)
    (project.root / "keep.yaml").write_text("command: python train.py\noutputs: ['out/*.pt']\n")
    hunch("run", "keep.yaml", "--no-predict", check=0)
    record = _last(project)
    assert [a["name"] for a in record["artifacts"]] == ["out/model.pt"]
    assert (project.run_dir(record["id"]) / "artifacts" / "out" / "model.pt").stat().st_size == 256 * 64


def test_a_python_entry_that_imports_wandb_gets_the_stand_in(project, hunch):
    (project.root / "wbentry.py").write_text(
        "import wandb\n\ndef main(run):\n    wandb.init(config={'width': 8})\n"
        "    for i in range(3):\n        wandb.log({'loss': 1 / (i + 1)})\n    wandb.finish()\n")
    (project.root / "entry.yaml").write_text("entry: wbentry:main\nparams: {depth: 2}\n")
    hunch("run", "entry.yaml", "--no-predict", check=0)
    record = _last(project)
    assert _points(record, "loss") == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert record["params"] == {"depth": 2, "width": 8} and record["status"] == "finished"
