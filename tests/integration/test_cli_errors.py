"""Bad input: one clear message (what, where, what to do), exit 2, no traceback, nothing written."""

from __future__ import annotations

import pytest

from hunchlab import run_records


def assert_clean_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def no_runs(project):
    return run_records.runs(project=project) == [] and not any(project.runs_dir.iterdir())


@pytest.mark.parametrize("spec,needles", [
    ("entry: train:main\nparms: {lr: 1}\n", ["bad.yaml:2", "unknown key 'parms'", "did you mean 'params'"]),
    ("entry: train:main\nseed: many\n", ["bad.yaml:2", "seed"]),
    ("params: {lr: 1}\n", ["exactly one of 'entry'"]),
    ("entry: train\n", ["bad.yaml:1", "module:function"]),
    ("entry: trian:main\n", ["entry module 'trian' not found"]),
    ("entry: train:mian\n", ["defines no 'mian'", "did you mean 'main'"]),
    ("entry: [1\n", ["not valid YAML"]),
    ("command: echo {nope}\n", ["no such param"]),
])
def test_invalid_spec_is_rejected_before_any_run_exists(project, hunch, spec, needles):
    (project.root / "bad.yaml").write_text(spec)
    assert_clean_error(hunch("run", "bad.yaml"), *needles)
    assert no_runs(project)


@pytest.mark.parametrize("override,needles", [
    ("model.widht=3", ["no param 'model.widht'", "did you mean 'model.width'", "+model.widht"]),
    ("lr=fast", ["'lr' expects a number"]),
    ("seed=1.5", ["seed must be an integer"]),
    ("lr", ["not key=value"]),
])
def test_bad_override_is_rejected(project, hunch, override, needles):
    assert_clean_error(hunch("run", "exp.yaml", override), *needles)
    assert no_runs(project)


def test_plus_prefix_adds_a_new_param(project, hunch):
    hunch("run", "exp.yaml", "+extra.depth=2", check=0)
    assert run_records.runs(project=project)[0]["params"]["extra"] == {"depth": 2}


def test_missing_spec_file(project, hunch):
    assert_clean_error(hunch("run", "nope.yaml"), "does not exist")


def test_run_outside_a_project_says_hunch_init(tmp_path, hunch):
    (tmp_path / "exp.yaml").write_text("entry: train:main\n")
    assert_clean_error(hunch("run", "exp.yaml", cwd=tmp_path), "not inside a hunchlab project", "hunch init")


def test_unknown_and_ambiguous_run_ids(project, hunch):
    hunch("run", "exp.yaml", check=0)
    hunch("run", "exp.yaml", check=0)
    run_id = run_records.runs(project=project)[0]["id"]
    assert_clean_error(hunch("show", run_id[:-1] + "9"), "no run", "did you mean")
    assert_clean_error(hunch("show", "zzz"), "no run 'zzz'")
    # every id contains a dash; a one-letter prefix shared by both runs is ambiguous unless ids differ
    first = run_records.runs(project=project)[1]["id"]
    common = next((run_id[:i] for i in range(len(run_id), 0, -1) if first.startswith(run_id[:i])), None)
    if common:
        assert_clean_error(hunch("show", common), "ambiguous")


def test_unknown_where_key_lists_known_keys(project, hunch):
    hunch("run", "exp.yaml", check=0)
    assert_clean_error(hunch("runs", "--where", "lrr=1"), "no run has 'lrr'", "did you mean 'lr'")


def test_store_from_a_newer_hunchlab_is_refused(project, hunch):
    import sqlite3
    import time

    with sqlite3.connect(project.hunch_dir / "store.db") as db:
        db.execute("INSERT INTO hunch_migrations VALUES ('9999_future', ?)", (time.time(),))
    assert_clean_error(hunch("runs"), "newer hunchlab", "pip install -U hunchlab")


def test_corrupted_store_is_reported(project, hunch):
    (project.hunch_dir / "store.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (project.hunch_dir / f"store.db{suffix}").unlink(missing_ok=True)
    assert_clean_error(hunch("runs"), "the store is damaged", "hunch store rebuild")


def test_unknown_command_suggests(project, hunch):
    proc = hunch("rnus")
    assert proc.returncode == 2 and "did you mean 'runs'" in proc.stderr
