"""The formal-reasoning studies end to end at their smoke budget, with every broken arm failing the check.

Each study runs through its entry with the fake Run of the test-time-compute tests,
``check`` must pass every row, and each broken arm, run the way a user would
(``hunch study run NAME key=value``), must fail it: for proof-search a value
trained on shuffled step counts (it proves no more than blind search) and a
learned search given twice the expansions (caught by the budget invariants);
for expert-iteration attempts fed back without the checker (caught by the
invariant that every fed-back proof passes it) and nothing fed back (no climb), both at a
smaller size than the smoke budget (``TINY``), as is the shuffled value (15 theorems per difficulty: its
failed searches use their whole budget, which makes it the slowest arm).
Models are cached in a temporary folder shared by the session (conftest.py), so a broken arm
that changes only the search reuses the trained value.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import fake_run
import pytest
import yaml

from hunchlab.errors import HunchError
from hunchlab.studies import get_study
from hunchlab.studies.checks import failed
from hunchlab.studies.formal_reasoning import entries
from hunchlab.studies.formal_reasoning.check import check_expert_iteration, check_proof_search
from hunchlab.studies.formal_reasoning.settings import IterationSettings, SearchSettings
from hunchlab.studies.formal_reasoning.study import STUDIES

SPECS = Path(entries.__file__).parent / "specs"
# expert iteration's broken arms run smaller than its smoke budget: each break shows at any size (unchecked
# attempts are fed back from round 0 on; with nothing fed back every round is round 0's blind search, exactly)
TINY = ("pool=30", "heldout_theorems=10", "rounds=1", "value_iters=50")


smoke_run = partial(fake_run.smoke_run, SPECS)


def test_studies_are_declared_under_formal_reasoning() -> None:
    for info in STUDIES:
        study = get_study(info["name"])
        assert study.area == "formal reasoning"
        assert yaml.safe_load(study.spec.read_text())["name"] == info["name"]
        assert study.readme.exists() and info["name"] in study.readme.read_text().splitlines()[0]


def test_bad_params_are_hunch_errors() -> None:
    with pytest.raises(HunchError, match="did you mean 'budget'"):
        SearchSettings.from_config({"budgt": 10})
    with pytest.raises(HunchError, match="targets"):
        SearchSettings.from_config({"targets": "random"})
    with pytest.raises(HunchError, match="difficulties"):
        SearchSettings.from_config({"difficulties": [0, 3]})
    with pytest.raises(HunchError, match="expected true or false"):
        IterationSettings.from_config({"warm_start": "yes"})
    with pytest.raises(HunchError, match="feedback"):
        IterationSettings.from_config({"feedback": "some"})


@pytest.mark.slow
def test_proof_search_reproduces_and_its_broken_arms_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = smoke_run(entries.proof_search, "proof_search", tmp_path / "real")
    progress = capsys.readouterr().err
    assert "[proof-search]" in progress and "ETA" in progress and "100%" in progress
    rows = check_proof_search([run.summary])
    assert rows and not failed(rows), failed(rows)
    assert any("train/value/loss" in metrics for _, metrics in run.logged)
    assert {e["arm"] for e in run.examples} == {"bfs", "learned", "heuristic"}
    assert (tmp_path / "real" / "proved_by_difficulty.png").exists() and (tmp_path / "real" / "proved_by_difficulty.csv").exists()

    shuffled = smoke_run(entries.proof_search, "proof_search", tmp_path / "shuffled", "targets=shuffled", "theorems=15")
    assert "best-first search with the learned value proves far more than breadth-first at the same budget " \
           "(deepest trained difficulty)" in failed(check_proof_search([shuffled.summary]))
    assert shuffled.summary["proved/learned/d6"] <= shuffled.summary["proved/bfs/d6"] + 0.1

    unequal = smoke_run(entries.proof_search, "proof_search", tmp_path / "unequal", "learned_budget_scale=2.0")
    assert "every arm's searches ran under the same expansion budget (as each search enforced it)" in failed(check_proof_search([unequal.summary]))


@pytest.mark.slow
def test_expert_iteration_reproduces_and_its_broken_arms_fail(tmp_path: Path) -> None:
    run = smoke_run(entries.expert_iteration, "expert_iteration", tmp_path / "real")
    rows = check_expert_iteration([run.summary])
    assert rows and not failed(rows), failed(rows)
    assert any("train/curriculum/loss" in metrics for _, metrics in run.logged)
    assert (tmp_path / "real" / "heldout_by_round.png").exists() and (tmp_path / "real" / "heldout_by_round.csv").exists()

    unverified = smoke_run(entries.expert_iteration, "expert_iteration", tmp_path / "unverified",
                           "feedback=unverified", *TINY)
    assert "every proof fed back into training passes the checker" in failed(check_expert_iteration([unverified.summary]))
    assert unverified.summary["fed_rejected/curriculum"] > 0
    leaked = {**run.summary, "overlap/hard": 3.0}  # held-out theorems in a pool: the curve would be learned by heart
    assert "no held-out theorem is in either pool (a pool that holds them learns the answers)" \
        in failed(check_expert_iteration([leaked]))

    none = smoke_run(entries.expert_iteration, "expert_iteration", tmp_path / "none", "feedback=none", *TINY)
    assert "with a pool of mixed difficulty, the share of held-out hard theorems proved climbs over the rounds" \
        in failed(check_expert_iteration([none.summary]))
    assert none.summary["climb/curriculum"] == 0.0  # nothing learned: every round searches blind
