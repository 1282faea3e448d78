"""``run.config`` is read-only everywhere (docs/python-api.md): what ran is what the store says ran."""

from __future__ import annotations

import copy
import pickle

import pytest

import hunchlab
from hunchlab.errors import HunchError
from hunchlab.run_config import Config, ConfigReadOnly
from hunchlab.run_records import init_project

PARAMS = {"lr": 0.001, "model": {"width": 64}, "layers": [32, {"act": "relu"}]}


def test_params_read_by_attribute_and_item_nested_too():
    cfg = Config(PARAMS)
    assert cfg.lr == cfg["lr"] == 0.001 and cfg.model.width == cfg["model"]["width"] == 64
    assert cfg.layers == [32, {"act": "relu"}] and cfg.layers[1].act == "relu"
    assert dict(cfg.model) == {"width": 64} and cfg.to_dict() == PARAMS


@pytest.mark.parametrize("change, key", [
    (lambda c: setattr(c, "lr", 5), "lr"),
    (lambda c: c.__setitem__("lr", 5), "lr"),
    (lambda c: delattr(c, "lr"), "lr"),
    (lambda c: setattr(c.model, "width", 3), "model.width"),
    (lambda c: c["model"].__setitem__("width", 3), "model.width"),
    (lambda c: c.layers.append(1), "layers"),
    (lambda c: c.layers.__setitem__(0, 1), "layers"),
    (lambda c: c.layers[1].__setitem__("act", "gelu"), "layers[1].act"),
    (lambda c: setattr(c, "new_param", 1), "new_param"),
])
def test_every_assignment_raises_and_says_how_to_change_a_param(change, key):
    cfg = Config(PARAMS)
    with pytest.raises(ConfigReadOnly) as e:
        change(cfg)
    assert isinstance(e.value, HunchError) and isinstance(e.value, TypeError)
    assert f"cannot change '{key}'" in e.value.what
    assert f"{key.split('[')[0]}=" in e.value.fix and "spec" in e.value.fix
    assert cfg.to_dict() == PARAMS  # nothing changed, read either way
    assert cfg.lr == cfg["lr"] == 0.001 and cfg.model.width == 64


def test_copies_are_read_only_too_and_to_dict_is_yours_to_change():
    cfg = Config(PARAMS)
    for other in (copy.deepcopy(cfg), pickle.loads(pickle.dumps(cfg))):
        assert other.to_dict() == PARAMS
        with pytest.raises(ConfigReadOnly):
            other.model.width = 3
    mine = cfg.to_dict()
    mine["model"]["width"] = 3
    assert cfg.model.width == 64


def test_a_running_runs_config_refuses_changes_and_stores_what_ran(tmp_path):
    project = init_project(tmp_path)[0]
    with hunchlab.start(config={"lr": 0.001, "model": {"width": 64}}, project=tmp_path) as run:
        with pytest.raises(ConfigReadOnly):
            run.config.lr = 5
        with pytest.raises(ConfigReadOnly):
            run.config.model.width = 3
    assert hunchlab.get_run(run.id, project=project)["params"] == {"lr": 0.001, "model": {"width": 64}}
