"""Failure triage: sample a run's failures, read them, tag them, count categories largest first.

"Pick out a hundred failure cases and look at them all. Categorize them and then focus
on the largest category." The library behind ``hunch examples``, ``hunch failures``,
``hunch tag`` and ``hunch categories``, the dashboard's triage page and the MCP tools;
everything returns plain data. This package's ``__all__`` is the API docs/triage.md shows
(``from hunchlab import triage``); each step lives in the module named for it:

- ``examples``: a run's example records, filtered (``--where``), listed or exported.
- ``samples``: the stored, reproducible failure sample (``stratified`` holds its statistics:
  allocation over strata, the draw, the estimated share of all failures with its interval).
- ``session``: an open sample being read and tagged one example at a time (``textdiff``
  shows how an output differs from its target).
- ``tags``: one category and note per example per run, carried across runs by example id.
- ``categories``: counts largest first, each with its estimated share of all failures.

The store's queries (``hunchlab.store.triage``) are imported inside functions: ``hunch failures
--help`` imports this package and must not load SQLAlchemy.
"""

from __future__ import annotations

from hunchlab.triage.categories import CategoryReport, CategoryRow, categories, plot_categories
from hunchlab.triage.examples import export_examples, list_examples
from hunchlab.triage.samples import DEFAULT_SAMPLE, Sample, failures
from hunchlab.triage.session import Triage, open_failures
from hunchlab.triage.tags import tag, tag_from_csv
from hunchlab.triage.textdiff import text_diff

__all__ = [
    "DEFAULT_SAMPLE",
    "CategoryReport",
    "CategoryRow",
    "Sample",
    "Triage",
    "categories",
    "export_examples",
    "failures",
    "list_examples",
    "open_failures",
    "plot_categories",
    "tag",
    "tag_from_csv",
    "text_diff",
]
