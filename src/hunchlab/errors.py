"""The one exception family users see.

Every error a user can cause (a bad spec, an unknown run id, a store from a newer
hunchlab) is a ``HunchError``. The library raises it with *what* went wrong,
*where*, and *what to do*; only the CLI entry point prints it and exits with
``exit_code``, the way click's ``Command.main`` handles ``ClickException``.
The library never prints and never imports click.
"""

from __future__ import annotations

from collections.abc import Iterable


class HunchWarning(UserWarning):
    """Something the user should know that does not stop the command (the CLI prints it on one line)."""


class HunchError(Exception):
    """A problem the user can fix: printed in one or two lines, exit code 2."""

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.format_message())

    def format_message(self) -> str:
        """``where: what`` on the first line, the fix on the second."""
        head = f"{self.where}: {self.what}" if self.where else self.what
        return f"{head}\n  {self.fix}" if self.fix else head


class SpecError(HunchError):
    """A spec file, a study's params, the settings file or a command-line override that does not validate."""


class NotFound(HunchError):
    """A run, question, metric or other named thing that does not exist."""


class BadInput(HunchError):
    """A value given on the command line or to a library call that is of the wrong kind or out of range
    (a negative budget, a metric that is not a number, too few values for a statistic)."""


class WrongState(HunchError):
    """A named thing that exists but is in the wrong state (or is the wrong kind) for what was asked:
    a log call on a finished run, a question resolved twice, a sweep where an ablation was named,
    a folder that is not empty."""


class CodeMissing(NotFound):
    """Code a run or sweep recorded (its commit, its uncommitted changes) that is not where it must be rebuilt."""


class StoreError(HunchError):
    """A store that cannot be opened: missing, corrupted, or from a newer hunchlab."""


class Refused(HunchError):
    """What an agent asked of ``hunch mcp`` that its guard rails refuse: a run without a prediction,
    a spent budget, a path outside the project, a change to someone else's record."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    import difflib  # only when a name was wrong: it costs every process ~5 ms to import

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class StoreDamaged(StoreError):
    """A store file that SQLite (or the decoder) finds corrupted: rebuild it from the run folders and the ledger."""


class StoreUnreachable(StoreError):
    """A team store (PostgreSQL) that does not answer: down, restarting, or the URL is wrong."""


class EndpointError(HunchError):
    """A server hunchlab talks to that refuses a request, fails, or cannot be reached: a model endpoint
    (``hunchlab.models``) or a Ray cluster (``hunch sweep --executor ray``)."""


class MissingPackage(HunchError):
    """An optional package a feature needs that is not installed (mcp, ray, pyarrow, tensorboard, inspect_ai,
    wandb, mlflow, transformers): the fix names the ``pip install`` that brings it."""


class MachineError(HunchError):
    """A fault of the machine, not of the input: a full disk, a read-only folder, a permission denied."""


class NoSpace(MachineError):
    """No space left on the device (or the disk quota is used up)."""


class ReadOnly(MachineError):
    """A folder or file hunchlab must write is read-only (a read-only mount, or no write permission)."""


# errno -> (the error class, what happened, what to do); the faults a person fixes on the machine.
_OS_FAULTS: dict[str, tuple[type[MachineError], str, str]] = {
    "ENOSPC": (NoSpace, "no space left on device", "free some space on that disk (`df -h` shows it), then try again"),
    "EDQUOT": (NoSpace, "disk quota exceeded", "free some space or ask for a larger quota, then try again"),
    "EROFS": (ReadOnly, "read-only file system",
              "remount it writable, or work in a copy of the project on a writable disk"),
    "EACCES": (ReadOnly, "permission denied",
               "give your user write access to the project (`ls -l` shows the owner), or run as its owner"),
    "EPERM": (ReadOnly, "operation not permitted",
              "give your user write access to the project (`ls -l` shows the owner), or run as its owner"),
    "EIO": (MachineError, "input/output error (the disk may be failing)",
            "check the disk (`dmesg` shows I/O errors); copy the project elsewhere before it gets worse"),
}


def machine_error(e: OSError, doing: str | None = None, where: str | None = None) -> MachineError | None:
    """The message for an OSError that is a fault of the machine, or None when it is not one.

    ``doing`` says what hunchlab was doing ("writing the run's events"); ``where`` is
    the file, by default the one the error names.
    """
    import errno

    name = errno.errorcode.get(e.errno or 0, "")
    if name not in _OS_FAULTS:
        return None
    cls, what, fix = _OS_FAULTS[name]
    return cls(f"{what}{' while ' + doing if doing else ''}", where=where or (str(e.filename) if e.filename else None), fix=fix)
