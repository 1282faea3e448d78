"""``hunch demo``: a small project built from scratch, and the loop walked through it.

The demo is the tour a new user would take, run for them: each step is a real
``hunch`` command, printed before it runs, so the output doubles as a tutorial.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

from hunchlab.errors import HunchError
from hunchlab.project import init_project

FILES = ("train.py", "exp.yaml", "count.yaml")

# The walk-through: (what it shows, the hunch arguments). "{first}" is the first run's id.
STEPS: list[tuple[str, list[str]]] = [
    ("Run the experiment: one command records config, code, environment and results",
     ["run", "exp.yaml", "--quiet"]),
    ("Override params on the command line (a wider hidden layer)",
     ["run", "exp.yaml", "model.width=64", "--quiet"]),
    ("A smoke run: the spec's tiny budget, to catch bugs in seconds", ["run", "exp.yaml", "--smoke", "--quiet"]),
    ("A shell-command entry logs by appending JSON lines to $HUNCH_EVENTS", ["run", "count.yaml"]),
    ("List runs", ["runs"]),
    ("Filter them", ["runs", "--where", "model.width=64", "--where", "acc>0.5"]),
    ("Look at one run", ["show", "{first}"]),
    ("Re-execute it from its stored code state, config and seed, and check the numbers",
     ["rerun", "{first}", "--check", "--quiet"]),
]


def build_demo(path: str | Path) -> Path:
    """Write the demo files into a new folder, make it a git repo and a hunchlab project."""
    root = Path(path).resolve()
    if root.exists() and any(root.iterdir()):
        raise HunchError(f"{root} already exists and is not empty",
                         fix="remove it, or pass another folder: hunch demo DIR")
    root.mkdir(parents=True, exist_ok=True)
    source = resources.files("hunchlab.demo") / "files"
    for name in FILES:
        (root / name).write_text((source / name).read_text())
    if shutil.which("git"):
        git = ["git", "-c", "user.name=hunch demo", "-c", "user.email=demo@hunchlab.invalid"]
        subprocess.run([*git, "init", "-q"], cwd=root, check=True)
        subprocess.run([*git, "add", *FILES], cwd=root, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "demo project"], cwd=root, check=True)
    init_project(root)
    return root
