"""The public surface and its cost: pinned names, and nothing heavy at import."""

from __future__ import annotations

import subprocess
import sys

import hunchlab


def test_public_names_are_pinned():
    assert sorted(hunchlab.__all__) == ["HunchError", "Run", "__version__", "calibration", "current_run", "get_run",
                                        "runs", "seed_everything", "start"]


def test_import_and_help_load_nothing_heavy():
    heavy = ["torch", "pandas", "matplotlib", "numpy", "scipy", "sqlalchemy", "pydantic", "rich"]
    code = ("import sys, hunchlab, hunchlab.cli\n"
            "try:\n    hunchlab.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_every_command_has_help_with_an_example_and_a_readme_mention():
    from pathlib import Path

    from click.testing import CliRunner

    from hunchlab.cli import COMMANDS, cli

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example: hunch" in result.output, f"`hunch {name} --help` has no Example: line"
        assert f"hunch {name}" in readme, f"README does not mention `hunch {name}`"
