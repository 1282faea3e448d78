"""One bad event line costs that line only: torn lines, bad values written by hand or refused at
the call, and lines appended after a run was marked crashed (issue 12, items 1-3's fold side)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from hunchlab import run_records

TORN = '''
import os, signal, hunchlab
def main(run):
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    line = '{"t": "example", "d": {"id": "big", "input": "' + "x" * 3_000_000 + '"}}\\n'
    os.write(os.open(os.environ["HUNCH_EVENTS"], os.O_WRONLY | os.O_APPEND), line[:1_500_000].encode())
    os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would, in the middle of the write
'''

BY_HAND = r"""set -e
e="$HUNCH_EVENTS"
printf '{"t":"log","step":0,"m":{"x":1}}\n' >> "$e"
printf '{"t":"log","step":100000000000000000000,"m":{"x":2}}\n' >> "$e"
printf '{"t":"log","step":"3","m":{"x":3}}\n' >> "$e"
printf '{"t":"example","d":{"input":"2+2","correct":true}}\n' >> "$e"
printf '[1, 2, 3]\n' >> "$e"
printf '{"t":"exa' >> "$e"
printf '{"t":"log","step":1,"m":{"x":4}}\n' >> "$e"
printf '{"t":"log","step":2,"m":{"x":5}}\n{"t":"summary","d":{"acc":0.5}}\n' >> "$e"
"""

STEP_OUT_OF_RANGE = '''
def main(run):
    run.log({"x": 1.0}, step=0)
    run.log({"x": 2.0}, step=10**20)
'''


def _other_commands_work(hunch) -> None:
    """Every command still works on the rest of the project, a new run included."""
    hunch("run", "exp.yaml", "--no-predict", check=0)
    listed = json.loads(hunch("runs", "--json", check=0).stdout)
    assert len(listed) == 2 and listed[0]["status"] == "finished"
    hunch("show", listed[0]["id"], check=0)


def _run_spec(project, hunch, spec: str, exit_code: int) -> tuple[str, str, dict]:
    """Run a spec through `hunch run`; the run's id, what `hunch show` prints, and its record."""
    (project.root / "bad.yaml").write_text(spec)
    hunch("run", "bad.yaml", "--no-predict", check=exit_code)
    run_id = run_records.runs(project=project)[0]["id"]
    return run_id, hunch("show", run_id, check=0).stdout, run_records.get_run(run_id, project=project)


def test_a_line_torn_by_a_kill_mid_write_costs_that_line_only(project, hunch):
    (project.root / "torn.py").write_text(TORN)
    run_id, shown, run = _run_spec(project, hunch, "name: torn\nentry: torn:main\n", 1)
    assert "crashed" in shown and "1 line could not be read (first at byte" in shown
    assert [p["step"] for p in run["metrics"]["loss"]] == [0, 1, 2, 3, 4]
    assert run["status"] == "crashed" and "SIGKILL" in run["error"]  # the runner's end line was not glued on
    kept = (project.run_dir(run_id) / "events.quarantined").read_bytes()
    assert kept.startswith(b'{"t": "example", "d": {"id": "big"') and len(kept) == 1_500_001
    _other_commands_work(hunch)


def test_bad_values_written_by_hand_are_set_aside_and_everything_else_folds(project, hunch):
    (project.root / "hand.sh").write_text(BY_HAND)
    run_id, shown, run = _run_spec(project, hunch, "name: hand\ncommand: sh hand.sh\n", 0)
    assert "5 lines could not be read (first at byte" in shown and "step must be an integer" in shown
    assert [(p["step"], p["value"]) for p in run["metrics"]["x"]] == [(0, 1.0), (1, 4.0), (2, 5.0)]
    assert run["summary"] == {"acc": 0.5} and run["status"] == "finished"
    assert run["quarantine"]["lines"] == 5
    kept = (project.run_dir(run_id) / "events.quarantined").read_text().splitlines()
    assert kept == ['{"t":"log","step":100000000000000000000,"m":{"x":2}}', '{"t":"log","step":"3","m":{"x":3}}',
                    '{"t":"example","d":{"input":"2+2","correct":true}}', "[1, 2, 3]", '{"t":"exa']
    assert json.loads(hunch("show", run_id, "--json", check=0).stdout)["quarantine"]["lines"] == 5
    _other_commands_work(hunch)


def test_the_python_api_refuses_a_step_out_of_range_at_the_call(project, hunch):
    (project.root / "big.py").write_text(STEP_OUT_OF_RANGE)
    _, _, run = _run_spec(project, hunch, "name: big\nentry: big:main\n", 1)
    assert "step must be an integer between -2**63 and 2**63 - 1" in (project.run_dir(run["id"]) / "stderr.log").read_text()
    assert run["status"] == "failed" and run["quarantine"] is None and len(run["metrics"]["x"]) == 1
    _other_commands_work(hunch)


ORPHAN = """
import hunchlab, time
run = hunchlab.start(config={"kind": "orphan"})
for step in range(100):
    run.log({"x": step}, step=step)
print("ready", flush=True)
time.sleep(60)
"""


def test_lines_appended_after_a_run_was_marked_crashed_are_folded(project, hunch):
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN], cwd=project.root, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run_id = run_records.runs(project=project)[0]["id"]
    assert run_records.get_run(run_id, project=project)["status"] == "crashed"
    with open(project.run_dir(run_id) / "events.jsonl", "a") as f:  # a process the run left behind goes on
        for step in range(100, 150):
            f.write(json.dumps({"t": "log", "step": step, "time": time.time(), "m": {"x": step}}) + "\n")
        f.write('{"t": "summary", "d": {"late": 1}}\n')
    listed = json.loads(hunch("runs", "--json", check=0).stdout)
    assert listed[0]["summary"] == {"late": 1}
    run = json.loads(hunch("show", run_id, "--json", check=0).stdout)
    assert [p["step"] for p in run["metrics"]["x"]] == list(range(150)) and run["status"] == "crashed"
