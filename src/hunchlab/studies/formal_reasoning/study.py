"""The formal reasoning studies, as ``hunch study list/run/check`` sees them.

``STUDIES`` is what hunchlab reads (``spec`` and ``readme`` are relative to this folder).
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.formal_reasoning.check import check_expert_iteration, check_proof_search

AREA = "formal reasoning"

STUDIES: list[dict[str, Any]] = [
    {
        "name": "proof-search",
        "area": AREA,
        "paper": "Polu & Sutskever 2020, Generative Language Modeling for Automated Theorem Proving (GPT-f); "
        "Lample et al. 2022, HyperTree Proof Search for Neural Theorem Proving",
        "finding": "proof search guided by a learned value proves far more theorems than blind search at the "
        "same expansion budget, also deeper than it was trained on",
        "minutes": 0.6,
        "question": "on equational theorems over + and *, does a learned value make best-first search prove "
        "more than breadth-first at equal budget, by difficulty?",
        "claim": "proved/learned/deepest_trained - proved/bfs/deepest_trained > 0.5",
        "spec": "specs/proof_search.yaml",
        "readme": "proof_search.md",
        "check": check_proof_search,
    },
    {
        "name": "expert-iteration",
        "area": AREA,
        "paper": "Polu et al. 2022, Formal Mathematics Statement Curriculum Learning",
        "finding": "expert iteration (search, learn from verified proofs, search again) climbs on a pool of "
        "varied difficulty; on hard statements alone it first stalls",
        "minutes": 2.0,
        "question": "does learning from checked proofs of a mixed-difficulty pool raise the share of held-out "
        "hard theorems proved round over round, where a hard-only pool stalls?",
        "claim": "climb/curriculum > 0.15 and lead/early > 0.15",
        "spec": "specs/expert_iteration.yaml",
        "readme": "expert_iteration.md",
        "check": check_expert_iteration,
    },
]
