"""The tree, the journal, surprises and review, through the real `hunch` command."""

from __future__ import annotations

import json
import sys

from hunchlab import journal, run_records


def build_tree(hunch):
    hunch("tree", "add", "Understand capacity", "--why", "pick model sizes", check=0)
    hunch("tree", "add", "Width study", "--under", "g1", "--why", "cheapest knob", check=0)
    hunch("tree", "add", "Does width help?", "--under", "p1", "--why", "if yes use 128", check=0)
    hunch("tree", "add", "Is lr the bottleneck?", "--under", "p1", "--why", "else tune lr", check=0)


def test_tree_why_orphans_and_stale(project, hunch):
    build_tree(hunch)
    hunch("run", "exp.yaml", "--question", "q1", check=0)
    hunch("run", "exp.yaml", check=0)
    out = hunch("tree", check=0).stdout
    assert "g1 Understand capacity" in out and "q1 Does width help?" in out and "1 run" in out
    assert "why: if yes use 128" in out
    run_q1, orphan = run_records.runs(project=project)[1]["id"], run_records.runs(project=project)[0]["id"]
    why = hunch("why", run_q1, check=0).stdout.splitlines()
    assert [line.split(":")[0].strip(" ↑") for line in why] == [f"run {run_q1}", "question q1", "project p1", "goal g1"]
    assert "cheapest knob" in why[2]
    assert orphan in hunch("tree", "--orphans", check=0).stdout
    assert run_q1 not in hunch("tree", "--orphans", check=0).stdout
    stale = hunch("tree", "--stale", "0s", check=0).stdout
    assert "q2" in stale
    assert "q2" not in hunch("tree", "--stale", "14d", check=0).stdout  # just created: active now


def test_answer_drop_move_and_cycles(project, hunch):
    build_tree(hunch)
    hunch("tree", "answer", "q1", "Yes: +3 points at width 128.", check=0)
    hunch("tree", "drop", "q2", "--why", "superseded", check=0)
    out = hunch("tree", check=0).stdout
    assert "answered" in out and "Yes: +3 points" in out and "dropped" in out
    hunch("tree", "add", "Sub-question", "--under", "q1", check=0)
    proc = hunch("tree", "move", "q1", "--under", "q3")
    assert proc.returncode == 2 and "cycle" in proc.stderr
    proc = hunch("tree", "add", "x", "--under", "q7")
    assert proc.returncode == 2 and "no node 'q7'" in proc.stderr


def test_run_with_unknown_question_is_refused_and_runs_without_one_warn(project, hunch):
    proc = hunch("run", "exp.yaml", "--question", "q1")
    assert proc.returncode == 2 and "not in the tree" in proc.stderr
    assert run_records.runs(project=project) == []
    proc = hunch("run", "exp.yaml", check=0)
    assert "serves no question" in proc.stderr


def test_confident_wrong_prediction_makes_a_surprise_linked_to_run_and_question(project, hunch):
    build_tree(hunch)
    hunch("run", "exp.yaml", "--question", "q1", "-p", "acc > 0.9 @ 90%", check=0)
    rows = json.loads(hunch("journal", "--kind", "surprise", "--json", check=0).stdout)
    assert len(rows) == 1 and rows[0]["question_id"] == "q1" and not rows[0]["written_up"]
    assert "acc > 0.9 @ 90%" in hunch("surprises", check=0).stdout
    # writing it up: fill in "What I now believe"
    editor = f"{sys.executable} -c \"import sys; p=sys.argv[1]; open(p,'a').write('width is not enough\\n')\""
    hunch("note", "--edit", str(rows[0]["id"]), env={"EDITOR": editor}, check=0)
    assert "no surprises waiting" in hunch("surprises", check=0).stdout


def test_note_opens_the_editor_on_a_template_prefilled_from_the_run(project, hunch, tmp_path):
    build_tree(hunch)
    hunch("run", "exp.yaml", "--question", "q1", "-p", "acc > 0.1 @ 70%", check=0)
    hunch("run", "exp.yaml", "--question", "q1", "model.width=128", "--no-predict", check=0)
    run_id = run_records.runs(project=project)[1]["id"]
    seen = tmp_path / "seen.md"
    editor = (f"{sys.executable} -c \"import sys, shutil; shutil.copy(sys.argv[1], '{seen}'); "
              f"open(sys.argv[1], 'a').write('Width looks fine.\\n')\"")
    out = hunch("note", "--run", run_id, "--kind", "result", env={"EDITOR": editor}, check=0).stdout
    assert "saved #" in out
    template = seen.read_text()
    for heading in ("## Assumptions", "## Settings", "## Expectations", "## Results", "## Updated knowledge"):
        assert heading in template
    assert "question q1" in template and "if yes use 128" in template and "goal g1" in template
    assert "model.width = 64" in template and "acc > 0.1 @ 70%" in template and "held (actual 0.2" in template
    newer = run_records.runs(project=project)[0]["id"]
    template2 = seen
    hunch("note", "--run", newer, env={"EDITOR": editor}, check=0)
    assert "model.width: 64 → 128" in template2.read_text()
    (entry,) = [e for e in journal.entries(project=project) if e["kind"] == "result"]
    assert entry["run_id"] == run_id and entry["question_id"] == "q1" and "Width looks fine." in entry["body"]


def test_editor_failure_keeps_the_draft_and_empty_notes_are_refused(project, hunch):
    proc = hunch("note", env={"EDITOR": "false"})
    assert proc.returncode == 2 and "nothing saved" in proc.stderr and "draft is kept in" in proc.stderr
    draft = proc.stderr.split("draft is kept in ")[1].split()[0]
    assert "## Assumptions" in open(draft).read()
    proc = hunch("note", env={"EDITOR": "true"})  # saved unchanged: only headings
    assert proc.returncode == 2 and "empty" in proc.stderr
    assert hunch("note", "-m", "  ").returncode == 2
    assert journal.entries(project=project) == []


def test_journal_list_search_export_and_review(project, hunch, tmp_path):
    build_tree(hunch)
    hunch("note", "-m", "Plan: sweep the width over 32..256", "--kind", "plan", "--question", "q1", check=0)
    hunch("note", "-m", "Decided to drop the lr question", "--kind", "decision", check=0)
    assert "sweep the width" in hunch("journal", "search", "width", check=0).stdout
    assert "nothing matches" in hunch("journal", "search", "transformer", check=0).stdout
    listed = json.loads(hunch("journal", "--kind", "plan", "--json", check=0).stdout)
    assert [e["question_id"] for e in listed] == ["q1"]
    hunch("journal", "export", str(tmp_path / "notes"), check=0)
    files = sorted((tmp_path / "notes").iterdir())
    assert len(files) == 2 and files[0].read_text().startswith("---\nid: 1\nkind: plan")
    out = hunch("review", "--since", "30d", "--important", "evals", "--why-not", "no time", check=0)
    assert "Decisions: 1" in out.stdout and "Open questions without runs: 2" in out.stdout
    assert "What are the important problems" in out.stdout
    again = hunch("review", check=0).stdout
    assert "last time: evals" in again and "last time: no time" in again
