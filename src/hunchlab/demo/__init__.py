"""``hunch demo``: a small project built from scratch, and the loop walked through it.

The demo is the tour a new user would take, run for them: each step is a real
``hunch`` command, printed before it runs, so the output doubles as a tutorial.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

from hunchlab.errors import WrongState
from hunchlab.run_records import init_project

FILES = ("train.py", "exp.yaml", "count.yaml", "method.yaml", "baseline.yaml")

# The walk-through: (what it shows, the hunch arguments). "{first}" is the first run's id.
STEPS: list[tuple[str, list[str]]] = [
    ("Why does this work exist? A goal, a project under it, a question under that",
     ["tree", "add", "Understand capacity in small networks", "--why", "pick model sizes for the real experiments"]),
    ("", ["tree", "add", "Width study", "--under", "g1", "--why", "width is the cheapest knob to turn"]),
    ("", ["tree", "add", "Does a wider hidden layer separate the rings?", "--under", "p1",
          "--why", "if yes, use width 64 downstream"]),
    ("Run the experiment under 3 seeds, predicting the result first (one command records everything)",
     ["run", "exp.yaml", "--question", "q1", "--seeds", "3", "-p", "acc > 0.75 @ 70%", "--quiet"]),
    ("A wider hidden layer, same seeds, and a confident prediction",
     ["run", "exp.yaml", "model.width=64", "--question", "q1", "--seeds", "3", "-p", "acc > 0.97 @ 85%", "--quiet"]),
    ("A smoke run: the spec's tiny budget, to catch bugs in seconds",
     ["run", "exp.yaml", "--smoke", "--no-predict", "--quiet"]),
    ("A shell-command entry logs by appending JSON lines to $HUNCH_EVENTS",
     ["run", "count.yaml", "--no-predict"]),
    ("List runs", ["runs"]),
    ("Filter them", ["runs", "--where", "model.width=64", "--where", "acc>0.5"]),
    ("Look at one run", ["show", "{first}"]),
    ("Compare the two seed groups: intervals, a paired test over the examples, the flips",
     ["compare", "model.width=16", "model.width=64", "--flips", "3"]),
    ("Plot their learning curves with a band over seeds (CSV and a script beside the figure)",
     ["plot", "model.width=16", "model.width=64", "--metric", "test_acc", "--out", "curves.png"]),
    ("A reproducible random sample of the first run's failures (on a terminal: read and tag them)",
     ["failures", "{first}", "--sample", "5"]),
    ("Sweep lr × width (the spec's sweep: block) on 2 workers", ["sweep", "exp.yaml", "--jobs", "2"]),
    ("Re-execute the first run from its stored code state, config and seed; do the numbers match?",
     ["rerun", "{first}", "--check", "--quiet"]),
    ("The tree now: runs and results per question", ["tree"]),
    ("Why does the first run exist?", ["why", "{first}"]),
    ("Confident predictions that came out wrong are filed as surprises by themselves", ["surprises"]),
    ("Your track record so far", ["calibration"]),
]


def build_demo(path: str | Path) -> Path:
    """Write the demo files into a new folder, make it a git repo and a hunchlab project."""
    root = Path(path).resolve()
    if root.exists() and any(root.iterdir()):
        raise WrongState(f"{root} already exists and is not empty",
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
