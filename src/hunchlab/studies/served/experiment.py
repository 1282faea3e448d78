"""Self-consistency on a served model: N sampled answers per problem, a vote against one sample.

Wang et al. 2022 sample several reasoning paths at a temperature above 0 and answer with
the most common final answer; one sampled path is the baseline. Here every problem gets
one pool of N samples (``n_samples``), and each budget n in ``n_values`` cuts the pool
into N/n disjoint groups, so accuracy at n averages N/n votes per problem (n = 1 is the
single-sample accuracy over all N samples), as the toy study does with its 64 chains.

The comparison's fairness is counted, not assumed (the check's invariants read these):

- ``samples/asked``: completions requested, P x N;
- ``samples/used/single`` and ``samples/used/maj/n{n}``: samples the single-sample
  estimate and each budget's votes consumed (each must be the whole pool, once);
- ``samples/per_vote/maj/n{n}``: samples per vote, counted (each must be n);
- ``vote/non_plurality``: votes whose answer was not the most common answer of their
  group (must be 0: an answer key leaking into the vote shows up here first).

The vote rule is a param so the check can be shown to catch broken methods: ``random``
answers with a random sample of the group (no better than one sample), ``oracle`` with
the correct answer whenever a sample has it (a leak of the answer key).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from hunchlab.studies.params import StudySettings
from hunchlab.studies.served.problems import Problem, parse_answer

VOTES = ("majority", "random", "oracle")


@dataclass(frozen=True)
class Settings(StudySettings):
    """The study's knobs; a spec's ``params`` override these defaults."""

    endpoint: str = ""  # the server's base URL (--endpoint), e.g. http://localhost:8000/v1
    model: str = ""  # the model it serves (--model)
    k_values: tuple[int, ...] = (2, 4, 8)  # turns per problem: the difficulty
    n_problems: int = 50  # problems per K
    n_samples: int = 16  # N: samples per problem, the pool every budget votes from
    n_values: tuple[int, ...] = (1, 2, 4, 8, 16)  # budgets: samples per vote
    temperature: float = 0.7  # Wang et al. sample GPT-3 at T = 0.7
    max_tokens: int = 400  # room for step-by-step working on 8 turns
    data_seed: int = 0  # fixes the problems; the run's seed fixes the samples
    vote: str = "majority"  # broken arms: random, oracle
    system: str = ""  # an optional system prompt

    where: ClassVar[str] = "self-consistency-served study"

    def validated(self) -> Settings:
        if not self.endpoint or not self.model:
            raise self.invalid("no model to sample from",
                               "give one: hunch study run self-consistency-served --endpoint URL --model NAME")
        if self.vote not in VOTES:
            raise self.invalid(f"vote '{self.vote}'", f"use one of {', '.join(VOTES)}")
        if min(self.n_problems, self.n_samples, self.max_tokens, *self.k_values, *self.n_values) < 1:
            raise self.invalid("a count param is below 1", "k_values, n_problems, n_samples, n_values, max_tokens >= 1")
        if any(self.n_samples % n for n in self.n_values):
            raise self.invalid(f"a budget in n_values {list(self.n_values)} does not divide n_samples {self.n_samples}",
                               "use budgets that divide n_samples, e.g. powers of 2 up to it")
        if self.temperature <= 0:
            raise self.invalid(f"temperature {self.temperature}", "sample above 0: at 0 every sample is the same")
        return self

    @property
    def budgets(self) -> list[int]:
        """The budgets, always including N (where the claim is measured)."""
        return sorted({*self.n_values, self.n_samples})


@dataclass
class Result:
    metrics: dict[str, float]
    records: list[dict[str, Any]]  # run.example keyword arguments, one per problem


def plurality(answers: Sequence[int | None]) -> int | None:
    """The most common answer (None is no answer and never votes); a tie goes to the one seen first."""
    counts = Counter(a for a in answers if a is not None)
    return max(counts, key=lambda a: (counts[a], -answers.index(a))) if counts else None


def vote(answers: Sequence[int | None], rule: str, target: int, rng: random.Random) -> int | None:
    if rule == "random":
        return rng.choice(list(answers))
    if rule == "oracle" and target in answers:
        return target
    return plurality(answers)


def _is_plurality(pick: int | None, answers: Sequence[int | None]) -> bool:
    counts = Counter(a for a in answers if a is not None)
    return (pick is None and not counts) or (pick is not None and counts[pick] == max(counts.values(), default=0))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def table(problems: Sequence[Problem], texts: Sequence[Sequence[str]], s: Settings, seed: int) -> Result:
    """Every metric and record from the completions, ``texts[p][i]`` for sample i of problem p."""
    rng = random.Random(seed)  # only the random broken arm draws from it
    answers = [[parse_answer(t) for t in pool] for pool in texts]
    right = [[a == p.answer for a in pool] for p, pool in zip(problems, answers, strict=True)]
    single = [_mean([float(r) for r in rs]) for rs in right]
    metrics: dict[str, float] = {"samples/asked": float(sum(len(pool) for pool in answers)),
                                 "samples/used/single": float(sum(len(rs) for rs in right)),
                                 "answered": _mean([float(a is not None) for pool in answers for a in pool]),
                                 "vote/non_plurality": 0.0, "n_samples": float(s.n_samples)}
    metrics.update(_by_k("acc/single", single, problems))
    maj_at: dict[int, list[float]] = {}
    picks_at_n: list[int | None] = []
    for n in s.budgets:
        maj, oracle, picks = [], [], []
        used = votes = 0
        for p, pool in zip(problems, answers, strict=True):
            groups = [list(pool[g * n:(g + 1) * n]) for g in range(len(pool) // n)]
            chosen = [vote(group, s.vote, p.answer, rng) for group in groups]
            used, votes = used + sum(len(g) for g in groups), votes + len(groups)
            metrics["vote/non_plurality"] += sum(not _is_plurality(c, g) for c, g in zip(chosen, groups, strict=True))
            maj.append(_mean([float(c == p.answer) for c in chosen]))
            oracle.append(_mean([float(p.answer in g) for g in groups]))
            picks.append(chosen[0])
        maj_at[n], picks_at_n = maj, picks
        metrics.update(_by_k("acc/maj", maj, problems, n) | _by_k("acc/pass", oracle, problems, n))
        metrics.update({f"samples/used/maj/n{n}": float(used), f"samples/per_vote/maj/n{n}": used / max(votes, 1)})
    metrics.update(_gap(single, maj_at[s.n_samples], metrics, s.n_samples))
    return Result(metrics, _records(problems, texts, answers, single, picks_at_n))


def _by_k(name: str, per_problem: Sequence[float], problems: Sequence[Problem], n: int | None = None) -> dict[str, float]:
    """``name[/n{n}]`` over all problems and ``name/k{K}[/n{n}]`` per difficulty."""
    at = f"/n{n}" if n is not None else ""
    out = {f"{name}{at}": _mean(per_problem)}
    for k in sorted({p.k for p in problems}):
        out[f"{name}/k{k}{at}"] = _mean([v for v, p in zip(per_problem, problems, strict=True) if p.k == k])
    return out


def _gap(single: list[float], maj: list[float], metrics: dict[str, float], n: int) -> dict[str, float]:
    """Majority at N minus one sample over problems, with ``hunch compare``'s paired sign-flip test and interval.

    A per-problem difference lies in [-1, 1], and the interval is cut there; an interval
    the data cannot bound is NaN, which the check reads as "not measured".
    """
    from hunchlab.paired import paired_test  # lazy: loads numpy only when called

    test = paired_test(single, maj, bounds=(-1.0, 1.0))
    return {"acc/maj": metrics[f"acc/maj/n{n}"], "acc/pass": metrics[f"acc/pass/n{n}"],
            "gap/maj_minus_single": test.mean_diff,
            "gap/maj_minus_single/lo": float("nan") if test.lo is None else test.lo,
            "gap/maj_minus_single/hi": float("nan") if test.hi is None else test.hi,
            "gap/maj_minus_single/p": test.p}


def _records(problems: Sequence[Problem], texts: Sequence[Sequence[str]], answers: Sequence[Sequence[int | None]],
             single: list[float], picks: list[int | None]) -> list[dict[str, Any]]:
    """One record per problem: the vote over all N samples, a sample that gave its answer, the votes."""
    out = []
    for p, pool, parsed, share, pick in zip(problems, texts, answers, single, picks, strict=True):
        counts = Counter("none" if a is None else str(a) for a in parsed)
        shown = pool[parsed.index(pick)] if pick in parsed else pool[0]
        out.append({"id": p.id, "input": p.prompt, "target": str(p.answer), "output": shown,
                    "correct": pick == p.answer, "score": share, "k": p.k, "answer": pick,
                    "votes": " · ".join(f"{a}×{c}" for a, c in counts.most_common())})
    return out
