"""The two study entries: what ``hunch run`` / ``hunch study run`` call with a Run.

Each entry runs its science once per seed (``run.seed``, ``run.seed + 1000``,
...), then reports through the run: training losses with ``run.log``, the mean
over seeds as summary metrics (the check reads these), a 95% interval over
seeds beside each per-round STaR accuracy, worked examples with
``run.example``, and figures (each with its CSV and a script that redraws it)
as artifacts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from hunchlab.studies.runtime import set_threads, settings_from
from hunchlab.studies.self_improvement.overoptimisation import OveroptSettings, best_of_n_kl, run_overopt
from hunchlab.studies.self_improvement.star import StarSettings, run_star
from hunchlab.studies.training import Callback

Metrics = dict[str, float]

STAR_CURVES = ("step_acc", "step_acc_seen", "step_acc_unseen")  # per round, besides answer_acc/k{K}
FILTER_CURVES = {"kept": "share kept", "kept_all_steps_right": "kept, every step right"}
JUDGE_LABELS = {"outcome": "outcome judge", "process": "process judge", "self": "self-judge", "oracle": "pass@N"}


@settings_from(StarSettings.from_config)
def star(run: Any) -> None:
    """STaR: rounds of sample -> keep the right answers -> retrain (Zelikman et al. 2022)."""
    s = StarSettings.from_config(run.config)
    results = [run_star(s, seed, _train_log(run, seed)) for seed in _seeds(run, s.seeds)]
    per_seed = [r.metrics for r in results]
    curves = [*STAR_CURVES, *(f"answer_acc/k{k}" for k in s.test_k)]
    _report(run, per_seed, intervals=[f"{c}/r{r}" for c in curves for r in range(s.rounds + 1)])
    for r in range(s.rounds + 1):
        run.log({f"star/{c}": _mean(per_seed, f"{c}/r{r}") for c in curves}, step=r)
    for record in results[0].records:
        run.example(**record)
    from hunchlab.plots import param_curve  # lazy: loads numpy only when called

    figures = run.dir / "figures"
    labels = {"step_acc": "steps: all", "step_acc_seen": "steps: taught", "step_acc_unseen": "steps: held out",
              **{f"answer_acc/k{k}": f"answers: K={k}" for k in s.test_k}}
    param_curve(_points(per_seed, labels, range(s.rounds + 1), lambda c, r: f"{c}/r{r}"), "STaR round",
                "accuracy", figures / "star_accuracy.png")
    param_curve(_points(per_seed, FILTER_CURVES, range(s.rounds), lambda c, r: f"{c}/r{r}"),
                "STaR round", f"filter: {s.filter}", figures / "star_filter.png")
    run.artifact(figures)


@settings_from(OveroptSettings.from_config)
def reward_overoptimisation(run: Any) -> None:
    """Best-of-N against an outcome judge, a process judge and the policy itself (Gao et al. 2022)."""
    s = OveroptSettings.from_config(run.config)
    results = [run_overopt(s, seed, _train_log(run, seed)) for seed in _seeds(run, s.seeds)]
    per_seed = [r.metrics for r in results]
    _report(run, per_seed, intervals=[])
    for record in results[0].records:
        run.example(**record)
    from hunchlab.plots import param_curve  # lazy: loads numpy only when called

    figures = run.dir / "figures"
    n = s.n_values
    gao = {"gold/outcome": "gold (answer right)", "proxy/outcome": "proxy (judge's score)"}
    points = _points(per_seed, gao, n, lambda c, x: f"{c}/n{x}", x=lambda x: round(math.sqrt(best_of_n_kl(x)), 4))
    param_curve(points + _fit_points(per_seed, n), "d = √KL(best-of-N ‖ policy)",
                "outcome judge's pick", figures / "overoptimisation.png")
    judges = {f"gold/{j}": label for j, label in JUDGE_LABELS.items()}
    points = _points(per_seed, judges, n, lambda c, x: f"{c}/n{x}", x=lambda x: int(math.log2(x)))
    points += [{"group": "greedy", "x": int(math.log2(x)), "values": _values(per_seed, "greedy")} for x in n]
    param_curve(points, "log2 N", "gold accuracy of the pick", figures / "judges.png")
    run.artifact(figures)


def _seeds(run: Any, count: int) -> list[int]:
    """Seeds 1000 apart, so runs with seeds 0, 1, 2 never share one."""
    set_threads()
    return [run.seed + 1000 * i for i in range(count)]


def _train_log(run: Any, seed: int) -> Callable[[str], Callback]:
    """Training losses as ``train/<model>/loss``, suffixed ``/seed<s>`` for every seed but the first."""
    suffix = "" if seed == run.seed else f"/seed{seed}"

    def log(name: str) -> Callback:
        return lambda step, loss: run.log({f"train/{name}/loss{suffix}": loss}, step=step)

    return log


def _values(per_seed: Sequence[Metrics], name: str) -> list[float]:
    """One metric's finite values over the seeds (a round that kept nothing has no filter precision)."""
    return [m[name] for m in per_seed if math.isfinite(m[name])]


def _mean(per_seed: Sequence[Metrics], name: str) -> float:
    values = _values(per_seed, name)
    return sum(values) / len(values) if values else math.nan


def _report(run: Any, per_seed: Sequence[Metrics], intervals: Sequence[str]) -> None:
    """The mean over seeds of every metric, and a 95% t-interval over seeds for ``intervals``."""
    from hunchlab.intervals import mean_ci  # lazy: loads numpy only when called

    for name in per_seed[0]:
        mean = _mean(per_seed, name)
        if math.isfinite(mean):
            run.summary[name] = mean
    for name in intervals:
        ci = mean_ci(_values(per_seed, name))
        if ci.lo is not None and ci.hi is not None:
            run.summary[f"{name}/lo"], run.summary[f"{name}/hi"] = ci.lo, ci.hi


def _points(per_seed: Sequence[Metrics], curves: dict[str, str], xs: Sequence[int],
            metric: Callable[[str, int], str], x: Callable[[int], Any] = lambda v: v) -> list[dict[str, Any]]:
    """``param_curve`` points: one group per curve, one point per x, the seeds' values at each."""
    return [{"group": label, "x": x(v), "values": _values(per_seed, metric(curve, v))}
            for curve, label in curves.items() for v in xs]


def _fit_points(per_seed: Sequence[Metrics], n_values: Sequence[int]) -> list[dict[str, Any]]:
    """Each seed's fitted gold, ``gold(N=1) + d (alpha - beta d)``, at every budget's d."""
    points = []
    for n in n_values:
        d = math.sqrt(best_of_n_kl(n))
        values = [m["gold/outcome/n1"] + d * (m["fit/alpha"] - m["fit/beta"] * d) for m in per_seed]
        points.append({"group": "fit d(α − βd)", "x": round(d, 4), "values": values})
    return points
