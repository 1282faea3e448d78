"""`hunch mcp` driven as an agent drives it: the real server over stdio, through the `mcp` SDK's own client.

Each test starts `python -m hunchlab mcp` in a fresh project and talks to it with
``mcp.Client``; what the agent did is then read back with the real `hunch` CLI, the
way the person would find it. Nothing leaves the machine (stdio pipes only).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp", reason="the MCP SDK is the `mcp` extra (make install-test installs it)")

import httpx2  # noqa: E402  (the SDK's HTTP client)
from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.types import Implementation  # noqa: E402

AGENT = "test-agent"


class Agent:
    """One connected client: ``call`` returns the tool's JSON, or ``("error", text)`` for a refused call."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, **arguments: Any) -> Any:
        result = await self.client.call_tool(tool, arguments)
        text = result.content[0].text  # type: ignore[union-attr]
        return ("error", text) if result.is_error else json.loads(text)


def drive(project: Any, script: Callable[[Agent], Awaitable[None]], *args: str) -> None:
    """Start the server in ``project`` and run ``script`` against it as the agent "test agent"."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "hunchlab", "mcp", *args],
                                   cwd=str(project.root), env={k: v for k, v in os.environ.items() if k != "HUNCH_DIR"})

    async def main() -> None:
        async with Client(params, client_info=Implementation(name="test agent", version="1")) as client:
            await script(Agent(client))

    anyio.run(main)


def _settings(project: Any, text: str) -> None:
    (project.hunch_dir / "settings.yaml").write_text(text)


def test_an_agent_is_refused_a_run_without_a_prediction_and_scored_with_one(project, hunch):
    seen: dict[str, Any] = {}

    async def script(agent: Agent) -> None:
        names = {t.name for t in (await agent.client.list_tools()).tools}
        seen["tools"] = names
        seen["refused"] = await agent.call("run", spec="exp.yaml")
        seen["bad claim"] = await agent.call("run", spec="exp.yaml", predict=["acc is high"])
        seen["ran"] = await agent.call("run", spec="exp.yaml", predict=["acc > 0.1 @ 80%"], overrides=["steps=30"])

    drive(project, script)
    assert {"runs", "show_run", "run", "sweep", "compare", "plot", "examples", "failures", "tag", "categories",
            "note", "tree_add", "attach", "calibration", "budget"} <= seen["tools"]
    kind, text = seen["refused"]
    assert kind == "error" and "needs your prediction first" in text and "acc > 0.8 @ 70%" in text
    assert seen["bad claim"][0] == "error"
    ran = seen["ran"]["runs"]
    assert [r["status"] for r in ran] == ["finished"] and ran[0]["summary"]["acc"] == pytest.approx(0.3)
    assert ran[0]["predictions"][0]["status"] == "resolved" and ran[0]["predictions"][0]["outcome"] is True
    listed = json.loads(hunch("runs", "--json", check=0).stdout)
    assert len(listed) == 1, "the refused calls started a run"
    assert listed[0]["agent"] == AGENT and json.loads(hunch("runs", "--by", "you", "--json", check=0).stdout) == []
    assert json.loads(hunch("runs", "--by", "agent", "--json", check=0).stdout)[0]["id"] == ran[0]["id"]


def test_an_agent_compares_seed_groups_and_its_calibration_is_kept_beside_yours(project, hunch):
    hunch("run", "exp.yaml", "steps=10", "--predict", "acc < 0.05 @ 90%", check=0)  # the person: confident, wrong
    seen: dict[str, Any] = {}

    async def script(agent: Agent) -> None:
        small = await agent.call("run", spec="exp.yaml", predict=["acc < 0.25 @ 70%"], seeds=3)
        large = await agent.call("run", spec="exp.yaml", predict=["acc > 0.5 @ 60%"], seeds=3,
                                 overrides=["steps=60"])
        seen["compare"] = await agent.call("compare", selectors=[small["group"], large["group"]])
        seen["show"] = await agent.call("show_run", run=large["runs"][0]["id"], curve_points=4)
        seen["calibration"] = await agent.call("calibration")

    drive(project, script)
    compared = seen["compare"]
    acc = next(m for m in compared["result"]["metrics"] if m["metric"] == "acc")
    assert [s["n"] for s in compared["result"]["sides"]] == [3, 3]
    assert acc["diff"] == pytest.approx(0.4, abs=0.01) and "verdict" in acc and acc["verdict"]
    assert "acc" in compared["text"] and acc["verdict"] in compared["text"]
    show = seen["show"]
    assert show["run"]["agent"] == AGENT and show["run"]["code"]["commit"]
    assert show["curves"]["loss"]["step"][0] == 0 and show["curves"]["loss"]["step"][-1] == 59
    assert len(show["curves"]["loss"]["step"]) <= 16, "the curve was not thinned"
    by = seen["calibration"]["by"]
    assert by[AGENT]["n"] == 2 and by[AGENT]["brier"] == pytest.approx(((1 - 0.7) ** 2 + (1 - 0.6) ** 2) / 2)
    assert by["you"]["n"] == 1 and by["you"]["brier"] == pytest.approx(0.81)
    cli = json.loads(hunch("calibration", "--by", "agent", "--json", check=0).stdout)
    assert cli[AGENT]["brier"] == pytest.approx(by[AGENT]["brier"]) and cli["you"]["n"] == 1
    assert AGENT in hunch("calibration", "--by", "agent", check=0).stdout


def test_an_agent_samples_failures_and_tags_them_under_its_name_which_a_rebuild_keeps(project, hunch):
    seen: dict[str, Any] = {}

    async def script(agent: Agent) -> None:
        run = (await agent.call("run", spec="exp.yaml", predict=["acc > 0.1 @ 70%"]))["runs"][0]["id"]
        seen["run"] = run
        seen["sample"] = await agent.call("failures", run=run, sample=5)
        seen["again"] = await agent.call("failures", run=run, sample=5)
        seen["other"] = await agent.call("failures", run=run, sample=5, seed=1)
        seen["tag"] = await agent.call("tag", run=run, example="e2", category="off by one")
        seen["categories"] = await agent.call("categories", run=run)
        await agent.call("tree_add", title="Does training longer help?", why="it is the cheapest knob")
        seen["note"] = await agent.call("note", text="Off by one on e2: the output rounds down.", run=run)

    drive(project, script)
    run = seen["run"]
    assert [i["example_id"] for i in seen["sample"]["items"]] == ["e2"]
    assert seen["again"]["items"] == seen["sample"]["items"] and seen["again"]["created_at"] == seen["sample"]["created_at"]
    assert seen["other"][0] == "error" and "would replace it" in seen["other"][1]
    assert seen["tag"]["agent"] == AGENT
    assert [(r["category"], r["count"]) for r in seen["categories"]["rows"]] == [("off by one", 1)]
    hunch("store", "rebuild", check=0)
    rows = json.loads(hunch("failures", run, "--sample", "5", "--json", check=0).stdout)["items"]
    assert rows[0]["category"] == "off by one"
    ledger = [json.loads(line) for line in (project.hunch_dir / "ledger.jsonl").read_text().splitlines()[1:]]
    assert {op["table"] for op in ledger if op.get("row", {}).get("agent") == AGENT} >= {"tags", "journal", "nodes",
                                                                                          "predictions"}
    entry = json.loads(hunch("journal", "--json", check=0).stdout)[0]
    assert entry["agent"] == AGENT and entry["run_id"] == run
    assert json.loads(hunch("tree", "--json", check=0).stdout)[0]["agent"] == AGENT
    assert json.loads(hunch("runs", "--by", AGENT, "--json", check=0).stdout)[0]["id"] == run
    assert json.loads(hunch("calibration", "--by", "agent", "--json", check=0).stdout)[AGENT]["n"] == 1
    hunch("tag", run, "e1", "person's own", check=0)

    async def overwrite(agent: Agent) -> None:
        seen["overwrite"] = await agent.call("tag", run=run, example="e1", category="agent's")

    drive(project, overwrite)
    assert seen["overwrite"][0] == "error" and "already tagged" in seen["overwrite"][1]


def test_past_its_budget_an_agent_is_refused_with_what_was_spent(project, hunch):
    _settings(project, "mcp_max_runs: 3\n")
    seen: dict[str, Any] = {}

    async def script(agent: Agent) -> None:
        seen["sweep"] = await agent.call("sweep", spec="exp.yaml", args=["steps=5,10"])
        seen["over"] = await agent.call("run", spec="exp.yaml", predict=["acc > 0.1 @ 70%"], seeds=2)
        seen["sweep over"] = await agent.call("sweep", spec="exp.yaml", args=["steps=5,10"])
        seen["last"] = await agent.call("run", spec="exp.yaml", predict=["acc > 0.1 @ 70%"])
        seen["none left"] = await agent.call("run", spec="exp.yaml", predict=["acc > 0.1 @ 70%"])
        seen["budget"] = await agent.call("budget")

    drive(project, script)
    assert seen["sweep"]["counts"] == {"finished": 2} and len(seen["sweep"]["tables"][0]["rows"]) == 2
    for key in ("over", "sweep over", "none left"):
        kind, text = seen[key]
        assert kind == "error" and "left" in text and "mcp_max_runs" in text, (key, text)
    assert "needs 2 run(s) but this session has 1 of its 3 left" in seen["sweep over"][1]
    assert "needs 1 run(s) but this session has 0 of its 3 left" in seen["none left"][1]
    assert seen["budget"]["runs"] == 3 and seen["budget"]["runs_left"] == 0
    runs = json.loads(hunch("runs", "--json", check=0).stdout)
    assert len(runs) == 3 and {r["agent"] for r in runs} == {AGENT}, "a sweep's trials are the agent's runs"
    sweeps = json.loads(hunch("sweeps", "--json", check=0).stdout)
    assert len(sweeps) == 1, "a refused sweep was recorded"


def test_paths_an_agent_gives_stay_inside_the_project(project, hunch, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text((project.root / "exp.yaml").read_text())
    (project.root / "link.yaml").symlink_to(outside)
    seen: dict[str, Any] = {}
    tries = {"up": "../outside.yaml", "absolute": str(outside), "link": "link.yaml", "records": ".hunch/settings.yaml"}

    async def script(agent: Agent) -> None:
        for name, path in tries.items():
            seen[name] = await agent.call("run", spec=path, predict=["acc > 0.1 @ 70%"])
        run = (await agent.call("run", spec="exp.yaml", predict=["acc > 0.1 @ 70%"]))["runs"][0]["id"]
        seen["plot out"] = await agent.call("plot", selectors=[run], metrics=["loss"], out="../../fig.png")
        seen["plot"] = await agent.call("plot", selectors=[run], metrics=["loss"])

    drive(project, script)
    for name in tries:
        assert seen[name][0] == "error" and ("outside the project" in seen[name][1] or ".hunch/" in seen[name][1]), name
    assert seen["plot out"][0] == "error" and "outside the project" in seen["plot out"][1]
    assert not (tmp_path / "fig.png").exists() and not (project.root.parent.parent / "fig.png").exists()
    drawn = seen["plot"]["files"][0]
    assert Path(drawn["figure"]).is_file() and Path(drawn["figure"]).is_relative_to(project.root)
    assert drawn["csv"].splitlines()[0] and "loss" in drawn["csv"]
    assert len(json.loads(hunch("runs", "--json", check=0).stdout)) == 1


def test_a_run_attached_to_a_question_afterwards_keeps_it_through_a_rebuild(project, hunch):
    hunch("tree", "add", "Ship a good model", "--why", "users", check=0)
    hunch("tree", "add", "Does width help?", "--under", "g1", "--kind", "question", "--why", "cheap", check=0)
    seen: dict[str, Any] = {}

    async def script(agent: Agent) -> None:
        run = (await agent.call("run", spec="exp.yaml", predict=["acc > 0.1 @ 70%"]))["runs"][0]["id"]
        seen["attach"] = await agent.call("attach", run=run, question="q1")
        seen["move"] = await agent.call("attach", run=run, question="g1")

    drive(project, script, "--agent", "named-by-flag")
    run = seen["attach"]["run_id"]
    assert seen["move"][0] == "error" and "already serves question q1" in seen["move"][1]
    hunch("store", "rebuild", check=0)
    shown = json.loads(hunch("runs", "--json", check=0).stdout)[0]
    assert shown["question"] == "q1" and shown["agent"] == "named-by-flag"
    assert "Does width help?" in hunch("why", run, check=0).stdout


def test_over_http_only_requests_with_the_token_are_served_on_loopback(project, unused_port):
    token = "a-test-token-of-24-chars"
    _settings(project, f"mcp_token: {token}\n")
    port = unused_port
    proc = subprocess.Popen([sys.executable, "-m", "hunchlab", "mcp", "--http", str(port)], cwd=project.root,
                            env=dict(os.environ), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the server did not start listening"
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/mcp"
        assert httpx2.post(url, json={}).status_code == 401
        assert httpx2.post(url, json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        names: list[str] = []

        async def main() -> None:
            client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            async with Client(streamable_http_client(url, http_client=client)) as mcp_client:
                names.extend(t.name for t in (await mcp_client.list_tools()).tools)

        anyio.run(main)
        assert "run" in names and "calibration" in names
    finally:
        proc.terminate()
        proc.wait(timeout=30)
