"""The guard rails of `hunch mcp` as plain functions: paths, the budget, agents' names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hunchlab.errors import HunchError, Refused
from hunchlab.mcp.guard import Budget, inside
from hunchlab.project import Project
from hunchlab.who import agent_name, from_client, label, matches


@pytest.fixture
def root(tmp_path):
    (tmp_path / "proj" / ".hunch").mkdir(parents=True)
    (tmp_path / "proj" / "specs").mkdir()
    (tmp_path / "secret.yaml").write_text("x: 1\n")
    return Project(tmp_path / "proj")


@pytest.mark.parametrize("path", ["../secret.yaml", "specs/../../secret.yaml", "/etc/passwd", "~/x.yaml",
                                  ".hunch/store.db", "specs/../.hunch/ledger.jsonl"])
def test_a_path_that_leaves_the_project_or_reaches_its_records_is_refused(root, path):
    with pytest.raises(Refused):
        inside(root, path, what="spec")


def test_a_link_pointing_out_of_the_project_is_refused_where_its_target_would_be(root):
    (root.root / "specs" / "link.yaml").symlink_to(root.root.parent / "secret.yaml")
    with pytest.raises(Refused, match="outside the project"):
        inside(root, "specs/link.yaml", what="spec")


def test_a_path_inside_the_project_resolves_under_it(root):
    assert inside(root, "specs/exp.yaml", what="spec") == (root.root / "specs" / "exp.yaml").resolve()
    assert inside(root, str(root.root / "figures" / "a.png"), what="figure").parent.name == "figures"


def test_the_budget_reserves_runs_and_refuses_past_them():
    budget = Budget(max_runs=3, max_cpu_minutes=60)
    budget.admit(2, "two")
    with pytest.raises(Refused, match="needs 2 run\\(s\\) but this session has 1 of its 3 left"):
        budget.admit(2, "two more")
    budget.give_back(1)
    budget.admit(2, "two again")
    assert budget.to_dict()["runs_left"] == 0


def test_the_budget_counts_the_cpu_its_children_used():
    budget = Budget(max_runs=10, max_cpu_minutes=0.2 / 60)  # a fifth of a CPU second
    subprocess.run([sys.executable, "-c", "x = 0\nfor i in range(10_000_000): x += i"], check=True)
    assert budget.cpu_minutes() * 60 > 0.2
    with pytest.raises(Refused, match="CPU budget"):
        budget.admit(1, "one more")


@pytest.mark.parametrize(("raw", "name"), [("Claude Desktop", "Claude-Desktop"), ("you", "you-agent"), (None, "mcp-client"),
                                           ("a/b\\c", "a-b-c"), ("  ", "mcp-client")])
def test_a_clients_own_name_becomes_an_agent_name(raw, name):
    assert from_client(raw) == name


@pytest.mark.parametrize("bad", ["you", "agent", "Agents", "-x", "a" * 65, "a/b"])
def test_a_name_given_for_agents_must_be_usable(bad):
    with pytest.raises(HunchError):
        agent_name(bad, where="--agent")


def test_by_selects_you_any_agent_or_one_agent():
    assert matches(None, "you") and not matches("bot", "you")
    assert matches("bot", "agent") and not matches(None, "agent")
    assert matches("bot", "bot") and not matches("other", "bot")
    assert label(None) == "you" and label("bot") == "bot"
