"""The tests mirror src/: a module's unit tests are found at the path of the module, so they cannot drift.

``tests/unit/<subpackage>/test_<module>.py`` tests ``src/hunchlab/<subpackage>/<module>.py``
(``test_<package>.py`` a package's public surface, e.g. ``test_interp.py``), and a module
with several concerns may have a file per concern named ``test_<module>_<concern>.py``
(``test_run_config.py``, ``test_run_artifacts.py``). The CLI's integration tests mirror the
command modules the same way: ``tests/integration/cli/test_<module>.py`` for
``src/hunchlab/cli/<module>.py``. A test file named for a module that is not at its mirrored
path fails here, so a moved or renamed module takes its tests along.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).parents[1]
SRC = TESTS.parent / "src" / "hunchlab"

# Files that test behaviour across modules rather than one module; each says what it covers.
CROSS_CUTTING = {
    "test_import_graph.py",  # the import graph of all of src/: layers and cycles
    "test_public_api.py",  # hunchlab.__all__, the CLI's command registry, the README's and docs' imports
    "test_layout.py",  # this file: where the test files are
}


def _names(package: Path) -> set[str]:
    """The modules and subpackages of a package folder, by name."""
    return {p.stem for p in package.glob("*.py")} | {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}


def _misplaced(tests: Path, src: Path) -> list[str]:
    """Each test file under ``tests`` (relative to it) not named for a module of its mirror under ``src``."""
    wrong = []
    for path in sorted(tests.rglob("test_*.py")):
        rel = path.relative_to(tests)
        if rel.as_posix() in CROSS_CUTTING:
            continue
        package = src / rel.parent
        stem = path.stem.removeprefix("test_")
        names = _names(package) if package.is_dir() else set()
        if not any(stem == name or stem.startswith(name + "_") for name in names):
            wrong.append(rel.as_posix())
    return wrong


def test_every_unit_test_file_is_named_for_a_module_at_its_mirrored_path():
    wrong = _misplaced(TESTS / "unit", SRC)
    assert not wrong, ("move each to tests/unit/<folder of the module it tests>/test_<module>.py "
                       "(or add it, with why, to CROSS_CUTTING):\n" + "\n".join(wrong))


def test_every_cli_integration_test_file_is_named_for_a_command_module():
    wrong = _misplaced(TESTS / "integration" / "cli", SRC / "cli")
    assert not wrong, ("name each test_<module>.py for the module of src/hunchlab/cli/ that defines its "
                       "command:\n" + "\n".join(wrong))


def test_a_file_named_for_a_module_that_is_not_at_its_mirrored_path_is_found(tmp_path):
    src, tests = tmp_path / "src", tmp_path / "tests"
    (src / "store").mkdir(parents=True)
    (src / "run.py").write_text("")
    (src / "store" / "fold.py").write_text("")
    (src / "interp").mkdir()
    (src / "interp" / "__init__.py").write_text("")
    for name in ("test_run.py", "test_run_config.py", "store/test_fold.py", "test_interp.py", "test_layout.py",
                 "test_fold.py", "store/test_runs.py", "test_runner.py", "nowhere/test_run.py"):
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text("")
    assert _misplaced(tests, src) == ["nowhere/test_run.py", "store/test_runs.py", "test_fold.py", "test_runner.py"]
