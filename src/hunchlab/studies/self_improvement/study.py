"""The self-improvement studies, as ``hunch study list/run/check`` sees them.

``STUDIES`` is what hunchlab reads (``spec`` and ``readme`` are relative to this
folder); ``STUDY_INFO`` is the same declarations by name.
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.self_improvement.check import check_reward_overoptimisation, check_star

AREA = "self-improvement"

STUDIES: list[dict[str, Any]] = [
    {
        "name": "star",
        "area": AREA,
        "paper": "Zelikman et al. 2022, STaR: Bootstrapping Reasoning With Reasoning",
        "finding": "a policy that retrains on its own sampled chains whose final answer is right learns steps it "
        "was never taught, round after round; without the filter, or against wrong answers, it degrades",
        "minutes": 0.4,
        "question": "on modular-arithmetic chains, does filtering its own chains by the answer teach a policy "
        "the steps it never saw, and what happens without the filter?",
        "claim": "gain/step_acc > 0",
        "spec": "specs/star.yaml",
        "readme": "star.md",
        "check": check_star,
    },
    {
        "name": "reward-overoptimisation",
        "area": AREA,
        "paper": "Gao et al. 2022, Scaling Laws for Reward Model Overoptimization; Huang et al. 2024, "
        "Self-Improvement in Language Models: The Sharpening Mechanism",
        "finding": "best-of-N against a judge trained on answer labels raises gold accuracy, then lowers it, "
        "while the judge's own score keeps rising (gold ≈ d(α − βd), d = √KL); a process-labelled judge keeps "
        "rising; the policy judging itself by likelihood climbs only to its own greedy answer",
        "minutes": 1.0,
        "question": "as N grows, when does picking the judge's favourite of N chains stop helping, and does a "
        "process judge or the policy itself do better?",
        "claim": "outcome/fall > 0",
        "spec": "specs/reward_overoptimisation.yaml",
        "readme": "reward_overoptimisation.md",
        "check": check_reward_overoptimisation,
    },
]

STUDY_INFO: dict[str, dict[str, Any]] = {study["name"]: study for study in STUDIES}
