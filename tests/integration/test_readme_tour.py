"""README.md runs top to bottom, as written, in a fresh demo; so do the docs' blocks marked runnable.

``readme_tour.py`` reads the pages (what each block is, what its markers say) and runs them;
these tests check the reading on small pages, then run the real README. The README's tour
runs in ``hunch-demo`` built by ``hunch demo`` (what ``make demo`` runs), then the docs pages'
runnable blocks run in that demo, page by page. A command that exits other than the page
says fails the test with its line, its command and its output; what the pages mark as not
run is listed as a warning with the reason.

Budget, measured on the 2-core machine at a load average of about 4 (other sessions'
tests): the demo takes 21 s of CPU (46 s wall); the whole tour about 3 minutes of CPU. The
largest parts are the sweeps' 48 trials (about 1.3 s of CPU each, most of it starting a
process) and the study's smoke run (12 s). The demo is the one ``cli/test_demo.py`` checks too:
built once per session (``demo`` in conftest.py), the tour runs in a copy of it.
"""

from __future__ import annotations

import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from readme_tour import Outcome, Step, TourError, run_steps, steps, tour_env

from hunchlab.cli import COMMANDS

ROOT = Path(__file__).parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md"))


class TourSkip(UserWarning):
    """A command the pages say the tour does not run, and why."""


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(text))
    return path


def test_every_command_line_runs_and_marked_lines_carry_their_exit_or_reason(tmp_path):
    found = steps(page(tmp_path, '''\
        # A page
        <!-- tour: exits 1 "false": shows a failure -->
        <!-- tour: not run "hunch ui": serves until stopped -->
        ```bash
        echo one   # a comment
        # a comment line
        false
        hunch ui --port 0
        ```
        '''), everything=True)
    assert [(s.text, s.expect, s.skip) for s in found] == [
        ("echo one   # a comment", 0, None), ("false", 1, None), ("hunch ui --port 0", 0, "serves until stopped")]
    assert found[1].where == "page.md:7"


def test_files_are_written_other_blocks_must_be_marked_and_docs_blocks_run_only_when_marked(tmp_path):
    text = '''\
        <!-- tour: new folder mine -->
        ```yaml
        # exp.yaml
        a: 1
        ```
        <!-- tour: not run: a sketch -->
        ```python
        x = ...
        ```
        ```bash
        hunch runs
        ```
        <!-- tour: run -->
        ```bash
        hunch show 1
        ```
        '''
    found = steps(page(tmp_path, text), everything=True)
    assert [(s.kind, s.path, s.skip) for s in found] == [
        ("folder", None, None), ("file", "exp.yaml", None), ("block", None, "a sketch"), ("command", None, None),
        ("command", None, None)]
    assert found[1].text == "# exp.yaml\na: 1\n"
    assert [s.text for s in steps(page(tmp_path, text), everything=False)] == ["mine", "# exp.yaml\na: 1\n",
                                                                               "hunch show 1"]


@pytest.mark.parametrize("text, problem", [
    ('<!-- tour: skip this -->\n```bash\nls\n```\n', "unknown tour marker"),
    ('<!-- tour: exits 2 "hunch nope": why -->\n```bash\nls\n```\n', "starts no line"),
    ('```yaml\na: 1\n```\n', "neither runs nor writes"),
    ('<!-- tour: run -->\n', "no block after it"),
])
def test_a_page_the_tour_cannot_read_is_an_error_naming_the_line(tmp_path, text, problem):
    with pytest.raises(TourError, match=problem) as e:
        steps(page(tmp_path, text), everything=True)
    assert str(e.value).startswith("page.md:1")


def test_a_run_stops_at_the_first_unannounced_exit_and_follows_cd(tmp_path):
    (tmp_path / "sub").mkdir()
    tour = [Step("p:1", "command", "cd sub"), Step("p:2", "command", "pwd > here.txt"),
            Step("p:3", "command", "false; true", expect=0), Step("p:4", "command", "echo never")]
    cwd, outcomes = run_steps(tour, tmp_path, tmp_path, {"PATH": "/usr/bin:/bin"})
    assert (tmp_path / "sub" / "here.txt").read_text().strip() == str(tmp_path / "sub")
    assert cwd == tmp_path / "sub" and [o.code for o in outcomes] == [0, 0, 1]  # `false; true` fails: -e


def test_every_page_is_readable_by_the_tour():
    for path in [ROOT / "README.md", *PAGES]:
        steps(path, everything=path.name == "README.md" and path.parent == ROOT)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_readme_runs_top_to_bottom_in_a_fresh_demo_and_so_do_the_runnable_docs_blocks(demo, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = tour_env(tmp_path / "bin", sys.executable, home)
    made = Step("make demo", "command", "hunch demo hunch-demo")  # built once per session (conftest.py)
    _check([Outcome(made, demo.proc.returncode, demo.seconds, demo.proc.stdout + demo.proc.stderr)])
    demo.copy(tmp_path / "hunch-demo")
    readme = steps(ROOT / "README.md", everything=True)
    _, outcomes = run_steps(readme, tmp_path, tmp_path, env)
    _check(outcomes, readme)
    ran = [o.step.where for o in outcomes]
    for path in PAGES:
        tour = steps(path, everything=False)
        _, done = run_steps(tour, tmp_path, tmp_path / "hunch-demo", env)
        _check(done, tour)
        ran += [o.step.where for o in done]
        readme += tour
    for step in readme:
        if step.skip is not None:
            warnings.warn(TourSkip(f"{step.where}: not run: {step.text.splitlines()[0][:70]} ({step.skip})"),
                          stacklevel=1)
    assert len(ran) >= len(COMMANDS)  # the README names every command (test_public_api), so it runs at least that many


def _check(outcomes: list[Outcome], tour: list[Step] | None = None) -> None:
    """Fail on the first command whose exit code is not the one its page announces."""
    for o in outcomes:
        if o.code != o.step.expect:
            pytest.fail(f"{o.step.where}: `{o.step.text}` exited {o.code} (the page says {o.step.expect}) "
                        f"after {o.seconds:.1f} s:\n{o.output[-3000:]}", pytrace=False)
    if tour is not None:
        wanted = [s for s in tour if s.kind == "command" and s.skip is None]
        assert len(outcomes) == len(wanted), "the tour stopped early"
