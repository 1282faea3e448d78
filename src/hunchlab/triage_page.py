"""The dashboard's failure-triage page: the stored sample one example at a time, drawing a sample,
and tagging, skipping or untagging an example, saved as ``hunch failures`` saves it.

In the library, not ``web/``, because it reads the store, which the surfaces never import; the
page's POSTs call ``draw_failures`` and ``triage_action``, its GET only reads.
"""

from __future__ import annotations

from typing import Any, TypedDict

from hunchlab import triage
from hunchlab.current import current_store
from hunchlab.errors import BadInput, NotFound
from hunchlab.project import Project
from hunchlab.store.triage import load_sample
from hunchlab.store.web import example_counts


class NoSample(TypedDict):
    """The triage page before a sample is drawn: the run's id, its example counts, the draw's default size."""

    run: dict[str, str]
    sample: None
    examples: dict[str, int]
    default_size: int


class TriagePage(TypedDict):
    """The triage page (``/runs/ID/triage``): the run's id, the stored sample (without its items, which
    come next), the example at ``position`` with its tag and a target/output diff when both are text,
    progress, the categories in use, and the categories report (``triage.categories``)."""

    run: dict[str, str]
    sample: dict[str, Any]
    items: list[dict[str, Any]]
    position: int
    example: dict[str, Any]
    diff: list[list[tuple[str, str]]] | None
    progress: dict[str, int]
    categories: list[str]
    report: dict[str, Any]


def triage_page(ref: str, *, position: int = 0, project: Project | None = None) -> TriagePage | NoSample:
    """One example of the run's stored failure sample, the sample with its tags, and the
    categories largest first: the page ``hunch failures`` is on a terminal.

    Only reads: with no sample stored yet it says so (``sample`` is None) with what a draw
    needs, and ``draw_failures`` (a POST) stores one. A GET that drew let any page on the
    machine replace the sample with an ``<img>`` tag.
    """
    with current_store(project) as store, store.read() as conn:
        run_id = store.resolve_run(ref)
        stored = load_sample(conn, run_id) is not None
        if not stored:
            return {"run": {"id": run_id}, "sample": None, "examples": example_counts(conn, run_id),
                    "default_size": triage.DEFAULT_SAMPLE}
    drawn = triage.failures(run_id, resume=True, project=project)
    with triage.open_failures(drawn.run_id, resume=True, project=project) as session:
        position = min(max(0, position), len(session) - 1)
        example = session.example(position)
        progress, names, items = session.progress(), list(session.categories), session.items
    target, output = example.get("target"), example.get("output")
    diff = triage.text_diff(target, output) if isinstance(target, str) and isinstance(output, str) else None
    return {"run": {"id": drawn.run_id}, "sample": {k: v for k, v in drawn.to_dict().items() if k != "items"},
            "items": items, "position": position, "example": example, "diff": diff, "progress": progress,
            "categories": names, "report": triage.categories(drawn.run_id, project=project).to_dict()}


def draw_failures(ref: str, *, sample: int, seed: int = 0, by: str | None = None,
                  project: Project | None = None) -> dict[str, Any]:
    """Draw and store a failure sample (replacing the stored one; its tags are kept)."""
    drawn = triage.failures(ref, sample=sample, seed=seed, by=by, project=project).to_dict()
    return {k: v for k, v in drawn.items() if k != "items"}


def triage_action(ref: str, position: int, action: str, *, category: str | None = None, note: str | None = None,
                  project: Project | None = None) -> int:
    """Tag (``tag``), skip (``skip``) or untag (``clear``) the sample's example at ``position``,
    saved as ``hunch failures`` saves it; returns the position to show next."""
    with triage.open_failures(ref, resume=True, project=project) as session:
        if not 0 <= position < len(session):
            raise NotFound(f"position {position} is outside the sample of {len(session)}")
        if action == "tag":
            session.tag(position, category or "")
            if note:
                session.note(position, note)
        elif action == "skip":
            session.skip(position)
        elif action == "clear":
            session.untag(position)
            return position
        else:
            raise BadInput(f"unknown action {action!r}", fix="tag, skip or clear")
        return min(position + 1, len(session) - 1)
