"""Starting ``hunch mcp``: the project, the agent's name, the transport, the token; then serve until closed."""

from __future__ import annotations

import importlib.util
import secrets

from hunchlab.errors import MissingPackage
from hunchlab.project import SETTINGS_FILE, Project, find_project
from hunchlab.who import agent_name


def token(project: Project) -> tuple[str, bool]:
    """The HTTP bearer token: the ``mcp_token`` setting, or a fresh one (``True``: print it, it is new)."""
    configured = project.setting("mcp_token")
    return (str(configured), False) if configured else (secrets.token_urlsafe(24), True)


def serve(*, agent: str | None = None, http_port: int | None = None, http_token: str | None = None,
          project: Project | None = None) -> None:
    """Serve until the client closes stdin (stdio) or the process is stopped (HTTP on 127.0.0.1:``http_port``).

    The agent's name, when given or set, is checked before anything is served; the store
    is opened once so a damaged or newer store is reported here, not at the first tool call.
    """
    from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called

    project = project or find_project()
    name = agent_name(agent, where="--agent") if agent else None
    if name is None and project.setting("agent_name"):
        name = agent_name(project.setting("agent_name"), where=str(project.hunch_dir / SETTINGS_FILE))
    if importlib.util.find_spec("mcp") is None:
        raise MissingPackage("`hunch mcp` needs the Model Context Protocol SDK, which is not installed",
                             fix="pip install 'hunchlab[mcp]'")
    open_store(project).close()
    from hunchlab.mcp.server import serve_http, serve_stdio  # lazy: loads mcp only when called

    if http_port is None:
        serve_stdio(project, agent=name)
    else:
        serve_http(project, port=http_port, token=http_token or token(project)[0], agent=name)
