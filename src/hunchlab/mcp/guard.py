"""The guard rails of ``hunch mcp``: a budget per session, and paths kept inside the project.

No MCP SDK here, so the rules are plain functions a unit test can drive. The server
(``hunchlab.mcp.server``) checks them before it calls the library.
"""

from __future__ import annotations

import resource
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.errors import Refused
from hunchlab.project import HUNCH, Project


def children_cpu_seconds() -> float:
    """User + system CPU of every finished process this one waited for, and theirs (a run's entry
    is waited for by its supervisor, which the runner waits for, so a run's whole tree counts)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Budget:
    """What one server session may spend: runs (a sweep's trials count one each) and CPU minutes.

    Runs are reserved when a start is admitted, so two calls at once cannot both take
    the last one; a start that fails before any run exists gives its reservation back.
    CPU is what the session's runs have used once they end: a run in progress is
    counted when it ends, so the cap stops the next start, not the run that crosses it.
    """

    max_runs: int
    max_cpu_minutes: float
    runs: int = 0
    cpu_start: float = field(default_factory=children_cpu_seconds)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, project: Project) -> Budget:
        return cls(int(project.setting("mcp_max_runs")), float(project.setting("mcp_max_cpu_minutes")))

    def cpu_minutes(self) -> float:
        return (children_cpu_seconds() - self.cpu_start) / 60

    def admit(self, n: int, what: str) -> None:
        """Reserve ``n`` runs for ``what``, or refuse with what is spent and what is left."""
        with self._lock:
            used = self.cpu_minutes()
            if used >= self.max_cpu_minutes:
                raise Refused(f"{what}: this session has used its CPU budget ({used:.1f} of "
                              f"{self.max_cpu_minutes:g} CPU minutes)", where="hunch mcp",
                              fix="the person running `hunch mcp` can raise mcp_max_cpu_minutes in .hunch/settings.yaml "
                                  "and start a new session")
            if self.runs + n > self.max_runs:
                raise Refused(f"{what} needs {n} run(s) but this session has {self.max_runs - self.runs} of its "
                              f"{self.max_runs} left", where="hunch mcp",
                              fix="ask for fewer seeds or trials, or the person running `hunch mcp` can raise "
                                  "mcp_max_runs in .hunch/settings.yaml and start a new session")
            self.runs += n

    def give_back(self, n: int) -> None:
        with self._lock:
            self.runs -= n

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "max_runs": self.max_runs, "runs_left": self.max_runs - self.runs,
                "cpu_minutes": round(self.cpu_minutes(), 3), "max_cpu_minutes": self.max_cpu_minutes}


@dataclass
class Caller:
    """Who is asking (an agent's name), in which project, with which session's budget."""

    project: Project
    agent: str
    budget: Budget


def inside(project: Project, path: str, *, what: str) -> Path:
    """``path`` (relative to the project's folder, or absolute) resolved, if it stays in the project.

    Symbolic links are followed before the check, so a link pointing out is refused as
    surely as ``../..``; and ``.hunch/`` is refused too: the store, the ledger and the run
    folders are the project's record, not files for an agent to read or write.
    """
    root = project.root.resolve()
    raw = Path(path).expanduser()
    full = (raw if raw.is_absolute() else root / raw).resolve()
    if not full.is_relative_to(root):
        raise Refused(f"{what} '{path}' is outside the project", where=str(root),
                      fix="give a path inside the project folder, e.g. specs/exp.yaml")
    if full.is_relative_to(root / HUNCH):
        raise Refused(f"{what} '{path}' is inside {HUNCH}/, the project's own records", where=str(root),
                      fix="give a path elsewhere in the project, e.g. figures/acc.png")
    return full
