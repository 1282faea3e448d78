"""compare, plot, report and `run --seeds` through the real `hunch` command.

One project is built for the module (three seed groups of three runs), because every
run costs a process start; each test only reads it, except where it adds a run of its own.
The main paths and the errors run `hunch` as a subprocess; output-format variants run the
same click command in-process (``_cli``), which skips a second of imports per call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hunchlab.cli import cli
from hunchlab.errors import HunchError
from hunchlab.run_records import init_project
from hunchlab.store import open_store
from hunchlab.store.journal import insert_node

NOISY = '''
import random
import time

def main(run):
    rng = random.Random(run.seed)
    shift = run.config.shift
    for step in range(4):
        run.log({"loss": 1.0 / (step + 1) + rng.random() / 50}, step=step)
    run.summary["acc"] = 0.6 + shift + rng.gauss(0, 0.01)
    run.summary["loss"] = 0.5 - shift + rng.gauss(0, 0.01)
    for i in range(60):
        # shift > 0 fixes the base's mistakes on q0, q3, ..., q42 (15) and breaks q1: the flips are known
        right = i % 3 != 0 or (shift > 0 and i < 45)
        if shift > 0 and i == 1:
            right = False
        run.example(id=f"q{i}", input=f"<b>{i}</b>", output=int(right), target=1, correct=right, score=float(right))

def live(run):
    run.log({"loss": 0.9}, step=0)
    print("ready", flush=True)
    time.sleep(120)
'''

SPEC = "name: noisy\nentry: noisy:main\nseed: 0\nparams: {shift: 0.0}\n"


def _hunch(root: Path, *args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    proc = subprocess.run([sys.executable, "-m", "hunchlab", *args], cwd=root, capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def _cli(root: Path, *args: str) -> str:
    """The command in this process (cwd = the project); returns stdout. HunchError propagates."""
    old = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A project with groups A (shift 0), B (shift 0.1, under question q1, with a prediction) and C (like A)."""
    root = tmp_path_factory.mktemp("lab")
    (root / "noisy.py").write_text(NOISY)
    (root / "noisy.yaml").write_text(SPEC)
    (root / "live.yaml").write_text("entry: noisy:live\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=root, check=True)
    project = init_project(root)[0]
    with open_store(project) as store, store.write() as conn:
        goal = insert_node(conn, kind="goal", title="Understand width", why="so we size models well", parent_id=None)
        insert_node(conn, kind="question", title="Does shift help?", why="it is cheap if it works", parent_id=goal)
    out_a = _hunch(root, "run", "noisy.yaml", "--seeds", "3", "-q").stdout
    _hunch(root, "run", "noisy.yaml", "shift=0.1", "--seeds", "3", "-q", "--question", "q1",
           "--predict", "acc > 0.65 @ 70%")
    _hunch(root, "run", "noisy.yaml", "+tag=same", "--seeds", "3", "-q")
    rows = json.loads(_hunch(root, "runs", "--json").stdout)
    groups = {}
    for r in sorted(rows, key=lambda r: r["seed"]):
        groups.setdefault(r["group_key"], []).append(r)
    a, b, c = sorted(groups, key=lambda k: min(r["id"].rsplit("-", 1)[1].zfill(6) for r in groups[k]))
    return {"root": root, "A": a, "B": b, "C": c, "groups": groups, "run_a_out": out_a}


def test_seeds_run_one_group_of_consecutive_seeds(lab):
    assert len(lab["groups"]) == 3
    assert [r["seed"] for r in lab["groups"][lab["A"]]] == [0, 1, 2]
    assert f"group {lab['A']}: 3 runs (seeds 0–2), 3 finished" in lab["run_a_out"]


def test_compare_shows_config_code_intervals_paired_tests_and_flips(lab):
    out = _hunch(lab["root"], "compare", lab["A"], lab["B"], "--flips", "2").stdout
    assert "shift" in out and "same code on every run" in out
    assert "acc: B higher (better) by 0.10" in out and "3 vs 3 seeds, Welch t p" in out
    assert "Holm-adjusted over" in out and "paired (an example is the unit): B vs A on 60 shared examples" in out
    assert "exact sign-flip test (all 65,536 sign patterns of the 16 nonzero differences)" in out
    assert "15 wrong→right" in out and "right→wrong: 1 example" in out and "wrong→right: 15 examples, first 2" in out
    r = json.loads(_cli(lab["root"], "compare", lab["A"], lab["B"], "--json"))
    acc = next(m for m in r["metrics"] if m["metric"] == "acc")
    assert acc["significant"] and acc["a"]["n"] == 3 and acc["lo"] > 0
    (p,) = r["paired"]
    assert (p["flips"]["n_wrong_to_right"], p["flips"]["n_right_to_wrong"]) == (15, 1)
    assert p["accuracy"]["p"] == pytest.approx(p["mcnemar"]["p"])  # on 0/1 correctness the two are one test
    assert p["flips"]["right_to_wrong"][0] | {"id": "q1", "input": "<b>1</b>", "a_output": 1, "b_output": 0} == \
        p["flips"]["right_to_wrong"][0]
    csv = _cli(lab["root"], "compare", lab["A"], lab["B"], "--csv").splitlines()
    assert csv[0].startswith("kind,unit,name,a,b") and len(csv) == 1 + 2 + 3
    assert "| metric |" in _cli(lab["root"], "compare", lab["A"], lab["B"], "--markdown")


def test_groups_that_differ_only_in_an_unused_param_are_within_noise_and_say_what_they_could_detect(lab):
    r = json.loads(_cli(lab["root"], "compare", f"group={lab['A']}", "tag=same", "--json", "--detect", "0.01"))
    assert all(m["verdict"].startswith("difference within noise") for m in r["metrics"])
    assert all("could detect" in m["verdict"] and "seeds per side would detect 0.01" in m["verdict"]
               for m in r["metrics"])
    assert r["detect"] == 0.01 and all(m["power"]["needed"] > 3 for m in r["metrics"])
    assert any(n.startswith("units: the metrics table counts a seed") for n in r["notes"])
    assert r["paired"][0]["mcnemar"]["verdict"].startswith("no flips")
    assert r["config"] == [{"key": "tag", "values": [None, "same"]}]


def test_one_selector_matching_several_groups_compares_them(lab):
    r = json.loads(_cli(lab["root"], "compare", "spec=noisy", "--metric", "acc", "--json"))
    assert [s["group"] for s in r["sides"]] == [lab["A"], lab["B"], lab["C"]]
    assert [m["labels"] for m in r["metrics"]] == [["A", "B"], ["A", "C"]]


def test_bad_input_gives_one_line_errors_and_exit_2(lab):
    root = lab["root"]
    for args, expected in [
        (("",), "empty selector"),
        (("shiftt=1", lab["B"]), "did you mean 'shift'"),
        ((lab["A"], lab["B"], "--metric", "acx"), "did you mean 'acc'"),
        ((lab["A"],), "nothing to compare it with"),
        (("spec=noisy", lab["B"]), "matches 3 groups"),
    ]:
        err = _hunch(root, "compare", *args, check=2).stderr
        assert expected in err and "Traceback" not in err, err
    assert _hunch(root, "compare", check=2).returncode == 2  # no selector at all


def test_no_common_metric_names_what_each_side_has(lab):
    root = lab["root"]
    (root / "words.yaml").write_text("command: echo '{\"t\":\"summary\",\"d\":{\"words\":3}}' >> $HUNCH_EVENTS\n")
    _hunch(root, "run", "words.yaml", "-q")
    err = _hunch(root, "compare", "spec=words", lab["A"], check=2).stderr
    assert "no metric in common" in err and "A has words; B has acc, loss" in err


def test_comparing_a_running_run_says_so_and_uses_what_is_logged(lab):
    root = lab["root"]
    env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    proc = subprocess.Popen([sys.executable, "-m", "hunchlab", "run", "live.yaml"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None and "ready" in proc.stdout.readline()
        live = [r for r in json.loads(_hunch(root, "runs", "--json").stdout) if r["status"] == "running"][0]["id"]
        out = _hunch(root, "compare", lab["A"], live)
        assert f"{live} is still running: comparing what has been logged so far" in out.stderr
        assert "loss:" in out.stdout and "n=1 on a side" in out.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_plot_writes_png_and_pdf_with_data_and_script(lab):
    root = lab["root"]
    out = _cli(root, "plot", lab["A"], lab["B"], "--metric", "loss", "--out", "fig.png", "--out", "fig.pdf")
    assert "fig.png" in out and "fig.pdf" in out
    for name in ("fig.png", "fig.pdf", "fig.csv", "fig_plot.py"):
        assert (root / name).stat().st_size > 0, name
    assert (root / "fig.pdf").read_bytes().startswith(b"%PDF") and (root / "fig.png").read_bytes()[1:4] == b"PNG"
    rows = (root / "fig.csv").read_text().splitlines()
    assert rows[0] == "metric,group,line,step,value,band_lo,band_hi,n_runs"
    means = [row for row in rows if ",mean," in row]
    assert means and all(row.endswith(",,,3") for row in means)  # 3 seeds under each point: no band, every run
    with pytest.raises(HunchError, match="(?s)differ in 2 params.*--x shift"):
        _cli(root, "plot", "spec=noisy", "--x", "param", "--metric", "acc")
    _cli(root, "plot", lab["A"], lab["B"], "--x", "shift", "--metric", "acc", "--out", "sweep.svg")
    assert (root / "sweep.svg").exists()
    err = _hunch(root, "plot", lab["A"], "--metric", "acc", check=2).stderr
    assert "'acc' is a summary metric" in err and "--x PARAM" in err


def test_report_html_is_self_contained_and_escaped_and_md_has_figures_beside(lab):
    root = lab["root"]
    _cli(root, "report", lab["A"], lab["B"], "--out", "r.html")
    page = (root / "r.html").read_text()
    assert page.startswith("<!doctype html>") and "data:image/svg+xml;base64," in page
    assert "&lt;b&gt;1&lt;/b&gt;" in page and "<b>1</b>" not in page
    assert "Does shift help?" in page and "acc &gt; 0.65 @ 70%" in page
    _cli(root, "report", lab["A"], lab["B"], "--out", "r.md")
    md = (root / "r.md").read_text()
    assert "![learning curves" in md and (root / "r_files" / "curves.png").exists()
    _cli(root, "report", "q1", "--out", "q.html")
    page = (root / "q.html").read_text()
    assert "<h1>Does shift help?</h1>" in page and "it is cheap if it works" in page and "Understand width" in page
    assert "acc (n=3)" not in page and "3 runs" in page  # one group: its summary, no comparison


def test_code_differences_are_reported_and_diffed(lab):
    root = lab["root"]
    original = (root / "noisy.py").read_text()
    (root / "dirty.yaml").write_text(SPEC.replace("name: noisy", "name: dirty"))
    (root / "noisy.py").write_text(original + "# a change\n")
    try:
        _hunch(root, "run", "dirty.yaml", "+variant=1", "-q")  # its own group: code alone does not split groups
    finally:
        (root / "noisy.py").write_text(original)
    out = _hunch(root, "compare", lab["A"], "spec=dirty").stdout
    assert "code differs: A commit" in out and "clean" in out and "uncommitted changes (diff" in out
    diff = _hunch(root, "compare", lab["A"], "spec=dirty", "--code").stdout
    assert "+# a change" in diff and "B/dirty.yaml" in diff
