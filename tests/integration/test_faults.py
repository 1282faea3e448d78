"""Faults of the machine are messages, and nothing acknowledged is lost (issue 12).

Each test breaks something a real machine breaks (a damaged store file, a full disk,
a read-only folder, a runner killed under a shell entry), drives the real `hunch`,
and checks three things: the message is a few lines with no traceback and exit 2;
every point the entry had acknowledged is in the store once the fault is gone; other
runs and commands keep working.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hunchlab import run_records
from hunchlab.project import Project, find_project

# Logs one point per call and, only once run.log has returned, records how many in an
# ack file outside the project: the points the entry knows were accepted.
ACKED = """
import os, struct, sys, time
def main(run):
    ack = os.open(os.environ["ACK"], os.O_RDWR | os.O_CREAT)
    big = "x" * int(os.environ.get("EXAMPLE_BYTES", "0"))
    step = 0
    while True:
        run.log({"x": step}, step=step)
        if big and step % 10 == 0:
            run.example(id=f"e{step}", input=big, correct=False)
        os.pwrite(ack, struct.pack("q", step + 1), 0)
        step += 1
        time.sleep(float(os.environ.get("PAUSE", "0")))
"""
ACKED_SCRIPT = ACKED + "\nimport hunchlab\nmain(hunchlab.current_run())\n"
TOUCH = "import pathlib, os\ndef main(run):\n    pathlib.Path(os.environ['MARK']).write_text('ran')\n"


def clean_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2, no traceback, and the error is one to three lines (what, where, what to do)."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    tail = proc.stderr[proc.stderr.rindex("error: "):].strip().splitlines()
    assert 1 <= len(tail) <= 3, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def acked(path: Path) -> int:
    return struct.unpack("q", path.read_bytes())[0] if path.exists() and path.stat().st_size == 8 else 0


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def all_points_kept(project: Project, run_id: str, n_acked: int) -> dict:
    run = run_records.get_run(run_id, project=project)
    steps = [p["step"] for p in run["metrics"]["x"]]
    assert len(steps) == len(set(steps)), "a point was folded twice"
    assert steps[:n_acked] == list(range(n_acked)), f"{n_acked} acknowledged, stored {len(steps)}"
    return run


# -- a damaged store ---------------------------------------------------------------------------------
def _offsets(db: Path) -> dict[str, int]:
    """Places to flip a byte: the header's magic, its reserved-space byte, a b-tree page header, the
    first page of the runs table, and inside a stored text (which then no longer decodes as UTF-8)."""
    data = db.read_bytes()
    con = sqlite3.connect(db)
    runs_root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
    con.close()
    return {"magic": 0, "reserved": 20, "page 2 header": 4096, "runs page": (runs_root - 1) * 4096 + 8,
            "stored text": data.index(b'"kind": "flip"') + 3}


@pytest.mark.parametrize("place", ["magic", "reserved", "page 2 header", "runs page", "stored text"])
def test_a_byte_flipped_store_gives_a_message_and_starts_no_entry(project, hunch, tmp_path, place):
    (project.root / "touch.py").write_text(TOUCH)
    (project.root / "touch.yaml").write_text("entry: touch:main\n")
    hunch("run", "exp.yaml", "+kind=flip", "--no-predict", check=0)
    db = project.hunch_dir / "store.db"
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    offset = _offsets(db)[place]
    with open(db, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))
    for args in (["runs"], ["show", "1", "--json"], ["examples", "1", "--json"]):
        proc = hunch(*args)
        if proc.returncode:
            clean_error(proc, "damaged", "hunch store rebuild")
    if place != "stored text":  # a value that no longer decodes passes SQLite's structural check
        assert hunch("store", "check").returncode == 1
    mark = tmp_path / "mark"
    proc = hunch("run", "touch.yaml", "--no-predict", env={"MARK": str(mark)})
    if place != "stored text":  # damage in the structure: found before the entry starts, nothing runs
        clean_error(proc, "damaged")
        assert not mark.exists() and len(list(project.runs_dir.iterdir())) == 1
    else:  # a value that no longer decodes is found when read: the new run itself is recorded
        assert proc.returncode == 0 and mark.exists(), proc.stderr


def test_a_store_from_a_newer_hunchlab_stops_before_the_entry_starts(project, hunch, tmp_path):
    (project.root / "touch.py").write_text(TOUCH)
    (project.root / "touch.yaml").write_text("entry: touch:main\n")
    con = sqlite3.connect(project.hunch_dir / "store.db")
    con.execute("INSERT INTO hunch_migrations (name, applied_at) VALUES ('9999_from_the_future', 0)")
    con.commit()
    con.close()
    mark = tmp_path / "mark"
    clean_error(hunch("run", "touch.yaml", "--no-predict", env={"MARK": str(mark)}), "newer hunchlab",
                "pip install -U hunchlab")
    assert not mark.exists() and not any(project.runs_dir.iterdir())


# -- a full disk ---------------------------------------------------------------------------------------
def _mount(target: Path, *options: str) -> None:
    proc = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount here ({proc.stderr.strip()}): the test needs a mount namespace that allows it")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs: a disk that fills in well under a second."""
    if os.geteuid() != 0:
        pytest.skip("filling a disk needs a small tmpfs, and mounting one needs root: run the tests as root")
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount(disk, "-t", "tmpfs", "-o", "size=16m", "tmpfs")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def moved_to(project: Project, root: Path) -> Project:
    """The test project (git repo, store, specs) copied to ``root``, with the acknowledging entry added."""
    shutil.copytree(project.root, root, symlinks=True)
    (root / "acked.py").write_text(ACKED)
    (root / "acked.yaml").write_text("name: acked\nentry: acked:main\n")
    return find_project(root)


def test_a_run_that_fills_the_disk_is_recorded_failed_and_keeps_every_acknowledged_point(project, small_disk, hunch,
                                                                                            tmp_path):
    project = moved_to(project, small_disk / "proj")
    hunch("run", "exp.yaml", "--no-predict", cwd=project.root, check=0)
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * (free - (3 << 20)))  # 3 MiB left: the run starts, then fills it
    ack = tmp_path / "ack"
    proc = hunch("run", "acked.yaml", "--no-predict", "-q", cwd=project.root,
                 env={"ACK": str(ack), "EXAMPLE_BYTES": "20000"})
    clean_error(proc, "no space left on device")
    n = acked(ack)
    assert n > 100
    reading = hunch("runs", "--json", cwd=project.root)  # the disk is still full: reads still work
    assert reading.returncode == 0 and "Traceback" not in reading.stderr
    clean_error(hunch("run", "exp.yaml", "--no-predict", cwd=project.root), "no space left", "df -h")

    filler.unlink()
    run_id = sorted(project.runs_dir.iterdir(), key=lambda p: p.stat().st_mtime)[-1].name
    run = all_points_kept(project, run_id, n)
    assert run["status"] == "failed" and run["error"].startswith("no space left on device")
    hunch("run", "exp.yaml", "--no-predict", cwd=project.root, check=0)  # the project works again
    statuses = sorted(r["status"] for r in run_records.runs(project=project))
    assert statuses == ["failed", "finished", "finished"]


# -- a read-only project -------------------------------------------------------------------------------
@pytest.fixture
def read_only(project: Project, tmp_path: Path) -> Iterator[Path]:
    """The project seen through a read-only bind mount (root), or with its write bits removed (others)."""
    view = tmp_path / "ro"
    if os.geteuid() != 0:
        for path in [project.root, *project.root.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        yield project.root
        for path in [project.root, *project.root.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        return
    view.mkdir()
    _mount(view, "--bind", str(project.root))
    _mount(view, "-o", "remount,bind,ro")
    yield view
    subprocess.run(["umount", "-l", str(view)], check=False)


def test_a_read_only_project_can_be_read_and_refuses_writes_with_a_message(project, hunch, read_only, tmp_path):
    hunch("run", "exp.yaml", "--no-predict", check=0)
    hunch("forecast", "it rains", "--p", "0.3", "--by", "2099-01-01", check=0)
    (project.root / "touch.py").write_text(TOUCH)
    (project.root / "touch.yaml").write_text("entry: touch:main\n")
    env = {"HUNCH_DIR": str(read_only)}
    shown = json.loads(hunch("show", "1", "--json", cwd=read_only, env=env, check=0).stdout)
    assert shown["status"] == "finished" and len(shown["metrics"]["loss"]) == 20
    assert len(json.loads(hunch("runs", "--json", cwd=read_only, env=env, check=0).stdout)) == 1
    hunch("forecasts", cwd=read_only, env=env, check=0)
    mark = tmp_path / "mark"
    clean_error(hunch("run", "touch.yaml", "--no-predict", cwd=read_only, env={**env, "MARK": str(mark)}),
                "read-only")
    assert not mark.exists()
    clean_error(hunch("note", "-m", "a thought", cwd=read_only, env=env), "read-only")
    script = subprocess.run([sys.executable, "-c", "import hunchlab; hunchlab.start()"], cwd=read_only,
                            env={**os.environ, **env}, capture_output=True, text=True)
    assert "hunchlab.errors.ReadOnly: " in script.stderr and "read-only file system while starting a run" \
        in script.stderr, script.stderr


def _python_for_nobody() -> tuple[str, dict[str, str]]:
    """A Python that user nobody can run with hunchlab importable: this one, or the system's of the same
    version with this environment's packages on the path (a venv under /root is closed to nobody)."""
    import site
    import sysconfig

    env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    paths = [sysconfig.get_paths()["purelib"], *site.getsitepackages(), env.get("PYTHONPATH", "")]
    for python, extra in ((sys.executable, {}), (system, {"PYTHONPATH": os.pathsep.join(p for p in paths if p)})):
        probe = subprocess.run(["runuser", "-u", "nobody", "--", python, "-c", "import hunchlab, sqlalchemy"],
                               capture_output=True, text=True, env={**env, **extra})
        if probe.returncode == 0:
            return python, {**env, **extra}
    pytest.skip("user nobody can run no Python with hunchlab and its packages here")


def test_permission_denied_is_a_message_and_reading_still_works(project, hunch):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root to run hunch as another user (runuser), for whom the project is not writable")
    python, env = _python_for_nobody()
    hunch("run", "exp.yaml", "--no-predict", check=0)
    shared = Path(tempfile.mkdtemp(prefix="hunch-perm-"))  # outside pytest's 0700 folders, so nobody can enter
    try:
        shared.chmod(0o755)
        root = shared / "proj"
        shutil.copytree(project.root, root, symlinks=True)

        def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["runuser", "-u", "nobody", "--", python, "-m", "hunchlab", *args],
                                  cwd=root, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)

        shown = as_nobody("show", "1", "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["status"] == "finished"
        clean_error(as_nobody("run", "exp.yaml", "--no-predict"), "permission denied", "write access")
        clean_error(as_nobody("forecast", "x", "--p", "0.3", "--by", "2099-01-01"), "read-only")
        assert len(list((root / ".hunch" / "runs").iterdir())) == 1
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# -- no orphaned points -------------------------------------------------------------------------------
def _processes_running(text: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", text], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_killing_the_runner_of_a_shell_entry_takes_its_whole_tree_and_keeps_every_acknowledged_point(
        project, tmp_path):
    script = tmp_path / f"orphan_{os.getpid()}.py"
    script.write_text(ACKED_SCRIPT)
    (project.root / "sh.yaml").write_text(f'name: sh\ncommand: "{sys.executable} {script}; true"\n')
    ack = tmp_path / "ack"
    env = {**os.environ, "ACK": str(ack), "PAUSE": "0.001"}
    runner = subprocess.Popen([sys.executable, "-m", "hunchlab", "run", "sh.yaml", "--no-predict"], cwd=project.root,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: acked(ack) > 500)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    wait_for(lambda: not _processes_running(script.name), timeout=5)  # the entry did not outlive its runner
    n = acked(ack)
    run = all_points_kept(project, run_records.runs(project=project)[0]["id"], n)
    assert run["status"] == "crashed"
    time.sleep(0.3)
    assert len(run_records.get_run(run["id"], project=project)["metrics"]["x"]) == len(run["metrics"]["x"])


def test_a_background_process_left_by_a_shell_entry_ends_with_the_run(project, hunch, tmp_path):
    script = tmp_path / f"straggler_{os.getpid()}.py"
    script.write_text(ACKED_SCRIPT)
    (project.root / "bg.yaml").write_text(f'name: bg\ncommand: "{sys.executable} {script} & sleep 1"\n')
    started = time.time()
    hunch("run", "bg.yaml", "--no-predict", env={"ACK": str(tmp_path / "ack"), "PAUSE": "0.001"}, check=0)
    assert time.time() - started < 10 and not _processes_running(script.name)
    run = run_records.get_run("1", project=project)
    assert run["status"] == "finished" and len(run["metrics"]["x"]) >= acked(tmp_path / "ack")
