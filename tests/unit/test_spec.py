from __future__ import annotations

import pytest

from hunchlab.errors import SpecError
from hunchlab.spec import load_spec, parse_override


def write(tmp_path, text):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


def test_yaml_exponent_floats_are_numbers(tmp_path):
    spec = load_spec(write(tmp_path, "entry: m:f\nparams: {lr: 3e-4, n: 1e3}\n"))
    assert spec.params == {"lr": 0.0003, "n": 1000.0}


def test_overrides_are_yaml_scalars_and_address_nested_params(tmp_path):
    spec = load_spec(write(tmp_path, "entry: m:f\nparams: {lr: 0.1, model: {width: 8, act: relu}, flag: false}\n"),
                     ["lr=3e-4", "model.width=128", "model.act=gelu", "flag=true", "seed=7"])
    assert spec.params == {"lr": 0.0003, "model": {"width": 128, "act": "gelu"}, "flag": True}
    assert spec.seed == 7 and spec.overrides == ["lr=3e-4", "model.width=128", "model.act=gelu", "flag=true", "seed=7"]


def test_smoke_overrides_apply_before_command_line_overrides(tmp_path):
    spec = load_spec(write(tmp_path, "entry: m:f\nparams: {steps: 100, n: 5}\nsmoke: {steps: 2, n: 1}\n"),
                     ["n=3"], smoke=True)
    assert spec.params == {"steps": 2, "n": 3} and spec.smoke


def test_smoke_without_a_smoke_block_is_an_error(tmp_path):
    with pytest.raises(SpecError, match="no 'smoke:'"):
        load_spec(write(tmp_path, "entry: m:f\n"), smoke=True)


def test_error_names_the_line_of_the_bad_key(tmp_path):
    with pytest.raises(SpecError) as e:
        load_spec(write(tmp_path, "entry: m:f\nparams: {}\n\nsede: 3\n"))
    assert e.value.where.endswith("s.yaml:4") and "did you mean 'seed'" in e.value.what


def test_predict_accepts_one_string_or_a_list(tmp_path):
    assert load_spec(write(tmp_path, "entry: m:f\npredict: acc > 0.5 @ 60%\n")).predict == ["acc > 0.5 @ 60%"]


@pytest.mark.parametrize("text,expected", [("a=1", ("a", 1)), ("a.b=x y", ("a.b", "x y")), ("+n=null", ("+n", None)),
                                           ("t=[1, 2]", ("t", [1, 2])), ("e=", ("e", ""))])
def test_parse_override(text, expected):
    assert parse_override(text) == expected


def test_resolved_spec_meta_excludes_params_and_seed(tmp_path):
    meta = load_spec(write(tmp_path, "name: x\nentry: m:f\nparams: {a: 1}\n")).to_meta()
    assert meta["name"] == "x" and "params" not in meta and "seed" not in meta


def test_an_integer_param_given_a_float_is_refused_with_the_integer_to_write(tmp_path):
    path = write(tmp_path, "entry: m:f\nparams: {steps: 100, lr: 0.1}\n")
    with pytest.raises(SpecError, match="'steps' expects an integer") as e:
        load_spec(path, ["steps=1e3"])
    assert "write steps=1000" in e.value.fix
    with pytest.raises(SpecError, match="give steps a whole number"):
        load_spec(path, ["steps=2.5"])
    assert load_spec(path, ["steps=1000", "lr=1"]).params == {"steps": 1000, "lr": 1}  # a float param takes an int


def test_a_float_param_given_an_integer_gets_the_float_the_spec_declares(tmp_path):
    spec = load_spec(write(tmp_path, "entry: m:f\nparams: {lr: 2.0, model: {scale: 0.5}}\n"), ["lr=2", "model.scale=1"])
    assert spec.params == {"lr": 2.0, "model": {"scale": 1.0}}
    assert type(spec.params["lr"]) is float and type(spec.params["model"]["scale"]) is float


def test_metrics_declare_a_range_and_a_goal_stored_with_the_run(tmp_path):
    spec = load_spec(write(tmp_path, "entry: m:f\nmetrics: {acc: {range: [0, 1], goal: max}, loss: {goal: min}}\n"))
    assert spec.metrics == {"acc": {"range": [0.0, 1.0], "goal": "max"}, "loss": {"goal": "min"}}
    assert spec.to_meta()["metrics"] == spec.metrics
    for bad, match in (("{acc: {range: [1, 0]}}", "low < high"), ("{acc: {goal: up}}", "goal"),
                       ("{acc: {rnage: [0, 1]}}", "rnage")):
        with pytest.raises(SpecError, match=match):
            load_spec(write(tmp_path, f"entry: m:f\nmetrics: {bad}\n"))
