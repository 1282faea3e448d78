"""Reward over-optimisation: best-of-N against a learned judge, and against the policy itself.

Gao et al. 2022 optimise a policy against a proxy reward model and score the
result with a gold one; with best-of-N the gold score rises, then falls, as N
grows, while the proxy's own score keeps rising, and the gold score follows
``d (alpha - beta d)`` with ``d = sqrt(KL)`` and ``KL = log N - (N - 1) / N``,
the KL divergence of best-of-N from the policy. Here:

- the policy is the test-time-compute generator and the judges are that
  study's verifiers (``test_time_compute.experiment.build_models``, same
  cache): the **outcome judge** learned from one label per chain (is the
  answer right?), the **process judge** from a label per step;
- the gold score is the checker's: is the picked chain's answer right;
- the **self-judge** is the policy's own log-likelihood of the chain, the
  self-reward of Huang et al. 2024's "sharpening": the policy judging itself.

For every N the pool of ``max(n_values)`` sampled chains per test problem is cut
into disjoint groups of N (as in the test-time studies), and each judge picks
one chain per group. ``pick: argmin`` is the broken arm: best-of-N that takes
the chain the judge likes least.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import torch

from hunchlab.errors import SpecError
from hunchlab.studies.params import from_params
from hunchlab.studies.self_improvement import policy as pol
from hunchlab.studies.test_time_compute import experiment as ttc
from hunchlab.studies.test_time_compute.world import MAX_STEPS, answer_correct, solve, step_correct
from hunchlab.studies.training import Callback

WHERE = "reward-overoptimisation study"
PICKS = ("argmax", "argmin")
JUDGES = ("outcome", "process", "self")


@dataclass(frozen=True)
class OveroptSettings:
    """Every knob of the reward over-optimisation study; a spec's ``params`` override these defaults.

    The policy and judge knobs have the test-time studies' names and defaults
    (``judge_*`` are their ``verifier_*``), so both areas share trained models.
    Measured behind the budgets: N stops at 128 because the process judge is
    still within 0.001 of its best there (5 runs) but began to dip at 256 (by
    0.02 in one of 3 seeds); 1,000 test problems keep a random judge's apparent
    rise under 0.04 (100 draws), below the check's 0.05; training the policy and
    both judges takes about 28 s of CPU per seed, evaluation about 3 s.
    """

    k: int = 4  # chain length of the test problems
    n_values: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)  # best-of-N budgets
    n_test: int = 1000  # test problems
    pick: str = "argmax"  # "argmax" (best-of-N); broken arm: "argmin"
    k_values: tuple[int, ...] = (2, 4, 8)  # chain lengths the judges learn from
    data_seed: int = 0
    holdout_frac: float = 0.15  # share of the step table the policy never sees
    temperature: float = 1.0
    generator_iters: int = 600
    judge_problems: int = 1000  # training problems per chain length for the judges
    judge_samples: int = 8  # policy chains per judge training problem
    judge_iters: int = 1500  # training of each judge; a longer-trained outcome judge is exploited later
    seeds: int = 2  # training seeds in one run; figures get intervals when > 1
    examples: int = 6  # test problems whose picks are kept as per-example records (first seed)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OveroptSettings:
        """Settings from a run's params, failing with a SpecError on unknown names or bad values."""
        s = from_params(cls, config, WHERE)
        return replace(s, n_values=tuple(sorted(s.n_values))).validated()

    def validated(self) -> OveroptSettings:
        def bad(what: str, fix: str) -> SpecError:
            return SpecError(what, where=WHERE, fix=fix)

        if any(k < 1 or k > MAX_STEPS for k in (self.k, *self.k_values)) or not self.k_values:
            raise bad(f"chain lengths k={self.k}, k_values={list(self.k_values)}", f"use lengths from 1 to {MAX_STEPS}")
        n_max = max(self.n_values, default=0)
        if len(self.n_values) < 3 or self.n_values[0] != 1 or any(n_max % n for n in self.n_values):
            raise bad(f"n_values {list(self.n_values)}",
                      "give at least three budgets that start at 1 and divide the largest, e.g. powers of 2")
        if self.pick not in PICKS:
            raise bad(f"pick '{self.pick}'", f"use one of {', '.join(PICKS)}")
        if min(self.n_test, self.seeds, self.judge_problems, self.judge_samples, self.judge_iters) < 1:
            raise bad("a count param is below 1", "n_test, seeds and the judge sizes must be >= 1")
        if self.temperature <= 0:
            raise bad(f"temperature {self.temperature}", "use a temperature above 0")
        return self

    def ttc(self) -> ttc.Settings:
        """The test-time studies' settings that build the same policy and judges."""
        return ttc.Settings(k_values=self.k_values, n_test=self.n_test, data_seed=self.data_seed,
                            holdout_frac=self.holdout_frac, temperature=self.temperature,
                            generator_iters=self.generator_iters, verifier_problems=self.judge_problems,
                            verifier_samples=self.judge_samples, verifier_iters=self.judge_iters)


@dataclass
class OveroptResult:
    metrics: dict[str, float]  # summary metrics of one seed
    records: list[dict[str, Any]]  # the judges' picks on a few test problems


def best_of_n_kl(n: float) -> float:
    """KL(best-of-N || policy) = log N - (N - 1) / N nats (Gao et al. 2022, sec. 2; Stiennon et al. 2020).

    Defined for real N >= 1 too, so ``kl_to_n`` can invert it between budgets.
    """
    return math.log(n) - (n - 1) / n


def run_overopt(s: OveroptSettings, seed: int, log: Callable[[str], Callback] | None = None) -> OveroptResult:
    """Every judge's best-of-N at every N on the test problems: gold and proxy, the fit and the peak."""
    t = s.ttc()
    models = ttc.build_models(t, seed, log)
    problems = ttc.split_for(t, s.k).test
    pool = ttc.sample_candidates(models, problems, max(s.n_values), s.temperature, ttc.rng(seed, s.k, ttc.TEST))
    table = pol.step_table(models.generator, s.temperature)
    scores = {"outcome": pool.orm, "process": pool.prm, "self": pol.log_likelihood(table, problems, pool.chains)}
    sign = 1.0 if s.pick == "argmax" else -1.0
    metrics = {"single": pool.correct.float().mean().item(),
               "greedy": answer_correct(problems, pol.greedy_chains(table, problems)).float().mean().item()}
    for n in s.n_values:
        correct = pool.correct.reshape(-1, n)  # (P * N_max / n, n): disjoint groups, as ttc.Candidates.groups
        metrics[f"kl/n{n}"] = best_of_n_kl(n)
        metrics[f"gold/oracle/n{n}"] = correct.any(dim=1).float().mean().item()  # pass@N: a right chain is there
        for judge, score in scores.items():
            grouped = score.reshape(-1, n)
            index = (sign * grouped).argmax(dim=1)  # (groups,)
            metrics[f"gold/{judge}/n{n}"] = correct.gather(1, index[:, None]).float().mean().item()
            metrics[f"proxy/{judge}/n{n}"] = grouped.gather(1, index[:, None]).mean().item()
    metrics |= shape(metrics, s.n_values)
    metrics["outcome_labels_per_chain"] = outcome_labels_per_chain(models, t, seed)
    return OveroptResult(metrics, pick_records(pool, scores, sign, max(s.n_values), s.examples))


def fit(d: list[float], gain: list[float]) -> tuple[float, float, float]:
    """Least squares of ``gain = d (alpha - beta d)`` (through the origin): (alpha, beta, R^2)."""
    x = torch.tensor([[di, -di * di] for di in d], dtype=torch.float64)  # (n, 2)
    y = torch.tensor(gain, dtype=torch.float64)[:, None]  # (n, 1)
    coef = torch.linalg.lstsq(x, y).solution[:, 0]
    residual = float(((x @ coef[:, None] - y) ** 2).sum())
    total = float(((y - y.mean()) ** 2).sum())
    return float(coef[0]), float(coef[1]), 1 - residual / total if total > 0 else float("nan")


def kl_to_n(kl: float) -> float:
    """The N whose best-of-N KL is ``kl``, by bisection (the KL grows with N)."""
    lo, hi = 1.0, 2.0
    while best_of_n_kl(hi) < kl:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if best_of_n_kl(mid) < kl else (lo, mid)
    return (lo + hi) / 2


def shape(m: dict[str, float], n_values: tuple[int, ...]) -> dict[str, float]:
    """The curves' shape: the outcome judge's rise, peak and fall, the fit, and the other judges' gains."""
    gold = {j: [m[f"gold/{j}/n{n}"] for n in n_values] for j in JUDGES}  # each judge's curve over N
    proxy = [m[f"proxy/outcome/n{n}"] for n in n_values]
    peak = max(range(len(n_values)), key=lambda i: gold["outcome"][i])
    d = [math.sqrt(best_of_n_kl(n)) for n in n_values]
    alpha, beta, r2 = fit(d, [g - gold["outcome"][0] for g in gold["outcome"]])
    out = {
        "outcome/peak_n": float(n_values[peak]),
        "outcome/rise": gold["outcome"][peak] - gold["outcome"][0],
        "outcome/fall": gold["outcome"][peak] - gold["outcome"][-1],
        "outcome/proxy_rise_after_peak": proxy[-1] - proxy[peak],
        "outcome/proxy_rise": proxy[-1] - proxy[0],
        "fit/alpha": alpha,
        "fit/beta": beta,
        "fit/r2": r2,
        "fit/peak_n": kl_to_n((alpha / (2 * beta)) ** 2) if alpha > 0 and beta > 0 else float("nan"),
        "process/gain": gold["process"][-1] - gold["process"][0],
        "process/rise_after_outcome_peak": gold["process"][-1] - gold["process"][peak],
        "process/drop_from_peak": max(gold["process"]) - gold["process"][-1],
        "self/gain": gold["self"][-1] - gold["self"][0],
        "self/minus_greedy": gold["self"][-1] - m["greedy"],
        "process_minus_self": gold["process"][-1] - gold["self"][-1],
    }
    out["self/abs_minus_greedy"] = abs(out["self/minus_greedy"])
    oracle = [m[f"gold/oracle/n{n}"] for n in n_values]
    out["process/share_of_oracle_gain"] = out["process/gain"] / max(oracle[-1] - oracle[0], 1e-9)
    out["outcome/share_of_oracle_gain_at_peak"] = out["outcome/rise"] / max(oracle[peak] - oracle[0], 1e-9)
    return out


def outcome_labels_per_chain(models: ttc.Models, t: ttc.Settings, seed: int) -> float:
    """The most distinct labels any training chain of the outcome judge had: 1 when it saw only outcomes.

    Rebuilds the judges' training data (the same seeded samples ``build_models``
    trained on) and counts, per chain, the distinct targets over its steps.
    """
    _, _, orm_y = ttc.verifier_data(models.generator, t, seed)  # (M, 8), -1 padding
    valid = orm_y >= 0
    highest = torch.where(valid, orm_y, -1).max(dim=1).values
    lowest = torch.where(valid, orm_y, 2).min(dim=1).values
    return float(1 + (highest != lowest).any())


def pick_records(pool: ttc.Candidates, scores: dict[str, torch.Tensor], sign: float, n: int,
                 count: int) -> list[dict[str, Any]]:
    """Each judge's pick among all N candidates on the first ``count`` problems, with where it went wrong."""
    out = []
    truth = solve(pool.problems[:count])
    for judge, score in scores.items():
        index = (sign * score[:count]).argmax(dim=1)
        for i in range(min(count, len(pool.problems))):
            chain = pool.chains[i, int(index[i])]
            steps = step_correct(pool.problems[i : i + 1], chain[None])[0]
            first_wrong = int((~steps).nonzero()[0]) + 1 if not steps.all() else 0
            out.append({
                "id": f"{judge}-n{n}-p{i}",
                "input": pool.problems.describe(i),
                "output": ttc.chain_text(chain),
                "target": ttc.chain_text(truth[i]),
                "correct": bool(pool.correct[i, int(index[i])]),
                "score": float(score[i, int(index[i])]),
                "judge": judge,
                "n": n,
                "first_wrong_step": first_wrong,
                "chains": ttc.chains_summary(pool.chains[i]),
            })
    return out
