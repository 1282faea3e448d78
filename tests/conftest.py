"""Shared fixtures: a fresh project per test (never one shared database)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hunchlab.project import Project
from hunchlab.run_records import init_project

TRAIN = '''
import time
def main(run):
    for step in range(run.config.steps):
        run.log({"loss": 1.0 / (step + 1), "acc": step / run.config.steps}, step=step)
    run.summary["acc"] = run.config.steps / 100
    run.example(id="e1", input="2+2", output="4", target="4", correct=True, topic="arith")
    run.example(id="e2", input="3+3", output="5", target="6", correct=False, topic="arith")
    print("trained", run.config.model.width)

def fail(run):
    run.log({"loss": 0.5})
    raise ValueError("boom")

def slow(run):
    import os
    for step in range(10**9):
        run.log({"x": step}, step=step)
        if step == 100:
            print("ready", flush=True)
        time.sleep(0.001)
'''

SPEC = """\
name: exp
entry: train:main
seed: 3
params:
  lr: 0.001
  steps: 20
  model: {width: 64}
smoke: {steps: 2}
"""


@pytest.fixture(scope="session", autouse=True)
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every process the tests start reads hunchlab's compiled modules from one session-wide cache.

    The suite starts hundreds of Python processes (each ``hunch`` call, each run and sweep trial);
    under PYTHONDONTWRITEBYTECODE, which this machine's shell sets, each one compiled every
    hunchlab module it imported from source: 0.46 s of CPU for ``hunch show 1 --json`` against
    0.39 s from the cache (10 calls: 4.6 s against 3.9-4.2 s). The cache lives in a temporary
    folder (PYTHONPYCACHEPREFIX), so no ``__pycache__`` appears beside the sources or in a test's
    project, whose files some tests list.
    """
    patch = pytest.MonkeyPatch()
    patch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path_factory.mktemp("pycache")))
    patch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    yield
    patch.undo()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """An initialised project in a git repo holding train.py and exp.yaml, as cwd."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "train.py").write_text(TRAIN)
    (root / "exp.yaml").write_text(SPEC)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=root, check=True)
    monkeypatch.chdir(root)
    monkeypatch.delenv("HUNCH_DIR", raising=False)
    monkeypatch.delenv("HUNCH_RUN_DIR", raising=False)
    return init_project(root)[0]


@pytest.fixture
def hunch(project: Project) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real `hunch` command in the project, as a user would."""

    def run(*args: str, cwd: Path | None = None, check: int | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
        full_env.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "hunchlab", *args], cwd=cwd or project.root,
                              capture_output=True, text=True, env=full_env, stdin=subprocess.DEVNULL, timeout=120)
        if check is not None:
            assert proc.returncode == check, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        return proc

    return run
