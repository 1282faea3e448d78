"""``hunch mcp``: serve the Model Context Protocol so an agent can do research here (library: ``hunchlab.mcp``)."""

from __future__ import annotations

import click

from hunchlab.project import find_project


@click.command()
@click.option("--agent", metavar="NAME", help="Record the agent's work under NAME (default: the setting agent_name, "
                                              "else the name the MCP client gives itself).")
@click.option("--http", "http_port", type=click.IntRange(1, 65535), metavar="PORT",
              help="Serve streamable HTTP on 127.0.0.1:PORT instead of stdio; every request needs the token.")
def mcp(agent: str | None, http_port: int | None) -> None:
    """Serve the Model Context Protocol: an agent lists and runs experiments, compares, triages, writes notes.

    It is held to the habits asked of you: a run is refused without a prediction, its
    predictions are scored like yours (hunch calibration --by agent), everything it does
    is recorded under its name (hunch runs --by agent), it has a budget of runs and CPU
    minutes per session (settings mcp_max_runs, mcp_max_cpu_minutes), and it cannot
    delete anything or touch files outside the project. Point a client at it with the
    command `hunch mcp` run in the project's folder (docs/agents.md).

    Example: hunch mcp --agent claude-code
    """
    from hunchlab.mcp.launch import serve, token  # lazy: keeps `hunch mcp --help` light

    project = find_project()
    secret = None
    if http_port is not None:
        secret, fresh = token(project)
        click.echo(f"hunch mcp: http://127.0.0.1:{http_port}/mcp"
                   + (f" · token {secret} (set mcp_token in .hunch/settings.yaml to keep one)" if fresh else ""),
                   err=True)
    serve(agent=agent, http_port=http_port, http_token=secret, project=project)
