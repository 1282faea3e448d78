"""The test-time compute studies, as ``hunch study list/run/check`` sees them.

``STUDIES`` is what hunchlab reads (``spec`` is relative to this folder);
``STUDY_INFO`` is the same declarations by name.
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.test_time_compute.check import check_search_by_difficulty, check_self_consistency

STUDIES: list[dict[str, Any]] = [
    {
        "name": "self-consistency",
        "area": "test-time compute",
        "paper": "Wang et al. 2022, Self-Consistency Improves Chain of Thought Reasoning in Language Models; "
        "Lightman et al. 2023, Let's Verify Step by Step",
        "finding": "majority vote over sampled chains beats one chain; best-of-N by a process reward model "
        "beats an outcome reward model and majority vote, more so as N grows",
        "minutes": 1.0,  # measured: 62 s of CPU at one torch thread, full budget, models trained
        "question": "on modular-arithmetic chains, does a PRM pick better chains than a vote and than an ORM?",
        "claim": "gap/prm_minus_maj/k4/n64 > 0",
        "spec": "specs/self_consistency.yaml",
        "check": check_self_consistency,
        "readme": "self_consistency.md",
    },
    {
        "name": "search-by-difficulty",
        "area": "test-time compute",
        "paper": "Snell et al. 2024, Scaling LLM Test-Time Compute Optimally can be More Effective than "
        "Scaling Model Parameters",
        "finding": "which search wins depends on difficulty and budget: PRM beam search beats best-of-N on "
        "harder problems and at low budgets, and choosing per difficulty saves compute",
        "minutes": 1.9,  # measured: 112 s of CPU alone (72 s with the other study's models cached)
        "question": "on chains of 2, 4 and 8 steps, where does PRM beam search beat best-of-N, and how much "
        "compute does choosing per difficulty save?",
        "claim": "beam_minus_bon/k8/n4 > 0",
        "spec": "specs/search_by_difficulty.yaml",
        "check": check_search_by_difficulty,
        "readme": "search_by_difficulty.md",
    },
]

STUDY_INFO: dict[str, dict[str, Any]] = {study["name"]: study for study in STUDIES}
