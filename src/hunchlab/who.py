"""Who did it: the person at the keyboard, or a named agent working through ``hunch mcp``.

Runs, predictions, tags, journal entries, tree nodes and sweeps carry an ``agent``
column: an agent's name, or None for the person (shown as "you"). Agents are held to
the same habits, so their record is read the same way: ``hunch runs --by NAME`` and
``hunch calibration --by agent``.
"""

from __future__ import annotations

import re

from hunchlab.errors import BadInput

PERSON = "you"
ANY_AGENT = "agent"
RESERVED = (PERSON, ANY_AGENT, "agents")
_NAME = re.compile(r"^[A-Za-z0-9][\w.@+-]{0,63}$")


def label(agent: str | None) -> str:
    """How a row's author is shown: the agent's name, or "you"."""
    return agent or PERSON


def agent_name(raw: str, *, where: str) -> str:
    """A name to record agents' work under: letters, digits and ``._@+-``, at most 64, none of the reserved words.

    A client's self-reported name such as "Claude Desktop" becomes "Claude-Desktop".
    """
    name = "-".join(str(raw).split())
    if not _NAME.match(name) or name.lower() in RESERVED:
        raise BadInput(f"agent name {raw!r} cannot be used", where=where,
                       fix="letters, digits and . _ @ + - (at most 64), and not 'you', 'agent' or 'agents'")
    return name


def matches(agent: str | None, by: str) -> bool:
    """Whether a row by ``agent`` is selected by ``--by``: "you", "agent" (any agent) or one agent's name."""
    if by == PERSON:
        return agent is None
    if by in (ANY_AGENT, "agents"):
        return agent is not None
    return agent == by


def from_client(name: str | None) -> str:
    """The name an MCP client gives itself, made into an agent name ("Claude Desktop" → "Claude-Desktop")."""
    cleaned = re.sub(r"[^\w.@+-]+", "-", (name or "").strip()).strip("-._@+")[:64]
    if not cleaned:
        return "mcp-client"
    return f"{cleaned}-agent" if cleaned.lower() in RESERVED else cleaned
