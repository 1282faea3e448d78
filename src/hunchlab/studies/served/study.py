"""The studies on a served model, as ``hunch study list/run/check`` sees them (``spec`` is relative to here)."""

from __future__ import annotations

from typing import Any

from hunchlab.studies.served.check import check_self_consistency_served

STUDIES: list[dict[str, Any]] = [
    {
        "name": "self-consistency-served",
        "area": "test-time compute",
        "paper": "Wang et al. 2022, Self-Consistency Improves Chain of Thought Reasoning in Language Models",
        "finding": "on a real model behind an OpenAI-compatible endpoint, a majority vote over sampled answers "
        "beats one sampled answer",
        "minutes": 2.0,
        "question": "on dial word problems, does a vote over N samples of a served model beat one sample?",
        "claim": "gap/maj_minus_single > 0",
        "spec": "specs/self_consistency.yaml",
        "check": check_self_consistency_served,
    },
]
