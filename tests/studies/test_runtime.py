"""Every shipped study's params are read before any run starts: a bad value is one line and exit 2."""

from __future__ import annotations

import pytest

from hunchlab.errors import HunchError
from hunchlab.spec import load_spec
from hunchlab.studies import shipped_studies
from hunchlab.studies.runtime import SETTINGS_READER, check_settings

STUDIES = shipped_studies()
SERVED = {"endpoint": "http://127.0.0.1:9/v1", "model": "toy"}  # a served study's spec names no model


def params_of(study, *, smoke: bool = False) -> dict:
    params = load_spec(study.spec, smoke=smoke).params
    return {**params, **SERVED} if "endpoint" in params else params


@pytest.mark.parametrize("study", STUDIES, ids=[s.name for s in STUDIES])
def test_each_shipped_entry_reads_its_settings_and_accepts_its_own_spec_at_both_budgets(study):
    spec = load_spec(study.spec)
    module, _, name = spec.entry.partition(":")
    entry = getattr(__import__(module, fromlist=[name]), name)
    assert callable(getattr(entry, SETTINGS_READER, None)), f"{spec.entry} has no settings reader"
    check_settings(spec.entry, params_of(study))
    check_settings(spec.entry, params_of(study, smoke=True))


@pytest.mark.parametrize("study", STUDIES, ids=[s.name for s in STUDIES])
def test_an_unknown_param_is_refused_before_the_run(study):
    spec = load_spec(study.spec)
    with pytest.raises(HunchError, match="unknown param 'not_a_param'"):
        check_settings(spec.entry, {**params_of(study), "not_a_param": 1})
