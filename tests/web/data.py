"""A small project made for the dashboard's tests (in-process and in the browser): two seed
groups (logging loss and val_loss), hostile text, a long metric, artifacts (one a symlink
pointing out of the run), a running run, the tree and the journal. Runs are made
in-process through ``create_run``, the path ``hunchlab.start`` takes, without the slow
environment capture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hunchlab.project import Project
from hunchlab.run_records import init_project

XSS = "<script>alert(1)</script>"
IMG_XSS = '<img src=x onerror="alert(2)">'
SPIKE_STEP = 3001
# The smallest valid PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def make_run(project: Project, params: dict[str, Any], *, seed: int = 0, name: str = "exp", question: str | None = None,
             finish: bool = True, acc: float | None = None, steps: int = 20, examples: list[dict[str, Any]] = (),
             spike: bool = False, val: bool = False, agent: str | None = None) -> Any:
    from hunchlab.run_start import create_run

    meta = {"name": name, "params": params, "seed": seed, "argv": [], "env": {"python": "3.11", "packages": {}},
            "spec": {"name": name, "entry": "train:main", "question": question}, **({"agent": agent} if agent else {})}
    run = create_run(project, meta)
    for step in range(steps):
        loss = 1.0 / (step + 1) + (50.0 if spike and step == SPIKE_STEP else 0.0)
        run.log({"loss": loss, **({"val_loss": 1.2 * loss + 0.01 * seed} if val else {})}, step=step)
    if acc is not None:
        run.summary["acc"] = acc
    for e in examples:
        run.example(**e)
    if finish:
        run.finish()
    return run


def examples_for(right: set[int], n: int = 8) -> list[dict[str, Any]]:
    return [{"id": f"e{i}", "input": f"{i}+{i}", "output": str(2 * i if i in right else 2 * i + 1),
             "target": str(2 * i), "correct": i in right, "topic": "even" if i % 2 == 0 else "odd"} for i in range(n)]


def build(root: Path) -> tuple[Project, dict[str, str]]:
    """The project at ``root`` and the ids of its notable runs."""
    from hunchlab import journal, tree

    project = init_project(root)[0]
    goal = tree.add("Understand width", why="pick sizes", project=project)
    proj = tree.add("Width study", under=goal["id"], why="cheapest knob", project=project)
    question = tree.add("Does width help?", under=proj["id"], why="if yes use 64", project=project)
    ids: dict[str, str] = {}
    for width, accs, right in ((16, (0.6, 0.62, 0.61), {0, 1, 2}), (64, (0.8, 0.82, 0.81), {0, 1, 2, 3, 4, 5})):
        for seed, acc in enumerate(accs):
            r = make_run(project, {"lr": 0.1, "model": {"width": width}}, seed=seed, question=question["id"], acc=acc,
                         examples=examples_for(right), val=True)
            ids.setdefault(f"w{width}", r.id)
    hostile = make_run(project, {"lr": 0.1, "prompt": IMG_XSS}, name=XSS, acc=0.5,
                       examples=[{"id": "x1", "input": IMG_XSS, "output": XSS, "target": "4", "correct": False}])
    ids["xss"] = hostile.id
    run_dir = project.run_dir(hostile.id)
    (run_dir / "code").mkdir(exist_ok=True)
    (run_dir / "code" / "diff.patch").write_text(f"--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-old\n+{XSS}\n")
    art = root / "plot.png"
    art.write_bytes(PNG)
    long = make_run(project, {"lr": 0.5}, name="long", steps=6000, spike=True, finish=False)
    long.artifact(art)
    (root / "page.html").write_text(f"<html>{XSS}</html>")
    long.artifact(root / "page.html")
    (root / "secret.txt").write_text("top secret")
    long.artifact(root / "secret.txt", name="escape.txt")
    escape = project.run_dir(long.id) / "artifacts" / "escape.txt"
    escape.unlink()
    escape.symlink_to(root / "secret.txt")  # recorded as an artifact, but now points out of the run
    long.finish()
    ids["long"] = long.id
    ids["running"] = make_run(project, {"lr": 0.9}, name="live", finish=False, agent="claude").id  # via hunch mcp
    journal.add_note(f"# Width matters\n\nIt does {XSS}", run_ref=ids["w64"], project=project)
    ids["question"] = question["id"]
    return project, ids



RLO = "\u202e"
SPOOF = f"report{RLO}gpj.exe"  # shows as "reportexe.jpg" unless the override is made visible
LONG_NAME = "n" * 100_000
MANY = 12  # reruns of one config: more than a runs page shows of a group


def build_sweep(root: Path) -> tuple[Project, dict[str, str]]:
    """A second project for paging, overlays and the sweep view: lr × width configs with 2 to
    MANY seeds (one config has 6, enough for an interval), a right-to-left name, a 100 KB
    name and an artifact whose name hides its type."""
    project = init_project(root)[0]
    ids: dict[str, str] = {}
    seeds = {(0.001, 16): MANY, (0.001, 64): 2, (0.01, 16): 3, (0.01, 64): 6, (0.1, 16): 2, (0.1, 64): 3}
    for (lr, width), n in seeds.items():
        for seed in range(n):
            acc = 0.5 + 0.3 * (width == 64) - abs(lr - 0.01) + 0.01 * seed
            r = make_run(project, {"lr": lr, "model": {"width": width}, "opt": "adam" if lr < 0.1 else "sgd"},
                         seed=seed, name="grid", acc=acc, steps=6 + seed)
            ids.setdefault(f"{lr}-{width}", r.id)
            ids[f"{lr}-{width}-last"] = r.id
    ids["rtl"] = make_run(project, {"lr": 0.5}, name=f"{RLO}evil", acc=0.1, finish=True).id
    ids["long_name"] = make_run(project, {"lr": 0.6}, name=LONG_NAME, acc=0.2).id
    spoof = make_run(project, {"lr": 0.7}, name="spoof", finish=False)
    (root / "a.exe").write_bytes(b"MZ")
    spoof.artifact(root / "a.exe", name=SPOOF)
    spoof.finish()
    ids["spoof"] = spoof.id
    return project, ids


def csrf_of(html: str) -> str:
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]
