"""`hunch run -- CMD`: the spec a command line amounts to."""

from __future__ import annotations

import pytest

from hunchlab.errors import SpecError
from hunchlab.execute.entrypoint import expand_command
from hunchlab.execute.inferred import save_spec, spec_from_command
from hunchlab.spec import load_spec


def test_flags_become_params_and_the_command_a_template():
    spec = spec_from_command(["python", "train.py", "--lr", "3e-4", "--batch-size=64", "--opt", "adam",
                              "--compile", "--offset", "-1", "data/", "-v", "--seed", "7"])
    assert spec.params == {"lr": 3e-4, "batch_size": 64, "opt": "adam", "offset": -1}
    assert spec.seed == 7 and spec.name == "train"
    assert spec.command == ("python train.py --lr {lr} --batch-size={batch_size} --opt {opt} --compile "
                            "--offset {offset} data/ -v --seed {seed}")
    assert expand_command(spec) == ("python train.py --lr 0.0003 --batch-size=64 --opt adam --compile "
                                    "--offset -1 data/ -v --seed 7")


def test_section_flags_nest_and_text_stays_text():
    spec = spec_from_command(["python", "-m", "projects.adder", "--trainer.max_iters=2000",
                              "--system.work_dir=./out/adder", "--model.name", "007"])
    assert spec.name == "adder"
    assert spec.params == {"trainer": {"max_iters": 2000}, "system": {"work_dir": "./out/adder"},
                           "model": {"name": 7}}
    assert "--trainer.max_iters={trainer.max_iters}" in spec.command


def test_a_named_seed_flag_must_be_there():
    spec = spec_from_command(["python", "t.py", "--rng", "5", "--seed", "1"], seed_flag="--rng")
    assert spec.seed == 5 and spec.params == {"seed": 1}
    with pytest.raises(SpecError, match="--seed-flag --rng"):
        spec_from_command(["python", "t.py", "--seed", "1"], seed_flag="--rng")


def test_a_flag_given_twice_is_an_error():
    with pytest.raises(SpecError, match="given twice"):
        spec_from_command(["python", "t.py", "--lr", "1", "--lr", "2"])


def test_the_saved_spec_loads_and_takes_overrides(tmp_path):
    spec = spec_from_command(["python", "train.py", "--lr", "0.1", "--seed", "2"])
    save_spec(spec, tmp_path / "exp.yaml")
    loaded = load_spec(tmp_path / "exp.yaml", ["lr=0.5"])
    assert loaded.params == {"lr": 0.5} and loaded.seed == 2 and loaded.command == spec.command
    with pytest.raises(SpecError, match="not overwritten"):
        save_spec(spec, tmp_path / "exp.yaml")
