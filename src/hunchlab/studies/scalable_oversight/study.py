"""The scalable oversight studies, as ``hunch study list/run/check/show`` sees them.

``STUDIES`` is what hunchlab reads (``spec`` and ``readme`` are relative to this
folder); ``STUDY_INFO`` is the same declarations by name.
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.scalable_oversight.check import check_debate, check_weak_to_strong

AREA = "scalable oversight"

STUDIES: list[dict[str, Any]] = [
    {
        "name": "weak-to-strong",
        "area": AREA,
        "paper": "Burns et al. 2023, Weak-to-Strong Generalization: Eliciting Strong Capabilities With Weak "
        "Supervision",
        "finding": "a strong student trained on a weak supervisor's labels beats its supervisor (PGR > 0), and "
        "recovers more of the gap with an auxiliary confidence loss",
        "minutes": 0.8,
        "question": "on a latent world where the weak supervisor sees a noisy projection, how much of the "
        "weak-to-ceiling gap does the strong student recover, naively and with the confidence loss?",
        "claim": "gain/conf_minus_naive > 0",
        "spec": "specs/weak_to_strong.yaml",
        "readme": "weak-to-strong.md",
        "check": check_weak_to_strong,
    },
    {
        "name": "debate",
        "area": AREA,
        "paper": "Irving et al. 2018, AI safety via debate",
        "finding": "two debaters revealing pixels to a sparse-pixel judge make it far more accurate than the same "
        "number of random pixels (MNIST: 59.4% -> 88.9% at 6 pixels, 48.2% -> 85.2% at 4)",
        "minutes": 0.8,
        "question": "on generated digit glyphs, does debate between an honest and a lying debater make a "
        "k-pixel judge more accurate than k random pixels, in either move order?",
        "claim": "gain/liar_first/k4 > 0",
        "spec": "specs/debate.yaml",
        "readme": "debate.md",
        "check": check_debate,
    },
]

STUDY_INFO: dict[str, dict[str, Any]] = {study["name"]: study for study in STUDIES}
