"""The study framework through the real `hunch`: scaffold, list, run linked to the tree, check."""

from __future__ import annotations

import json

from hunchlab import run_records, tree

CHECK = '''
def check(summaries):
    mean = sum(s["score"] for s in summaries) / len(summaries)
    return [{"claim": "score near one half", "measured": mean, "paper": "0.5 (by construction)",
             "verdict": "reproduced" if abs(mean - 0.5) < 0.1 else "not reproduced", "passed": abs(mean - 0.5) < 0.1}]
'''


def test_scaffold_list_run_check(project, hunch):
    out = hunch("study", "new", "coin-flip", check=0).stdout
    folder = project.root / "studies" / "coin-flip"
    assert "created" in out and {p.name for p in folder.iterdir()} >= {"README.md", "study.yaml", "spec.yaml",
                                                                       "entry.py", "check.py"}
    for heading in ("## Paper", "## Finding", "## Question", "## What to predict", "## What would falsify it",
                    "## How the toy differs from the paper"):
        assert heading in (folder / "README.md").read_text()
    listed = json.loads(hunch("study", "list", "--json", check=0).stdout)
    assert {"name": "coin-flip", "yours": True}.items() <= next(r for r in listed if r["name"] == "coin-flip").items()
    # the stub check fails until it is written
    hunch("study", "run", "coin-flip", "--budget", "smoke", "--no-predict", check=0)
    proc = hunch("study", "check", "coin-flip")
    assert proc.returncode == 1 and "not written yet" in proc.stdout
    (folder / "check.py").write_text(CHECK)
    hunch("study", "run", "coin-flip", "--seeds", "3", "--p", "80%", check=0)
    runs = run_records.runs(project=project)[:3]
    assert {r["question"] for r in runs} == {"q1"} and len({r["group_key"] for r in runs}) == 1
    assert sorted(r["seed"] for r in runs) == [0, 1, 2]
    chain = [n["title"] for n in tree.why(runs[0]["id"], project)[1:]]
    assert chain == ["reproduce: Author et al. YEAR, Title", "my area", "reproduce frontier findings"]
    first = run_records.get_run(runs[-1]["id"], project=project)
    (pred,) = first["predictions"]
    assert pred["group_size"] == 3 and pred["status"] == "resolved" and "mean of 3 seeds" in pred["note"]
    result = json.loads(hunch("study", "check", "coin-flip", "--json", check=0).stdout)
    assert result["passed"] and len(result["runs"]) == 3 and result["budget"] == "full"
    # a second study run reuses the tree nodes
    hunch("study", "run", "coin-flip", "--budget", "smoke", "--no-predict", check=0)
    assert [n["id"] for n in tree.tree(project)] == ["g1", "p1", "q1"]


def test_bad_input(project, hunch):
    proc = hunch("study", "run", "no-such-study")
    assert proc.returncode == 2 and "no study" in proc.stderr
    proc = hunch("study", "run", "test-time-compute")  # an area's name: say which studies it holds
    assert proc.returncode == 2 and "is an area" in proc.stderr and "self-consistency" in proc.stderr
    hunch("study", "new", "x-study", check=0)
    assert hunch("study", "new", "x-study").returncode == 2
    assert hunch("study", "new", "Bad Name").returncode == 2
    proc = hunch("study", "check", "x-study")
    assert proc.returncode == 2 and "no finished runs" in proc.stderr


def test_a_bad_study_param_is_one_line_and_exit_2_with_no_run_recorded(project, hunch):
    proc = hunch("study", "run", "star", "filter=random", "--budget", "smoke", "--no-predict")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    what, fix = proc.stderr.strip().splitlines()[-2:]  # what and where, then the fix
    assert what == "error: star study: filter 'random'" and "answer, none, shuffled" in fix
    assert run_records.runs(project=project) == []
