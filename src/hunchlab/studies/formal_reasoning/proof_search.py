"""Study 1, the science: does a learned value make proof search far better than blind search at equal budget?

Train the value on random walks, make test theorems by difficulty, and prove
each with three arms at the same expansion budget: breadth-first (blind),
best-first by the learned value, and best-first by the hand-made subterm
heuristic (the reference arm). Returns the result table as plain metrics,
which ``entries.py`` reports and ``check.py`` judges.

Besides the share proved per difficulty (with a 95% Wilson interval), the
table holds what makes the comparison fair, counted rather than assumed: the
budget each arm's searches enforced and the most expansions any of them used,
how many failed searches stopped before their budget (a crippled blind arm
would), how many theorems each searched, how many of its claimed proofs the checker
rejected, how many of its proofs are shorter than breadth-first's (which finds
shortest proofs, so any would mean a broken search or checker), and how many test
theorems occur in the value's training data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hunchlab.calibration import wilson_interval
from hunchlab.studies.formal_reasoning.guides import (
    Pairs,
    fit_value,
    learned_guide,
    new_value,
    pairs_from,
    shuffled,
    subterm_guide,
    walk_paths,
)
from hunchlab.studies.formal_reasoning.model import TreeValue
from hunchlab.studies.formal_reasoning.proving import Attempt, GuideMaker, attempt, theorem_set
from hunchlab.studies.formal_reasoning.settings import SearchSettings
from hunchlab.studies.formal_reasoning.syntax import Theorem, show
from hunchlab.studies.training import Callback, cached

AREA = "formal_reasoning"  # the model cache's subfolder
ARMS = ("bfs", "learned", "heuristic")
INTERVAL = 0.95  # level of the Wilson interval on each share proved

Stage = Callable[[str], None]  # told what is about to run, for a progress bar


@dataclass
class Result:
    metrics: dict[str, float]
    records: list[dict[str, Any]]


def walk_value(s: SearchSettings, seed: int, test: list[Theorem], log: Callback | None) -> tuple[TreeValue, Pairs]:
    """The value network trained on random walks (or on shuffled step counts), from the cache when it is there.

    A walk pair that is also a test theorem (short walks over small expressions meet some: 6 of 600 at
    the full budget) is left out of training, so no test theorem is learned by heart.
    """
    data = without(pairs_from(walk_paths(s.walks, s.train_depth, seed)), test)
    if s.targets == "shuffled":
        data = shuffled(data, seed)
    spec = {"data": data.digest(), "model": s.value_config(), "train": s.train_config(), "seed": seed}
    model, _ = cached(AREA, "walk-value", spec, lambda: new_value(s.value_config(), seed),
                      lambda m: fit_value(m, data, s.train_config(), seed, log))
    return model, data


def proof_search_table(s: SearchSettings, seed: int, log: Callback | None = None,
                       progress: Stage | None = None) -> Result:
    """Every arm on the same test theorems; the metrics the check reads and per-theorem records."""
    tell = progress or (lambda _: None)
    theorems = theorem_set(s.difficulties, s.theorems, seed, "test")
    tell("training the value on random walks")
    model, data = walk_value(s, seed, theorems, log)
    arms: dict[str, tuple[int, GuideMaker]] = {
        "bfs": (s.budget, lambda terms: None),
        "learned": (s.learned_budget, lambda terms: learned_guide(model, terms)),
        "heuristic": (s.budget, subterm_guide),
    }
    attempts: dict[str, list[Attempt]] = {}
    for arm, (budget, make_guide) in arms.items():
        tell(f"searching with {arm}")
        attempts[arm] = attempt(theorems, budget, make_guide)
    metrics: dict[str, float] = {}
    for arm in ARMS:
        metrics |= arm_metrics(arm, attempts[arm], s.difficulties)
        metrics[f"shorter_than_bfs/{arm}"] = float(shorter(attempts[arm], attempts["bfs"]))
    metrics |= gaps(metrics, s)
    metrics["overlap/test_in_training"] = float(overlap(theorems, data))
    return Result(metrics, records(attempts))


def arm_metrics(arm: str, attempts: list[Attempt], difficulties: tuple[int, ...]) -> dict[str, float]:
    """Share proved (checker-accepted) per difficulty with its interval, and the counted budget and rejections."""
    m = {
        f"theorems/{arm}": float(len(attempts)),
        f"budget/{arm}": float(max(a.budget for a in attempts)),
        f"cut_short/{arm}": float(sum(a.cut_short for a in attempts)),
        f"expansions/{arm}/max": float(max(a.expansions for a in attempts)),
        f"expansions/{arm}/mean": sum(a.expansions for a in attempts) / len(attempts),
        f"rejected/{arm}": float(sum(a.reached and not a.accepted for a in attempts)),
    }
    for d in difficulties:
        proved = [a.accepted for a in attempts if a.theorem.difficulty == d]
        lo, hi = wilson_interval(sum(proved), len(proved), INTERVAL)
        m |= {f"proved/{arm}/d{d}": sum(proved) / len(proved), f"proved/{arm}/d{d}/lo": lo,
              f"proved/{arm}/d{d}/hi": hi}
    lengths = [len(a.steps) for a in attempts if a.accepted]
    m[f"proof_length/{arm}/mean"] = sum(lengths) / len(lengths) if lengths else 0.0
    return m


def gaps(metrics: dict[str, float], s: SearchSettings) -> dict[str, float]:
    """Learned minus breadth-first and heuristic minus learned per difficulty, and each arm's share at the
    deepest difficulty its value was trained on and the deepest held out (the two the check reads).

    A run whose difficulties have none deeper than ``train_depth`` has no held-out share, and the check
    says so ("not measured") rather than passing.
    """
    out = {f"gap/learned_minus_bfs/d{d}": metrics[f"proved/learned/d{d}"] - metrics[f"proved/bfs/d{d}"]
           for d in s.difficulties}
    out |= {f"gap/heuristic_minus_learned/d{d}": metrics[f"proved/heuristic/d{d}"] - metrics[f"proved/learned/d{d}"]
            for d in s.difficulties}
    deepest = {"deepest_trained": [d for d in s.difficulties if d <= s.train_depth],
               "deepest_heldout": [d for d in s.difficulties if d > s.train_depth]}
    for name, ds in deepest.items():
        if ds:
            out |= {f"proved/{arm}/{name}": metrics[f"proved/{arm}/d{max(ds)}"] for arm in ARMS}
    return out


def shorter(attempts: list[Attempt], bfs: list[Attempt]) -> int:
    """Theorems where this arm's proof is shorter than breadth-first's (impossible: BFS finds shortest proofs)."""
    return sum(a.accepted and b.accepted and len(a.steps) < len(b.steps) for a, b in zip(attempts, bfs, strict=True))


def overlap(theorems: list[Theorem], data: Pairs) -> int:
    """Test theorems whose (left side, right side) is a training pair of the value."""
    seen = {(show(data.terms.expr(a)), show(data.terms.expr(b))) for a, b in data.pairs.tolist()}
    return sum((show(t.lhs), show(t.rhs)) in seen for t in theorems)


def without(data: Pairs, theorems: list[Theorem]) -> Pairs:
    """The training pairs minus any that state one of ``theorems``."""
    banned = {(show(t.lhs), show(t.rhs)) for t in theorems}
    keep = [i for i, (a, b) in enumerate(data.pairs.tolist())
            if (show(data.terms.expr(a)), show(data.terms.expr(b))) not in banned]
    return Pairs(data.terms, data.pairs[keep], data.steps[keep])


def records(attempts: dict[str, list[Attempt]]) -> list[dict[str, Any]]:
    """One per theorem and arm: the theorem, the proof found (or how far it got), accepted or not."""
    out = []
    for arm, found in attempts.items():
        for i, a in enumerate(found):
            out.append({
                "id": f"{arm}/d{a.theorem.difficulty}/{i}", "input": str(a.theorem),
                "output": "; ".join(str(step) for step in a.steps) if a.accepted else f"not proved: {a.verdict}",
                "target": show(a.theorem.rhs), "correct": a.accepted, "score": float(a.expansions),
                "arm": arm, "difficulty": a.theorem.difficulty, "proof_length": len(a.steps),
            })
    return out
