"""Real inspect_ai evals as runs, through the real `hunch`: run, examples, failures, categories --vs, compare, import.

Every eval is a real `inspect eval` on inspect's mock model provider (no network, no key),
on the task in inspect_tasks.py; each takes about 7 s of CPU, most of it importing inspect.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

import hunchlab

from .inspect_tasks import BROKEN, CARRY, PAIRS, TASK, slips

pytest.importorskip("inspect_ai")
pytestmark = pytest.mark.slow
EVAL = [sys.executable, "-m", "inspect_ai", "eval", "arith.py", "--display", "none"]


def _eval_run(hunch, *args: str) -> str:
    out = hunch("run", "--no-predict", "--", *EVAL, *args, check=0).stdout
    return out.split("✓ run ", 1)[1].split()[0]


def _json(hunch, *args: str):
    return json.loads(hunch(*args, "--json", check=0).stdout)


@pytest.fixture
def arith(project):
    (project.root / "arith.py").write_text(TASK)
    return project


def test_an_eval_run_through_hunch_run_is_read_compared_and_triaged(arith, hunch):
    plain = _eval_run(hunch, "-T", "prompt=plain")
    careful = _eval_run(hunch, "-T", "prompt=careful")

    record = hunchlab.get_run(plain, project=arith)
    assert record["params"]["task"] == "arith" and record["params"]["task_args"] == {"prompt": "plain", "noisy": False}
    assert record["params"]["model"] == "mockllm/model" and record["params"]["epochs"] == 1
    assert record["summary"]["accuracy"] == pytest.approx(0.6) and "stderr" in record["summary"]
    assert record["models"]["mockllm/model"]["input_tokens"] == 12 * len(PAIRS)
    assert record["captured"]["inspect"]["samples"] == len(PAIRS)
    assert str(arith.run_dir(plain)) in record["captured"]["inspect"]["note"]  # logs kept with the run

    rows = {r["id"]: r for r in _json(hunch, "examples", plain)}
    assert set(rows) == {f"arith:q{i}" for i in range(len(PAIRS))}
    q3 = rows["arith:q3"]  # 36 + 47 without the carry
    assert q3["correct"] is False and q3["score"] == 0.0 and q3["output"] == "36 + 47 = 73" and q3["target"] == "83"
    assert q3["input"] == "What is 36 + 47?" and q3["fields"]["carry"] is True and q3["fields"]["tens"] == 3
    assert q3["fields"]["input_tokens"] == 12 and q3["fields"]["output_tokens"] == 5

    failures = _json(hunch, "failures", plain, "--sample", "100")
    assert failures["failures"] == len(CARRY)
    assert {i["example_id"] for i in failures["items"]} == {f"arith:{q}" for q in CARRY}
    for item in failures["items"]:
        hunch("tag", plain, item["example_id"], "no carry", check=0)
    rows = _json(hunch, "categories", plain, "--vs", careful)["rows"]
    assert [(r["category"], r["count"], r["vs_right"], r["vs_wrong"]) for r in rows] == [("no carry", 4, 4, 0)]

    compared = _json(hunch, "compare", plain, careful)
    assert [row["key"] for row in compared["config"]] == ["task_args.prompt"]
    paired = compared["paired"][0]
    assert paired["n_shared"] == len(PAIRS)
    assert paired["flips"]["n_wrong_to_right"] == len(CARRY) and paired["flips"]["n_right_to_wrong"] == 0
    assert paired["accuracy"]["mean_diff"] == pytest.approx(0.4) and paired["mcnemar"]["b10"] == len(CARRY)


def test_epochs_are_one_record_per_sample_and_pair_sample_by_sample(arith, hunch):
    noisy = _eval_run(hunch, "-T", "noisy=true", "--epochs", "3")
    once = _eval_run(hunch, "-T", "noisy=true")
    rows = {r["id"]: r for r in _json(hunch, "examples", noisy)}
    assert len(rows) == len(PAIRS)
    for i, (a, _) in enumerate(PAIRS):
        right = sum(f"q{i}" not in CARRY and not slips(a, k) for k in range(3))
        row = rows[f"arith:q{i}"]
        assert row["fields"]["epochs"] == 3 and row["fields"]["epochs_correct"] == right, row
        assert row["score"] == pytest.approx(right / 3) and row["correct"] is (right >= 2), row
        assert len(row["fields"]["epoch_outputs"]) == 3 and row["fields"]["input_tokens"] == 36
    record = hunchlab.get_run(noisy, project=arith)
    expected = sum(r["score"] for r in rows.values()) / len(PAIRS)
    assert record["summary"]["accuracy"] == pytest.approx(expected)  # inspect's metric over the reduced scores

    paired = _json(hunch, "compare", noisy, once)["paired"][0]
    assert paired["n_shared"] == len(PAIRS)  # samples, not samples x epochs
    assert paired["score"]["n"] == len(PAIRS) and paired["accuracy"]["n"] == len(PAIRS)


def test_eval_logs_import_once_each_with_their_status(arith, hunch, tmp_path):
    logs = tmp_path / "logs"
    hunch("run", "--no-predict", "--", *EVAL, "--log-dir", str(logs), check=0)
    for log in logs.glob("*.eval"):  # as if the next run started right after: within the clock slack
        os.utime(log, (time.time(), time.time()))
    (arith.root / "broken.py").write_text(BROKEN)
    failed = hunch("run", "--no-predict", "--", *EVAL[:4], "broken.py", "--display", "none", "--log-dir", str(logs))
    assert failed.returncode == 1 and "inspect eval failed: RuntimeError" in failed.stderr, failed.stderr  # inspect exits 0
    assert len(list(logs.glob("*.eval"))) == 2  # --log-dir in the command was followed

    before = {r["id"] for r in hunchlab.runs(project=arith)}
    out = hunch("import", "inspect", str(logs), check=0).stdout
    assert "imported 2 run(s), 0 metric points, 20 examples" in out, out
    assert "1 already imported" in hunch("import", "inspect", str(next(logs.glob("*.eval"))), check=0).stdout
    new = [hunchlab.get_run(r["id"], project=arith) for r in hunchlab.runs(project=arith) if r["id"] not in before]
    by_status = {r["status"]: r for r in new}
    assert set(by_status) == {"finished", "failed"}
    good, bad = by_status["finished"], by_status["failed"]
    assert good["imported"]["from"] == "inspect" and good["summary"]["accuracy"] == pytest.approx(0.6)
    assert len(good["examples"]) == len(PAIRS) and good["params"]["task"] == "arith"
    assert "the scorer broke" in bad["error"] and not bad["summary"]
    assert all(e["correct"] is None and "the scorer broke" in e["fields"]["error"] for e in bad["examples"])
    assert hunch("rerun", good["id"]).returncode == 2  # an imported eval's code is not here


def test_a_file_that_is_not_an_eval_log_is_a_clean_error(arith, hunch):
    proc = hunch("import", "inspect", "arith.py")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "is not an eval log inspect_ai can read" in proc.stderr
