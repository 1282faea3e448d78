"""The one exception family users see.

Every error a user can cause (a bad spec, an unknown run id, a store from a newer
hunchlab) is a ``HunchError``. The library raises it with *what* went wrong,
*where*, and *what to do*; only the CLI entry point prints it and exits with
``exit_code``, the way click's ``Command.main`` handles ``ClickException``.
The library never prints and never imports click.
"""

from __future__ import annotations

from collections.abc import Iterable


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
    """A spec file or command-line override that does not validate."""


class NotFound(HunchError):
    """A run, question, metric or other named thing that does not exist."""


class StoreError(HunchError):
    """A store that cannot be opened: missing, corrupted, or from a newer hunchlab."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    import difflib  # only when a name was wrong: it costs every process ~5 ms to import

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
