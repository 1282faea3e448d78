"""The model cache every study test shares: one temporary folder for the session.

A cached model is keyed by a hash of everything that trains it (``studies.training.cached``),
so any test that asks for the same model gets the weights its own training would give. One
cache for the session, not one per module, lets the reward-overoptimisation study reuse the
generator and the two verifiers of the test-time-compute studies (the same settings at both
smoke budgets): 24.7 s of CPU for self-consistency's real arm with its models to train, about
3 s with them cached. It never reads or writes the user's cache.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setenv("HUNCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    patch.undo()
