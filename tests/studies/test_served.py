"""Self-consistency on a served model: the pieces, then the study through the real `hunch` against a toy endpoint.

The endpoint is ``models.serve.Server`` on 127.0.0.1 serving the test-time compute
study's toy generator (``toy_endpoint``), with a bearer key; the real client drives it.
The toy samples at its own temperature, 1.0 (the spec's 0.7 is the paper's, for
language models). Models and completions are cached in a folder shared by the module,
so the broken arms reuse the completions the real arm asked for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import hunchlab
from hunchlab.models.serve import Call, Reply, Server
from hunchlab.studies.checks import failed
from hunchlab.studies.served.check import check_self_consistency_served
from hunchlab.studies.served.experiment import Settings, plurality, table
from hunchlab.studies.served.problems import make_problems, parse_answer, read_prompt
from hunchlab.studies.served.toy_endpoint import MODEL, toy_model, working

KEY = "sk-toy-5f3a9c1e-do-not-print"
RUN = ["study", "run", "self-consistency-served", "--budget", "smoke", "--no-predict", "-q", "--model", MODEL,
       "temperature=1.0"]


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUNCH_CACHE_DIR", str(folder))
        patch.setenv("TOY_KEY", KEY)
        yield folder


@pytest.fixture(scope="module")
def respond(cache: Path) -> Callable[[Call], Reply]:
    return toy_model()  # trains the toy generator once (about 2 s), into the module's cache


@pytest.fixture
def served(project: hunchlab.Project) -> hunchlab.Project:
    (project.hunch_dir / "settings.yaml").write_text(
        "model_key_env: TOY_KEY\nmodel_prices: {toy-dial: {input: 0.5, output: 1.5}}\n")
    return project


# ---------------------------------------------------------------------------------- pieces


def test_problems_are_fixed_by_their_seed_and_read_back_from_the_prompt() -> None:
    problems = make_problems((2, 8), 20, 0)
    assert problems == make_problems((2, 8), 20, 0) and problems != make_problems((2, 8), 20, 1)
    assert [p.id for p in problems[:2]] == ["k2-000", "k2-001"] and {len(p.moves) for p in problems} == {2, 8}
    for p in problems:
        assert read_prompt(p.prompt) == (p.start, p.moves) and p.answer == (p.start + sum(p.moves)) % 10
        assert parse_answer(working(p.start, p.moves, [p.answer] * len(p.moves))) == p.answer
    assert parse_answer("Answer: 3 ... wait. **Answer:** 7") == 7 and parse_answer("it is 7") is None


def test_the_vote_takes_the_most_common_answer_and_ties_go_to_the_first_seen() -> None:
    assert plurality([3, None, 5, 5, 3]) == 3 and plurality([None, 5, 3, 3]) == 3 and plurality([None]) is None


def table_of(answers: list[list[object]], vote: str = "majority") -> dict[str, float]:
    """The table for hand-made answers per problem: "R" is the right answer, None no answer line."""
    problems = make_problems((2,), len(answers), 0)
    texts = [["no idea" if a is None else f"Answer: {p.answer if a == 'R' else a}" for a in pool]
             for p, pool in zip(problems, answers, strict=True)]
    s = Settings(endpoint="http://x", model="m", k_values=(2,), n_problems=len(answers), n_samples=4,
                 n_values=(1, 2, 4), vote=vote)
    return table(problems, texts, s, seed=0).metrics


def test_budgets_and_votes_are_counted_from_what_the_votes_used() -> None:
    wrong = 10  # never a digit's answer
    m = table_of([["R", "R", wrong, None], [wrong, wrong, "R", "R"], [None, None, None, None]])
    assert m["samples/asked"] == 12 and m["samples/used/single"] == 12
    assert [m[f"samples/per_vote/maj/n{n}"] for n in (1, 2, 4)] == [1, 2, 4]
    assert m["acc/single"] == pytest.approx((2 / 4 + 2 / 4 + 0) / 3) and m["answered"] == pytest.approx(7 / 12)
    assert m["acc/maj/n4"] == pytest.approx(1 / 3)  # problem 2's tie goes to its first-seen answer, wrong
    assert m["acc/pass/n4"] == pytest.approx(2 / 3) and m["vote/non_plurality"] == 0
    assert check_self_consistency_served([m])[-1]["kind"] == "claim"


def test_the_check_fails_a_leaky_vote_and_unequal_budgets() -> None:
    rng = random.Random(0)
    answers: list[list[object]] = [["R" if rng.random() < 0.4 else rng.randrange(10) for _ in range(4)]
                                   for _ in range(40)]
    leaky = table_of(answers, vote="oracle")
    assert leaky["vote/non_plurality"] > 0
    assert "every vote picked its group's most common answer (no answer key in the vote)" in failed(
        check_self_consistency_served([leaky]))
    fair = table_of(answers)
    assert not [c for c in failed(check_self_consistency_served([fair])) if "vote" in c and "picked" in c]
    unequal = {**fair, "samples/per_vote/maj/n4": 3.0}
    assert any("used n samples" in c for c in failed(check_self_consistency_served([unequal])))


# ---------------------------------------------------------------------------------- end to end


def test_the_study_reproduces_on_a_served_model_and_reruns_from_the_cache(served, hunch, respond, cache) -> None:
    with Server(respond, model=MODEL, key=KEY) as toy:
        out = hunch(*RUN, "--endpoint", toy.url, check=0)
        asked = toy.requests
    assert asked == 3 * 30 * 16  # K x problems x N, each sample asked once
    check = hunch("study", "check", "self-consistency-served")
    assert check.returncode == 0 and "finding reproduced" in check.stdout, check.stdout
    (run,) = hunchlab.runs(project=served)
    record = hunchlab.get_run(run["id"], project=served)
    usage = record["models"][MODEL]
    assert (usage["requests"], usage["cached"]) == (asked, 0) and usage["output_tokens"] > 0
    assert usage["cost_usd"] == pytest.approx((usage["input_tokens"] * 0.5 + usage["output_tokens"] * 1.5) / 1e6)
    assert record["params"]["endpoint"] == toy.url and len(record["examples"]) == 90
    example = record["examples"][0]
    assert example["id"] == "k2-000" and "×" in example["fields"]["votes"] and "Answer:" in example["output"]
    assert f"model {MODEL}: {asked:,} completions (0 from the cache)" in hunch("show", run["id"], check=0).stdout

    rerun = hunch("rerun", run["id"], "--check")  # the server is gone: every sample comes from the cache
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    new = hunchlab.get_run(hunchlab.runs(project=served)[0]["id"], project=served)
    assert new["models"][MODEL]["cached"] == asked and new["models"][MODEL]["cost_usd"] == 0.0
    assert new["summary"] == record["summary"]
    for text in (out.stdout, out.stderr, rerun.stdout, rerun.stderr):
        assert KEY not in text
    for folder in (served.hunch_dir, cache):
        assert not [p for p in folder.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]


def test_broken_votes_fail_the_check(served, hunch, respond) -> None:
    with Server(respond, model=MODEL, key=KEY) as toy:
        for vote, failing in (("random", "majority vote over N samples beats one sample"),
                              ("oracle", "every vote picked its group's most common answer")):
            hunch(*RUN, "--endpoint", toy.url, f"vote={vote}", check=0)
            check = hunch("study", "check", "self-consistency-served")
            assert check.returncode == 1 and f"✗ {failing}" in check.stdout.replace("✗ fair: ", "✗ "), check.stdout
