"""Every --json/--jsonl output is strict JSON, even for a run whose numbers went NaN or infinite."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

DIVERGES = '''
def main(run):
    for step in range(5):
        run.log({"loss": [1.0, 0.5, float("inf"), float("nan"), float("-inf")][step], "acc": step / 5}, step=step)
    run.summary.update(acc=float("nan"), loss=float("inf"), gap=float("-inf"), ok=0.5)
    run.example(id="a", input="1+1", output="3", target="2", correct=False, score=float("nan"), margin=float("inf"))
    run.example(id="b", input="2+2", output="4", target="4", correct=True, score=float("-inf"))
'''

COMMANDS = [
    ["runs", "--json"], ["show", "1", "--json"], ["show", "2", "--json"], ["examples", "1", "--json"],
    ["examples", "1", "--jsonl"], ["compare", "1", "2", "--json"], ["failures", "1", "--json"],
    ["categories", "1", "--json"], ["calibration", "--json"], ["forecasts", "--json"], ["journal", "--json"],
    ["tree", "--json"], ["sweeps", "--json"], ["sweep", "show", "1", "--json"],
]


def _refuse(constant: str) -> None:
    raise ValueError(f"not JSON: {constant}")


def _strict(text: str, jsonl: bool) -> list:
    docs = text.splitlines() if jsonl else [text]
    return [json.loads(doc, parse_constant=_refuse) for doc in docs if doc.strip()]


@pytest.fixture
def diverged(project, hunch):
    (project.root / "div.py").write_text(DIVERGES)
    (project.root / "div.yaml").write_text("name: div\nentry: div:main\n")
    hunch("run", "div.yaml", "--no-predict", "-p", "acc > 0.3 @ 80%", check=0)
    hunch("sweep", "exp.yaml", "model.width=8,16", check=0)
    hunch("tag", "1", "a", "off by one", check=0)
    return project


def test_every_json_output_parses_strictly_with_non_finite_numbers_as_null(diverged, hunch):
    for args in COMMANDS:
        out = hunch(*args, check=0).stdout
        docs = _strict(out, jsonl="--jsonl" in args)
        assert docs, args
        if shutil.which("jq"):
            jq = subprocess.run(["jq", "-c", "."], input=out, capture_output=True, text=True)
            assert jq.returncode == 0, (args, jq.stderr)
    shown = json.loads(hunch("show", "1", "--json", check=0).stdout)
    assert [p["value"] for p in shown["metrics"]["loss"]][:3] == [1.0, 0.5, None]
    assert shown["summary"] == {"acc": None, "loss": None, "gap": None, "ok": 0.5}
    examples = {e["id"]: e for e in json.loads(hunch("examples", "1", "--json", check=0).stdout)}
    assert examples["a"]["fields"]["margin"] is None and examples["b"]["score"] is None


def test_human_views_still_show_nan_and_inf(diverged, hunch):
    out = hunch("show", "1", check=0).stdout
    assert "nan" in out and "inf" in out
