"""The mechanistic-interpretability studies, as ``hunch study list/run/check`` sees them.

``STUDIES`` is what hunchlab reads (``spec`` and ``readme`` are relative to
this folder). Minutes are measured: CPU time at one torch thread, full budget.
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.interpretability.check import (
    check_induction_heads,
    check_sparse_autoencoders,
    check_superposition,
)

AREA = "mechanistic interpretability"

STUDIES: list[dict[str, Any]] = [
    {
        "name": "superposition",
        "area": AREA,
        "paper": "Elhage et al. 2022, Toy Models of Superposition",
        "finding": "a ReLU model stores about m features in m dimensions when features are dense, and about "
        "2m or more when they are sparse (superposition); a linear model never stores more than m",
        "minutes": 1.0,
        "question": "as features get sparser, does a ReLU bottleneck model represent more features than it has "
        "dimensions, where a linear one cannot?",
        "claim": "represented/relu/max > 7",
        "spec": "specs/superposition.yaml",
        "readme": "superposition.md",
        "check": check_superposition,
    },
    {
        "name": "induction-heads",
        "area": AREA,
        "paper": "Olsson et al. 2022, In-context Learning and Induction Heads",
        "finding": "a 2-layer attention-only transformer copies repeated tokens with an induction head in layer 1 "
        "composed with a previous-token head in layer 0; ablating or patching either breaks copying, "
        "other heads do not",
        "minutes": 0.5,
        "question": "on repeated random tokens, which heads do the copying, and does knocking them out (and only "
        "them) remove it?",
        "claim": "loss/gap > 2",
        "spec": "specs/induction_heads.yaml",
        "readme": "induction_heads.md",
        "check": check_induction_heads,
    },
    {
        "name": "sparse-autoencoders",
        "area": AREA,
        "paper": "Sharkey et al. 2022, Taking features out of superposition with sparse autoencoders; "
        "Bricken et al. 2023, Towards Monosemanticity",
        "finding": "an SAE with an L1 penalty recovers ground-truth sparse directions (MMCS above 0.9); without "
        "the L1 term its dictionary matches them no better than random directions",
        "minutes": 0.4,
        "question": "does an L1 sweep find a sparse autoencoder whose dictionary lines up with the true features?",
        "claim": "mmcs/true/best > 0.9",
        "spec": "specs/sparse_autoencoders.yaml",
        "readme": "sparse_autoencoders.md",
        "check": check_sparse_autoencoders,
    },
]

STUDY_INFO: dict[str, dict[str, Any]] = {study["name"]: study for study in STUDIES}
