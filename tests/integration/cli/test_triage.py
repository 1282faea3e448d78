"""Failure triage through the real `hunch`: examples, failures (in a pseudo-terminal too), tag, categories."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sys
import time
from collections.abc import Callable

import pytest

import hunchlab
from hunchlab import triage
from hunchlab.project import Project

TOPICS = ("algebra", "geometry", "counting")


def make_run(project: Project, n: int = 60, wrong: Callable[[int], bool] = lambda i: i % 2 == 0,
             examples: bool = True) -> str:
    """A finished run whose examples q000.. fail where ``wrong(i)``; topics cycle through TOPICS."""
    with hunchlab.start(config={"n": n}, name="eval", project=project.root) as run:
        for i in range(n if examples else 0):
            answer = 2 * i + (1 if wrong(i) else 0)
            run.example(id=f"q{i:03d}", input=f"What is {i} + {i}?", output=f"The answer is {answer}",
                        target=f"The answer is {2 * i}", correct=not wrong(i), score=0.0 if wrong(i) else 1.0,
                        topic=TOPICS[i % 3])
    return run.id


def assert_clean_error(proc, *needles):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def sample_ids(hunch, run_id: str, *args: str) -> list[str]:
    out = hunch("failures", run_id, "--json", *args, check=0).stdout
    return [item["example_id"] for item in json.loads(out)["items"]]


# -- examples ------------------------------------------------------------------------------
def test_examples_filter_and_export_whole(project, hunch):
    run_id = make_run(project)
    out = hunch("examples", run_id, "--where", "correct=false", "--where", "topic=algebra", "--jsonl", check=0).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [f"q{i:03d}" for i in range(0, 60, 6)]
    assert rows[0] == {"id": "q000", "correct": False, "score": 0.0, "input": "What is 0 + 0?",
                       "output": "The answer is 1", "target": "The answer is 0", "fields": {"topic": "algebra"}}
    table = list(csv.DictReader(io.StringIO(hunch("examples", run_id, "--where", "score<0.5", "--csv", check=0).stdout)))
    assert len(table) == 30 and table[0]["topic"] == "algebra" and table[0]["target"] == "The answer is 0"
    shown = hunch("examples", run_id, "-w", "output~ANSWER IS 11", "-n", "1", check=0).stdout
    assert "q055" in shown and "showing 1 of 5" in shown  # q055-q059 answer 110, 113, 114, 117, 118
    assert "input" in shown and "What is 55 + 55?" in shown  # the table shows what the model was asked


def test_where_on_an_unknown_field_lists_the_fields(project, hunch):
    run_id = make_run(project, n=6)
    assert_clean_error(hunch("examples", run_id, "--where", "topc=algebra"),
                       "no example of run", "'topc'", "did you mean 'topic'", "fields: id, correct, score", "topic")
    assert_clean_error(hunch("failures", run_id, "--where", "level>2"), "'level'")


def test_a_run_without_examples_says_how_to_log_them(project, hunch):
    run_id = make_run(project, examples=False)
    for command in ("examples", "failures", "categories"):
        assert_clean_error(hunch(command, run_id), "has no example records", "run.example(id=")


# -- sampling ------------------------------------------------------------------------------
def test_the_sample_is_random_reproducible_and_only_failures(project, hunch):
    run_id = make_run(project, n=200)
    first = sample_ids(hunch, run_id, "--sample", "10")
    assert first == sample_ids(hunch, run_id, "--sample", "10")
    other = sample_ids(hunch, run_id, "--sample", "10", "--seed", "1")
    assert other != first
    assert sorted(first) != [f"q{i:03d}" for i in range(0, 20, 2)]  # not the first ten failures
    assert all(int(i[1:]) % 2 == 0 for i in first + other)
    assert sample_ids(hunch, run_id, "--sample", "25", "--seed", "1")[:10] == other  # grows, keeping what was drawn


def test_a_stratified_sample_gives_every_value_its_share(project, hunch):
    run_id = make_run(project, n=300, wrong=lambda i: i % 3 == 0 or i % 5 == 0)  # algebra fails most
    sample = json.loads(hunch("failures", run_id, "--json", "--sample", "20", "--by", "topic", check=0).stdout)
    population = dict(sample["population"])
    by_topic = {t: sum(1 for i in sample["items"] if i["stratum"] == t) for t in population}
    assert population == {"algebra": 100, "counting": 20, "geometry": 20}
    assert by_topic == {"algebra": 14, "counting": 3, "geometry": 3}


def test_a_sample_larger_than_the_failures_takes_all_and_says_so(project, hunch):
    run_id = make_run(project, n=10)
    proc = hunch("failures", run_id, "--sample", "100", check=0)
    assert f"asked for 100 but run {run_id} has only 5 failures: took all 5" in proc.stderr
    assert "sample of 5 from 5 failures" in proc.stdout
    sample = json.loads(hunch("failures", run_id, "--json", check=0).stdout)
    assert (sample["size"], sample["asked"], len(sample["items"])) == (5, 100, 5)  # the real size, and what was asked
    assert sample_ids(hunch, run_id, "--sample", "3") == [i["example_id"] for i in sample["items"]][:3]  # a prefix


def test_reading_failures_without_sample_never_replaces_the_stored_one(project, hunch):
    run_id = make_run(project, n=60)
    drawn = sample_ids(hunch, run_id, "--sample", "7", "--seed", "4")
    assert sample_ids(hunch, run_id) == drawn  # no --sample: the stored sample, whatever its size and seed
    assert_clean_error(hunch("failures", run_id, "--seed", "5"), "would replace it", "--sample N")
    assert sample_ids(hunch, run_id) == drawn  # the refused read changed nothing
    assert len(sample_ids(hunch, run_id, "--sample", "9", "--seed", "5")) == 9  # an explicit --sample draws anew


def test_no_failures_and_no_matches_are_plain_messages(project, hunch):
    run_id = make_run(project, n=6, wrong=lambda i: False)
    assert_clean_error(hunch("failures", run_id), "has no failing examples: 6 of 6 are correct")
    run_id = make_run(project, n=6)
    assert_clean_error(hunch("failures", run_id, "--where", "topic=nope"), "match topic=nope")


def test_sampling_reads_the_index_not_the_records(project):
    """The queries behind a sample must be answerable from the covering index (no record text read)."""
    from sqlalchemy import func, select, text

    from hunchlab.run_records import parse_where
    from hunchlab.store import open_store, schema
    from hunchlab.store import triage as q

    run_id = make_run(project, n=30)
    ex = schema.examples.c
    with open_store(project) as store, store.read() as conn:
        where = q.condition(conn, run_id, [parse_where("topic=algebra"), parse_where("score<1")], failures=True)
        for stmt in (select(func.count()).select_from(schema.examples).where(where),  # q.count
                     select(ex.example_id).where(where, ex.example_id > "q0").order_by(ex.example_id).offset(3).limit(1),  # q.ids_at
                     select(ex.example_id, q.json_field(conn, "topic").as_string()).where(where)):  # q.ids_and_strata
            plan = " ".join(str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + str(
                stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})))))
            assert "COVERING INDEX ix_examples_triage" in plan, plan


# -- tags and categories -------------------------------------------------------------------
def tag_sample(project: Project, run_id: str, plan: list[str | None]) -> list[str]:
    """Tag the sample's items in walking order with ``plan`` (None: skip); returns the ids."""
    with triage.open_failures(run_id, sample=len(plan), project=project) as session:
        for position, category in enumerate(plan):
            if category:
                session.tag(position, category)
        return [i["example_id"] for i in session.items]


def test_categories_largest_first_with_intervals_and_untagged(project, hunch):
    run_id = make_run(project, n=200)
    tag_sample(project, run_id, ["off by one"] * 6 + ["parse"] * 3 + ["units"] + [None] * 2)
    report = json.loads(hunch("categories", run_id, "--json", check=0).stdout)
    assert [(r["category"], r["count"]) for r in report["rows"]] == [("off by one", 6), ("parse", 3), ("units", 1)]
    assert (report["sampled"], report["tagged"], report["untagged"], report["failures"]) == (12, 10, 2, 100)
    top = report["rows"][0]
    assert top["share"] == pytest.approx(0.6) and top["low"] < 0.6 < top["high"] and top["high"] - top["low"] > 0.3
    text = hunch("categories", run_id, check=0).stdout
    assert text.index("off by one") < text.index("parse") < text.index("units") < text.index("untagged")
    assert "60% (" in text and "10 of a sample of 12, from 100 failures" in text


def test_vs_counts_how_many_of_each_category_the_other_run_gets_right(project, hunch):
    run_id = make_run(project, n=100)
    ids = tag_sample(project, run_id, ["sign"] * 4 + ["units"] * 2)
    fixed = set(ids[:3])  # the "fix" repairs three of the four sign errors and nothing else
    other = make_run(project, n=100, wrong=lambda i: i % 2 == 0 and f"q{i:03d}" not in fixed)
    report = json.loads(hunch("categories", run_id, "--vs", other, "--json", check=0).stdout)
    assert [(r["category"], r["vs_right"], r["vs_wrong"]) for r in report["rows"]] == [("sign", 3, 1), ("units", 0, 2)]
    assert f"right in {other}" in hunch("categories", run_id, "--vs", other, check=0).stdout


def test_plot_draws_the_bar_chart(project, hunch):
    run_id = make_run(project, n=40)
    tag_sample(project, run_id, ["a", "a", "b"])
    proc = hunch("categories", run_id, "--plot", "cats.png", check=0)
    assert "wrote" in proc.stderr
    assert (project.root / "cats.png").stat().st_size > 1000 and (project.root / "cats_plot.py").exists()
    assert (project.root / "cats.csv").read_text().splitlines()[1].startswith("a,")


def test_tag_one_example_and_from_a_csv_all_or_nothing(project, hunch):
    run_id = make_run(project, n=20)
    assert hunch("tag", run_id, "q002", "sign", "--note", "minus dropped", check=0).stdout.strip() == \
        f"{run_id} q002 → sign · note: minus dropped"
    hunch("tag", run_id, "q002", "units", check=0)  # a new category keeps the note
    assert triage.tag(run_id, "q002", project=project, note="still") == {
        "run_id": run_id, "example_id": "q002", "category": "units", "note": "still", "agent": None}
    assert_clean_error(hunch("tag", run_id, "q02", "x"), "no example 'q02'", "did you mean")
    (project.root / "tags.csv").write_text("id,category,note\nq004,parse,\nq999,parse,\nq006,,just a note\n")
    assert_clean_error(hunch("tag", run_id, "--from", "tags.csv"), "tags.csv:3", "no example 'q999'")
    assert triage.categories(run_id, project=project).tagged == 1  # nothing from the file was written
    (project.root / "tags.csv").write_text("id,category,note\nq004,parse,\nq006,,just a note\n")
    assert hunch("tag", run_id, "--from", "tags.csv", check=0).stdout.strip() == "tagged 2 examples from tags.csv"
    assert [r.category for r in triage.categories(run_id, project=project).rows] == ["parse", "units"]
    assert_clean_error(hunch("tag", run_id, "--from", "nope.csv"), "nope.csv", "file not found")


def test_tags_carry_across_runs_by_example_id(project):
    first = make_run(project, n=40)
    ids = tag_sample(project, first, ["sign", "units"])
    later = make_run(project, n=40)
    with triage.open_failures(later, sample=40, project=project) as session:
        position = next(i["position"] for i in session.items if i["example_id"] == ids[0])
        earlier = session.example(position)["earlier"]
        assert [(e["run_id"], e["category"]) for e in earlier] == [(first, "sign")]
        assert session.categories[:2] == ["sign", "units"]  # keys offered from the start


# -- the full-screen view, in a pseudo-terminal ---------------------------------------------
def spawn(project: Project, *args: str, rows: int = 30, cols: int = 100):
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("HUNCH_DIR", None)
    return pexpect.spawn(sys.executable, ["-m", "hunchlab", *args], cwd=str(project.root), env=env,
                         dimensions=(rows, cols), encoding="utf-8", timeout=30)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.1)


def counts(project: Project, run_id: str) -> dict[str, int]:
    return {r.category: r.count for r in triage.categories(run_id, project=project).rows}


def test_walk_tag_with_keys_quit_halfway_and_resume(project):
    run_id = make_run(project, n=100)
    child = spawn(project, "failures", run_id, "--sample", "20")
    child.expect("example 1/20")
    child.send("n")
    child.send("sign\r")  # a new category, typed: becomes key 1
    wait_for(lambda: counts(project, run_id) == {"sign": 1}, "the first tag to be saved")
    child.send("1")
    wait_for(lambda: counts(project, run_id) == {"sign": 2}, "the second tag")
    child.send("n")
    child.send("units\r")
    wait_for(lambda: counts(project, run_id) == {"sign": 2, "units": 1}, "the third tag")
    child.send("q")
    child.expect("3/20 read, 2 categories")
    child.expect(f"hunch failures {run_id} --resume continues")
    child.expect(pytest.importorskip("pexpect").EOF)
    child.close()
    assert child.exitstatus == 0

    child = spawn(project, "failures", run_id, "--resume")
    child.expect("example 4/20")  # the first example not yet read
    child.send("2")  # units, by key
    wait_for(lambda: counts(project, run_id) == {"sign": 2, "units": 2}, "the tag after resuming")
    child.kill(signal.SIGKILL)  # no clean quit: what was typed is already saved
    child.close()
    assert counts(project, run_id) == {"sign": 2, "units": 2}
    assert sum(1 for i in triage.failures(run_id, resume=True, project=project).items if i["category"]) == 4


def test_a_terminal_too_small_is_refused_in_one_line(project):
    run_id = make_run(project, n=10)
    child = spawn(project, "failures", run_id, rows=8, cols=60)
    child.expect("the terminal is 60×8; the failures view needs at least 50×12")
    child.expect(pytest.importorskip("pexpect").EOF)
    child.close()
    assert child.exitstatus == 2
