"""What the sweep driver hands an executor: a ``Job`` (one trial of a stored sweep) and the
``Executor`` protocol the local pool and Ray both implement (below both, so neither imports the driver)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from hunchlab.execute.local import Control, RunOutcome
from hunchlab.execute.plan import trial_spec
from hunchlab.spec import Spec


@dataclass
class Job:
    """One trial to run now, with the stored sweep it belongs to."""

    sweep: dict[str, Any]
    trial: dict[str, Any]

    @property
    def key(self) -> tuple[str, int]:
        return self.sweep["id"], self.trial["trial"]

    def spec(self) -> Spec:
        return trial_spec(Spec(**self.sweep["spec"]), self.trial["overrides"], self.trial["seed"])

    def meta(self) -> dict[str, Any]:
        """What a trial's run records about its sweep (read by `hunch compare` for the tuning budget)."""
        s = self.sweep
        t = self.trial
        return {"sweep": {"id": s["id"], "kind": s["kind"], "trial": t["trial"], "config": t["config"],
                          "label": t["label"], "budget": s["budget"], "role": s["role"], "pair": s["pair_id"]},
                "code": s["code"], **({"agent": s["agent"]} if s.get("agent") else {})}


class Executor(Protocol):
    """Runs trials; ``run`` blocks in a driver thread until the trial's run has ended and is folded."""

    name: str
    slots: int
    address: str | None  # the Ray cluster it runs on, stored with the sweep for resume; None: none, or its own

    def open(self, sweeps: list[dict[str, Any]]) -> None: ...

    def run(self, job: Job, control: Control) -> RunOutcome: ...

    def close(self) -> None: ...


