"""The public surface and its cost: pinned names, and nothing heavy at import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import hunchlab


def test_public_names_are_pinned():
    assert sorted(hunchlab.__all__) == ["HunchError", "Run", "__version__", "calibration", "current_run", "get_run",
                                        "runs", "seed_everything", "start"]


def test_import_and_help_load_nothing_heavy():
    heavy = ["torch", "pandas", "matplotlib", "numpy", "scipy", "sqlalchemy", "pydantic", "rich",
             # and the standard library's slower parts, which an import pass once hoisted onto this
             # path (capture.py's importlib.metadata and tarfile, ~15 ms; background.py's subprocess)
             "importlib.metadata", "tarfile", "subprocess", "sqlite3", "statistics"]
    code = ("import sys, hunchlab, hunchlab.cli\n"
            "try:\n    hunchlab.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_the_everyday_commands_help_loads_no_statistics_nor_store():
    """Each command module imports what its body needs inside the body: an import pass that moved
    those to the top made `hunch compare --help` load 33 more modules (statistics, sqlite3, html)."""
    slow = ["statistics", "sqlite3", "html", "importlib.metadata", "tarfile", "sqlalchemy", "numpy", "rich"]
    for words in ("run", "runs", "show", "compare", "study run", "journal", "forecast", "calibration"):
        code = ("import sys, hunchlab.cli\n"
                f"try:\n    hunchlab.cli.main({[*words.split(), '--help']!r})\nexcept SystemExit:\n    pass\n"
                f"print([m for m in {slow!r} if m in sys.modules])")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip().splitlines()[-1] == "[]", words


def test_every_command_has_help_with_an_example_and_a_readme_mention():
    from click.testing import CliRunner

    from hunchlab.cli import COMMANDS, cli

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example: hunch" in result.output, f"`hunch {name} --help` has no Example: line"
        assert f"hunch {name}" in readme, f"README does not mention `hunch {name}`"


def _commands() -> list[tuple[str, Any]]:
    """Every command and subcommand with the words typed after `hunch` (a hidden subcommand is its
    parent's form: `sweep start` is what `hunch sweep SPEC` runs)."""
    import click

    from hunchlab.cli import COMMANDS, cli

    ctx = click.Context(cli)
    out: list[tuple[str, Any]] = []

    def walk(cmd: Any, words: str) -> None:
        out.append((words, cmd))
        for name in getattr(cmd, "commands", {}):
            sub = cmd.get_command(ctx, name)
            walk(sub, words if sub.hidden else f"{words} {name}")

    for name in COMMANDS:
        walk(cli.get_command(ctx, name), name)
    return out


def _sections() -> list[str]:
    """The README's and every docs page's sections (split at headings outside code blocks)."""
    root = Path(__file__).parents[2]
    sections: list[str] = []
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        current: list[str] = []
        fenced = False
        for line in page.read_text().splitlines():
            fenced ^= line.startswith("```")
            if line.startswith("#") and not fenced and current:
                sections.append("\n".join(current))
                current = []
            current.append(line)
        sections.append("\n".join(current))
    return sections


def test_every_option_in_help_is_documented_in_a_section_that_names_its_command():
    """An option counts as documented where a section of the README or a docs page names both
    `hunch COMMAND` and the option; a new command or option fails here until it is."""
    import click

    sections = _sections()
    missing = []
    for words, cmd in _commands():
        named = re.compile(rf"hunch {re.escape(words)}(?![\w-])")
        for param in cmd.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            flag = next((o for o in [*param.opts, *param.secondary_opts] if o.startswith("--")), param.opts[0])
            option = re.compile(rf"(?<![\w-]){re.escape(flag)}(?![\w-])")
            if not any(named.search(s) and option.search(s) for s in sections):
                missing.append(f"hunch {words} {flag}")
    assert not missing, f"options in --help that no README or docs section names with their command: {missing}"


def test_sweep_help_shows_the_options_of_the_sweep_it_runs():
    from click.testing import CliRunner

    from hunchlab.cli import cli

    out = CliRunner().invoke(cli, ["sweep", "--help"]).output
    for flag in ("--seeds", "--budget", "--jobs", "--executor", "--address", "--goal", "--metric", "--smoke"):
        assert flag in out, flag
    assert "show" in out and "resume" in out and "start" not in out.split("Commands:")[1]


def test_every_docs_page_is_in_the_docs_index():
    root = Path(__file__).parents[2] / "docs"
    index = (root / "README.md").read_text()
    unlisted = [p.name for p in sorted(root.glob("*.md")) if p.name != "README.md" and f"({p.name})" not in index]
    assert not unlisted, f"docs/README.md does not link {unlisted}"
