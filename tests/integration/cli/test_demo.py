"""`hunch demo` walks the whole loop in a fresh folder, as the README's `make demo` does.

The demo is built once per session (``demo`` in tests/integration/conftest.py); this test reads a copy.
"""

from __future__ import annotations

import subprocess
import sys

from hunchlab import run_records
from hunchlab.project import find_project


def test_demo_runs_every_step_and_leaves_a_project_to_explore(demo, tmp_path):
    proc = demo.proc  # `hunch demo hunch-demo`, built once for the session (conftest.py)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    demo.copy(tmp_path / "d")
    assert "✓ compared 2 summary values, 3 metric histories, 300 example records: all match, reproduced" in proc.stdout
    assert "Welch" in proc.stdout or "difference" in proc.stdout  # the compare table
    project = find_project(tmp_path / "d")
    runs = run_records.runs(project=project)
    assert {r["status"] for r in runs} == {"finished"} and len(runs) >= 12
    assert (tmp_path / "d" / "curves.png").stat().st_size > 10_000
    assert any(r["question"] == "q1" for r in runs)
    first = run_records.get_run(runs[-1]["id"], project=project)
    assert first["predictions"] and first["n_examples"] == 300 and first["code"]["commit"]
    assert proc.stdout.count("$ hunch ") >= 15


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("mine")
    proc = subprocess.run([sys.executable, "-m", "hunchlab", "demo", "d"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "not empty" in proc.stderr
