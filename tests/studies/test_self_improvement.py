"""The self-improvement studies: the pieces, then each study end to end at its smoke budget.

The end-to-end tests run each study through its entry with the fake Run of the
test-time-compute tests, assert that its check passes every row, and run each
broken arm to assert that the check then fails on its *claims* (not only on an
invariant that names the broken param): STaR without a filter and against
shuffled answers, and best-of-N that takes the lowest-scored chain. Models are
cached in a temporary folder shared by the session (conftest.py), so the broken
arms reuse the base policy and the judges, and the test-time-compute tests reuse
the judges (their verifiers, at the same settings).
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Any

import fake_run
import pytest
import torch
import yaml

from hunchlab.errors import HunchError
from hunchlab.studies import get_study
from hunchlab.studies.checks import TOO_LARGE, failed
from hunchlab.studies.self_improvement import entries, policy
from hunchlab.studies.self_improvement.check import check_reward_overoptimisation, check_star
from hunchlab.studies.self_improvement.overoptimisation import OveroptSettings, best_of_n_kl, fit, kl_to_n
from hunchlab.studies.self_improvement.star import Sampled, StarSettings, filter_stats, step_cap
from hunchlab.studies.self_improvement.study import STUDY_INFO
from hunchlab.studies.test_time_compute.world import N_OPS, N_VALUES, Problems, apply, solve

SPECS = Path(entries.__file__).parent / "specs"


smoke_run = partial(fake_run.smoke_run, SPECS)


def claims_failed(rows: list[dict[str, Any]]) -> list[str]:
    return [row["claim"] for row in rows if row["kind"] == "claim" and not row["passed"]]


def perfect_table() -> torch.Tensor:
    """A policy that always takes the right step, (10, 20, 10)."""
    value, op = torch.meshgrid(torch.arange(N_VALUES), torch.arange(N_OPS), indexing="ij")
    return torch.nn.functional.one_hot(apply(value, op), N_VALUES).float()


# ---------------------------------------------------------------------------
# The pieces


def test_a_perfect_policy_is_right_everywhere_and_a_uniform_one_at_chance() -> None:
    problems = Problems(torch.tensor([3, 5]), torch.tensor([[7, 12, 9], [0, 19, 1]]))
    table = perfect_table()
    assert policy.step_accuracy(table) == 1.0
    assert policy.answer_accuracy(table, problems) == 1.0
    assert torch.equal(policy.greedy_chains(table, problems), solve(problems))
    uniform = torch.full((N_VALUES, N_OPS, N_VALUES), 0.1)
    assert policy.step_accuracy(uniform) == pytest.approx(0.1)
    assert policy.answer_accuracy(uniform, problems) == pytest.approx(0.1)
    chains = solve(problems)[:, None, :]  # (2, 1, 3)
    assert policy.log_likelihood(uniform, problems, chains).flatten().tolist() == pytest.approx([3 * math.log(0.1)] * 2)


def test_a_lucky_wrong_chain_still_counts_toward_answer_accuracy() -> None:
    """Two compensating wrong steps end on the right answer, as a sampled chain can."""
    table = perfect_table()
    table[3, 7] = torch.nn.functional.one_hot(torch.tensor(1), N_VALUES).float()  # 3+7 -> 1 (wrong: 0)
    table[1, 12] = torch.nn.functional.one_hot(torch.tensor(8), N_VALUES).float()  # 1-2 -> 8 (wrong: 9)
    problems = Problems(torch.tensor([3]), torch.tensor([[7, 12]]))  # right chain 0 8
    assert policy.answer_accuracy(table, problems) == 1.0
    assert policy.greedy_chains(table, problems).tolist() == [[1, 8]]


def test_best_of_n_kl_and_its_inverse() -> None:
    assert best_of_n_kl(1) == 0.0
    assert best_of_n_kl(64) == pytest.approx(math.log(64) - 63 / 64)
    assert kl_to_n(best_of_n_kl(7.0)) == pytest.approx(7.0, rel=1e-6)


def test_the_fit_recovers_a_known_curve() -> None:
    d = [math.sqrt(best_of_n_kl(n)) for n in (1, 2, 4, 8, 16, 32, 64)]
    alpha, beta, r2 = fit(d, [x * (0.3 - 0.2 * x) for x in d])
    assert (alpha, beta, r2) == pytest.approx((0.3, 0.2, 1.0))


def test_filter_stats_count_what_the_filter_let_through() -> None:
    problems = Problems(torch.tensor([3, 3, 3]), torch.tensor([[7, 12]] * 3))  # right chain 0 8
    chains = torch.tensor([[0, 8], [1, 9], [0, 9]])  # right; first step wrong, answer wrong; last step wrong
    stats = filter_stats(Sampled(problems, chains, torch.tensor([True, True, False])))
    assert stats == {"kept": pytest.approx(2 / 3), "kept_all_steps_right": 0.5, "kept_wrong_answer": 1.0,
                     "trained": 1.0}


def test_the_step_cap_is_set_by_label_smoothing() -> None:
    assert step_cap() == pytest.approx(0.91)


def test_bad_params_are_hunch_errors() -> None:
    with pytest.raises(HunchError, match="did you mean 'filter'"):
        StarSettings.from_config({"filtr": "none"})
    with pytest.raises(HunchError, match="filter 'random'"):
        StarSettings.from_config({"filter": "random"})
    with pytest.raises(HunchError, match="star_k"):
        StarSettings.from_config({"star_k": [2, 9]})
    with pytest.raises(HunchError, match="did you mean 'pick'"):
        OveroptSettings.from_config({"pik": "argmin"})
    with pytest.raises(HunchError, match="start at 1"):
        OveroptSettings.from_config({"n_values": [2, 4, 8]})
    with pytest.raises(HunchError, match="expected a list of integers"):
        OveroptSettings.from_config({"n_values": "1,2,4"})
    assert StarSettings.from_config({"star_k": [4, 1]}).star_k == (4, 1)  # a curriculum keeps its order


def test_study_info_points_at_the_specs_and_pages() -> None:
    for name, info in STUDY_INFO.items():
        assert yaml.safe_load((SPECS.parent / info["spec"]).read_text())["name"] == name
        assert info["area"] == "self-improvement"
        study = get_study(name)
        assert study.readme.exists() and study.readme.name != "README.md"
        assert study.minutes > 0


def test_an_effect_beyond_the_mechanism_is_flagged_not_passed() -> None:
    """A policy that closed more than the whole gap to the cap learned from something else: the check says so."""
    summary = {"gain/step_acc": 0.3, "gap_closed/step_acc_unseen": 1.2, "gain/answer_acc": 0.2,
               "gain/step_acc_seen": 0.0, "kept_wrong_answer": 0.0, "rounds_trained": 5.0, "rounds": 5.0}
    rows = check_star([summary])
    assert [row["verdict"] for row in rows if not row["passed"]] == [TOO_LARGE]


# ---------------------------------------------------------------------------
# The studies, with their broken arms


@pytest.mark.slow
def test_star_reproduces_and_fails_without_its_filter(tmp_path: Path) -> None:
    run = smoke_run(entries.star, "star", tmp_path / "real")
    rows = check_star([run.summary])
    assert rows and not failed(rows), failed(rows)
    assert run.summary["step_acc/r3/lo"] < run.summary["step_acc/r3"] < run.summary["step_acc/r3/hi"]
    assert (tmp_path / "real" / "figures" / "star_accuracy.csv").exists()
    assert {e["round"] for e in run.examples} == {0, 1, 2}
    for arm in ("none", "shuffled"):  # one STaR seed of three (5 s of CPU each, under 2 s): the break is far
        # larger than seed noise; step-accuracy gain -0.096 | -0.097 against the 0.04 threshold, held-out gap
        # closed 0.012 | 0.006 against 0.10, answer gain -0.017 | -0.017 against 0.035, taught steps -0.222 |
        # -0.220 against -0.03: all four claims fail on seed 0, as on the mean of three (-0.094 | -0.081 ...)
        broken = smoke_run(entries.star, "star", tmp_path / arm, f"filter={arm}", "seeds=1")
        assert len(claims_failed(check_star([broken.summary]))) >= 3, arm
        assert broken.summary["gain/step_acc"] < 0  # it unlearns, it does not merely stall


@pytest.mark.slow
def test_reward_overoptimisation_reproduces_and_fails_when_picking_the_lowest(tmp_path: Path) -> None:
    run = smoke_run(entries.reward_overoptimisation, "reward_overoptimisation", tmp_path / "real")
    rows = check_reward_overoptimisation([run.summary])
    assert rows and not failed(rows), failed(rows)
    assert 1 < run.summary["outcome/peak_n"] < 64
    assert {e["judge"] for e in run.examples} == {"outcome", "process", "self"}
    for name in ("overoptimisation.png", "judges.png", "judges.csv", "judges_plot.py"):
        assert (tmp_path / "real" / "figures" / name).exists()

    # 200 test problems, not 1,000 (1.7 s of CPU, 0.7 s): the break is not noise-sized; gold peaks at N=1 (a rise
    # of 0.0 against 0.05) and the judge's own score falls after it (-0.319 against 0.05; -0.313 at 1,000)
    broken = smoke_run(entries.reward_overoptimisation, "reward_overoptimisation", tmp_path / "argmin", "pick=argmin",
                       "n_test=200")
    lost = claims_failed(check_reward_overoptimisation([broken.summary]))
    assert "the outcome judge's own score keeps rising after gold has peaked (largest N minus the peak)" in lost
    assert "best-of-N against the outcome judge first raises gold accuracy (peak minus N=1)" in lost
