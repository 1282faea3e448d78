"""Outputs are not code: what code capture skips, the .gitignore hint, binary sections of a diff."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hunchlab.capture import MAX_UNTRACKED_FILE, capture_code
from hunchlab.outputs import drop_binary_sections, remember, written_since


def test_capture_skips_earlier_outputs_and_binary_files_and_hints_at_gitignore(project, tmp_path):
    root = project.root
    (root / "out").mkdir()
    (root / "out" / "args.txt").write_text("{'lr': 0.1}")
    (root / "out" / "model.pt").write_bytes(b"\0\1" * 100)
    (root / "data").mkdir()
    (root / "data" / "big.csv").write_text("x\n" * (MAX_UNTRACKED_FILE // 2 + 1))
    (root / "helper.py").write_text("X = 1\n")
    assert sorted(written_since(root, 0)) == ["data/big.csv", "out/args.txt", "out/model.pt"]  # not helper.py
    remember(project.hunch_dir, ["out/args.txt"])
    state = capture_code(root, tmp_path / "code")
    assert state["untracked"] == ["helper.py"] and state["outputs_skipped"] == 2
    assert state["skipped"] == ["data/big.csv"]
    assert "add data/ to .gitignore" in state["warning"] and "\n" not in state["warning"]


def test_a_diff_loses_its_binary_sections(tmp_path):
    for side, blob in (("A", b"\0a"), ("B", b"\0b")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "model.pt").write_bytes(blob)
        (tmp_path / side / "train.py").write_text(f"lr = {side!r}\n")
    diff = subprocess.run(["git", "diff", "--no-index", "A", "B"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert "Binary files" in diff
    kept = drop_binary_sections(diff)
    assert "Binary" not in kept and "model.pt" not in kept and "-lr = 'A'" in kept


def test_trials_of_one_sweep_remember_their_outputs_at_once_without_a_failed_rename(tmp_path):
    """A sweep's trials are threads of one driver: with one ``<pid>.tmp`` name between them, a
    second rename found the first had taken the file, and its trial "could not run" (seen in CI)."""
    import threading

    failures: list[BaseException] = []

    def trial(i: int) -> None:
        try:
            for j in range(200):
                remember(tmp_path, [f"t{i}/out{j}.txt"])
        except BaseException as e:  # noqa: BLE001 - collected for the assert below
            failures.append(e)

    threads = [threading.Thread(target=trial, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len((tmp_path / "outputs.txt").read_text().splitlines()) == 4 * 200  # none dropped by another
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_runs_in_parallel_processes_remember_every_output(tmp_path):
    """Two terminals' runs are processes, not threads: a lock of one process did not keep them apart."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_remember_many, args=(tmp_path, i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert len((tmp_path / "outputs.txt").read_text().splitlines()) == 4 * 150


def _remember_many(folder: Path, i: int) -> None:
    for j in range(150):
        remember(folder, [f"p{i}/out{j}.txt"])
