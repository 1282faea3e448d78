"""Config identity by value: 2 and 2.0 are one value, wherever in the params they are."""

from __future__ import annotations

import math

import pytest

from hunchlab.identity import by_value, config_key, same_text
from hunchlab.store.fold import group_key


def test_whole_floats_are_the_integers_they_equal_nested_and_in_lists():
    assert by_value({"lr": 2.0, "model": {"width": 64.0, "ratios": [1.0, 0.5]}, "n": -0.0}) == \
        {"lr": 2, "model": {"width": 64, "ratios": [1, 0.5]}, "n": 0}
    assert type(by_value(2.0)) is int and type(by_value(0.5)) is float


@pytest.mark.parametrize("a, b", [(2, 2.0), ({"w": [1, 2]}, {"w": [1.0, 2.0]}), ((1, 2), [1, 2]), (1e20, 10**20)])
def test_the_same_value_written_two_ways_is_one_config(a, b):
    assert config_key("train:main", None, {"x": a}) == config_key("train:main", None, {"x": b})
    assert same_text(a) == same_text(b)


@pytest.mark.parametrize("a, b", [(2, 2.5), (1, True), (2, "2"), (0, None), (math.inf, 1e308), (0.1 + 0.2, 0.3)])
def test_different_values_stay_apart(a, b):
    assert config_key("train:main", None, {"x": a}) != config_key("train:main", None, {"x": b})
    assert same_text(a) != same_text(b)


def test_non_finite_floats_keep_their_identity():
    assert by_value(math.inf) == math.inf and math.isnan(by_value(math.nan))


def test_what_ran_is_part_of_the_identity_and_the_seed_is_not():
    run = {"spec": {"entry": "train:main"}, "params": {"lr": 2.0}, "seed": 0}
    assert group_key(run) == group_key({**run, "seed": 5, "params": {"lr": 2}})
    assert group_key(run) != group_key({**run, "spec": {"entry": "train:other"}})
    assert group_key(run) != group_key({**run, "spec": {"command": "python train.py"}})
