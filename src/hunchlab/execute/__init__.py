"""Running specs: the local runner now, sweeps and the Ray executor later."""

from hunchlab.execute.local import RunOutcome, run_spec

__all__ = ["RunOutcome", "run_spec"]
