"""The store can always be rebuilt: losing store.db loses nothing that was acknowledged (issue 12).

The test project gets everything a person types (tree nodes, a moved and an answered
node, run predictions including one that files a surprise, a group prediction, a
forecast resolved by hand, a paper reading with guesses, notes, a rewritten entry,
failure tags, a sweep) and the `--json` of every view is compared before the store is
lost and after `hunch store rebuild`.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from hunchlab.ids import sequence_of

VIEWS = [["runs", "--json"], ["calibration", "--json"], ["tree", "--json"], ["journal", "--json"],
         ["categories", "1", "--json"], ["forecasts", "--all", "--json"], ["sweeps", "--json"],
         ["sweep", "show", "1", "--json"], ["show", "1", "--json"], ["show", "2", "--json"],
         ["examples", "1", "--json"], ["journal", "search", "width", "--json"]]


def _views() -> dict[str, object]:
    """Every view's --json, through the CLI's own code in this process (a dozen fresh interpreters cost ~20 s)."""
    from click.testing import CliRunner

    from hunchlab.cli import cli

    out = {}
    for args in VIEWS:
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        out[" ".join(args)] = json.loads(result.stdout)
    return out


@pytest.fixture
def typed(project, hunch):
    """A project where a person has typed one of everything the store keeps (runs through `hunch`, the rest
    through the library calls behind the commands)."""
    from hunchlab import journal, predict, tree, triage

    tree.add("Know what width does", why="it decides the next model", project=project)
    tree.add("Width study", under="g1", why="the cheap way in", project=project)
    tree.add("Does width help?", under="p1", why="the first fork", project=project)
    tree.add("Does depth help?", under="g1", kind="question", why="the other fork", project=project)
    tree.move("q2", under="p1", project=project)
    hunch("run", "exp.yaml", "--question", "q1", "-p", "acc > 0.5 @ 90%", check=0)  # acc 0.2: a surprise
    hunch("run", "exp.yaml", "model.width=8", "--seeds", "2", "-p", "acc > 0.1 @ 60%", check=0)
    tree.answer("q1", "No: width 8 and 64 give the same accuracy.", project=project)
    predict.add_forecast("width stops mattering past 128", 0.4, "2099-01-01", project=project)
    second = predict.add_forecast("a second forecast", 0.7, "2098-01-01", tags=["interp"], project=project)
    predict.resolve(second["id"], "yes", note="it did", project=project)
    reading = predict.add_reading("Scaling Laws", guesses=["alpha in [0.05, 0.1] @ 60%"], matters="70%",
                                  project=project)
    predict.resolve_reading(reading["id"], {"alpha": 0.076}, project=project)
    journal.add_note("# Width is noise\nWidth changed nothing at this scale.", run_ref="1", project=project)
    triage.tag("1", "e2", "arithmetic slip", project=project)
    triage.tag("1", "e1", "lucky", note="right for the wrong reason", project=project)
    triage.tag("1", "e1", clear=True, project=project)
    triage.tag("2", "e2", "arithmetic slip", project=project)
    hunch("sweep", "exp.yaml", "model.width=4,16", check=0)
    return project


def test_deleting_store_db_then_rebuilding_gives_back_every_view(typed, hunch):
    before = _views()
    assert hunch("store", "check", check=0).stdout.strip().endswith("ok")
    for path in typed.hunch_dir.glob("store.db*"):
        path.unlink()
    lost = hunch("runs")
    assert lost.returncode == 2 and "Traceback" not in lost.stderr and "hunch store rebuild" in lost.stderr
    assert hunch("store", "check").returncode == 1
    done = json.loads(hunch("store", "rebuild", "--json", check=0).stdout)
    assert done["runs"] == 5 and done["old"] is None
    after = _views()
    for view in VIEWS:
        key = " ".join(view)
        assert after[key] == before[key], key
    assert hunch("store", "check", check=0).returncode == 0
    hunch("run", "exp.yaml", "--no-predict", check=0)  # the rebuilt store takes new work
    hunch("note", "-m", "after the rebuild", check=0)
    assert [e["title"] for e in json.loads(hunch("journal", "--json", check=0).stdout)][0] == "after the rebuild"


def test_a_damaged_store_is_rebuilt_and_kept_beside_the_new_one(project, hunch):
    hunch("run", "exp.yaml", "--no-predict", check=0)
    hunch("forecast", "it rains", "--p", "0.3", "--by", "2099-01-01", check=0)
    before = [json.loads(hunch(*v, check=0).stdout) for v in (["runs", "--json"], ["forecasts", "--json"])]
    db = project.hunch_dir / "store.db"
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    with open(db, "r+b") as f:
        f.write(b"not a database!!")
    damaged = hunch("runs")
    assert damaged.returncode == 2 and "damaged" in damaged.stderr and "Traceback" not in damaged.stderr
    report = json.loads(hunch("store", "check", "--json").stdout)
    assert report["ok"] is False and report["integrity"]
    done = json.loads(hunch("store", "rebuild", "--json", check=0).stdout)
    assert done["old"] and (project.hunch_dir / done["old"].rsplit("/", 1)[1]).read_bytes().startswith(b"not a")
    assert [json.loads(hunch(*v, check=0).stdout) for v in (["runs", "--json"], ["forecasts", "--json"])] == before


def test_store_check_reports_drift_between_the_store_and_the_run_folders(project, hunch):
    for _ in range(3):
        hunch("run", "exp.yaml", "--no-predict", check=0)
    runs = sorted((p.name for p in project.runs_dir.iterdir()), key=sequence_of)
    con = sqlite3.connect(project.hunch_dir / "store.db")
    con.execute("DELETE FROM runs WHERE seq = 1")
    con.commit()
    con.close()
    with open(project.runs_dir / runs[1] / "events.jsonl", "a") as f:  # a line after the end: nobody folds it
        f.write('{"t": "log", "step": 99, "time": 1.0, "m": {"late": 1.0}}\n')
    report = json.loads(hunch("store", "check", "--json").stdout)
    assert report["missing"] == [runs[0]] and report["unfolded"] == [runs[1]] and not report["ok"]
    text = hunch("store", "check")
    assert text.returncode == 1 and "hunch store rebuild" in text.stdout
    hunch("store", "rebuild", check=0)
    assert json.loads(hunch("store", "check", "--json", check=0).stdout)["ok"] is True
    assert "late" in json.loads(hunch("show", runs[1], "--json", check=0).stdout)["metrics"]


def test_a_ledger_line_torn_by_a_crash_is_left_out(project, hunch):
    hunch("note", "-m", "kept", check=0)
    with open(project.hunch_dir / "ledger.jsonl", "a") as f:
        f.write('{"op": "insert", "table": "journal", "row": {"id": 9, "ti')  # no newline: cut mid-write
    for path in project.hunch_dir.glob("store.db*"):
        path.unlink()
    hunch("store", "rebuild", check=0)
    assert [e["title"] for e in json.loads(hunch("journal", "--json", check=0).stdout)] == ["kept"]
