"""Errors say what kind they are: no bare ``raise HunchError(``, and library calls raise the subclass that fits.

A caller (the web layer's 404, ``hunch mcp``, a script) tells a missing run from a bad value
or a spec that does not validate by the exception's class, never by its message text.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import hunchlab
from hunchlab.errors import BadInput, HunchError, MissingPackage, NotFound, SpecError, WrongState
from hunchlab.project import Project, find_project

SRC = Path(hunchlab.__file__).parent

def _bare_raises(path: Path) -> list[int]:
    """Lines of ``raise HunchError(...)`` in one file (a subclass says what kind of error it is)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return sorted(node.lineno for node in ast.walk(tree)
                  if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                  and isinstance(node.exc.func, ast.Name | ast.Attribute)
                  and (node.exc.func.id if isinstance(node.exc.func, ast.Name) else node.exc.func.attr) == "HunchError")


def test_no_bare_hunch_error_is_raised_in_src() -> None:
    bare = [f"src/hunchlab/{path.relative_to(SRC).as_posix()}:{line}" for path in sorted(SRC.rglob("*.py"))
            for line in _bare_raises(path)]
    assert not bare, ("raise the HunchError subclass that says what kind of error this is "
                      "(NotFound, SpecError, BadInput, WrongState, ... in hunchlab/errors.py):\n" + "\n".join(bare))


def test_the_walk_finds_a_bare_raise(tmp_path: Path) -> None:
    """The check above can fail: it sees both spellings of a bare raise and passes a subclass."""
    path = tmp_path / "m.py"
    path.write_text("from hunchlab import errors\nfrom hunchlab.errors import HunchError, NotFound\n"
                    "def f():\n    raise HunchError('x')\n"
                    "def g():\n    raise errors.HunchError('y')\n"
                    "def h():\n    raise NotFound('z')\n")
    assert _bare_raises(path) == [4, 6]


def test_every_kind_is_still_a_hunch_error_that_exits_2() -> None:
    """The CLI's one handler catches HunchError and exits with its code: every subclass goes through it."""
    import hunchlab.errors as errors

    kinds = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, HunchError)]
    assert len(kinds) > 10
    assert all(kind.exit_code == 2 and kind.__doc__ for kind in kinds)


def test_an_unknown_run_id_is_not_found(project: Project) -> None:
    with pytest.raises(NotFound):
        hunchlab.get_run("nosuchrun", project=project)


def test_a_bad_override_is_a_spec_error(project: Project) -> None:
    from hunchlab.spec import load_spec

    with pytest.raises(SpecError, match="steps"):
        load_spec(project.root / "exp.yaml", ["steps=many"])


def test_an_out_of_range_value_is_bad_input() -> None:
    from hunchlab.calibration import wilson_interval
    from hunchlab.paired import paired_test
    from hunchlab.predict import parse_probability

    with pytest.raises(BadInput):
        wilson_interval(3, 2)
    with pytest.raises(BadInput):
        paired_test([0.1, 0.2, 0.3], [0.2, 0.3, 0.4], confidence=1.5)
    with pytest.raises(BadInput):
        parse_probability("1.5")


def test_resolving_a_forecast_twice_is_the_wrong_state(project: Project) -> None:
    from hunchlab.predict import add_forecast, resolve

    pred = add_forecast("it rains", "0.3", "2999-01-01", project=project)
    resolve(pred["id"], "yes", project=project)
    with pytest.raises(WrongState, match="already resolved"):
        resolve(pred["id"], "no", project=project)


def test_outside_a_project_is_not_found_and_bad_settings_a_spec_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Project) -> None:
    monkeypatch.delenv("HUNCH_DIR", raising=False)
    with pytest.raises(NotFound, match="not inside a hunchlab project"):
        find_project(tmp_path)
    (project.hunch_dir / "settings.yaml").write_text("no_such_setting: 1\n")
    with pytest.raises(SpecError, match="unknown setting"):
        find_project(project.root)


def test_a_study_param_that_does_not_validate_is_a_spec_error() -> None:
    from hunchlab.studies.params import from_params

    @dataclass
    class Settings:
        steps: int = 10

    with pytest.raises(SpecError, match="unknown param 'step'"):
        from_params(Settings, {"step": 5}, "test study")
    with pytest.raises(SpecError, match="expected"):
        from_params(Settings, {"steps": "many"}, "test study")


def test_a_missing_optional_package_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from hunchlab.compat.export import _pyarrow

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what an environment without the extra looks like
    with pytest.raises(MissingPackage, match="needs pyarrow") as e:
        _pyarrow()
    assert "pip install" in (e.value.fix or "")
