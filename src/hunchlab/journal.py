"""The research journal: notes drafted from what the store knows, surprises, review.

"Keep a record: assumptions, settings, expectations, results, and updated
knowledge. Rereading last month's records will humble you." A note about a run is
pre-filled with its question and why, its config and what changed since the last
run of the same spec, its predictions and how they scored, and its results, so
only the thinking is left to type.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hunchlab import predict, run_records, tree
from hunchlab.current import current_store
from hunchlab.errors import BadInput, NotFound
from hunchlab.project import Project, find_project
from hunchlab.timeparse import parse_duration

KINDS = ("note", "plan", "result", "surprise", "decision", "hamming")
HEADINGS = ("Assumptions", "Settings", "Expectations", "Results", "Updated knowledge")
HAMMING = ("What are the important problems in your field?", "Why are you not working on them?")
BELIEF_HEADING = "## What I now believe"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise BadInput(f"kind {kind!r} is not one of {', '.join(KINDS)}")


# -- drafting -------------------------------------------------------------------------------------
def draft(*, run_ref: str | None = None, question_id: str | None = None, kind: str = "note",
          project: Project | None = None) -> str:
    """The Markdown template for a new entry, pre-filled from the run and its question."""
    project = project or find_project()
    sections: dict[str, list[str]] = {h: [] for h in HEADINGS}
    title = kind.capitalize()
    if run_ref:
        run = run_records.get_run(run_ref, metrics=False, examples=False, project=project)
        title = f"{kind.capitalize()}: {run['name'] or 'run'} {run['id']}"
        question_id = question_id or run["question"]
        sections["Settings"] += [f"- run {run['id']} ({run['status']}), spec {(run.get('spec') or {}).get('path')}, "
                                 f"seed {run['seed']}",
                                 *[f"- {k} = {v}" for k, v in run_records.flatten(run["params"]).items()]]
        changed = _changes_since_previous(run, project)
        if changed:
            sections["Settings"] += ["", "Changed since the previous run of this spec:", *changed]
        sections["Expectations"] += [f"- predicted {p['text']}" for p in run["predictions"]] or \
            [f"- ({run.get('prediction') or 'no prediction recorded'})"]
        sections["Results"] += [f"- {k} = {v:.4g}" if isinstance(v, float) else f"- {k} = {v}"
                                for k, v in run["summary"].items()]
        sections["Results"] += [f"- prediction {p['text']}: " + (
            f"{'held' if p['outcome'] else 'did not hold'} (actual {p['actual']:.4g}, Brier {p['brier']:.3f})"
            if p["status"] == "resolved" else p["status"]) for p in run["predictions"]]
    if question_id:
        chain = [n for n in tree.why_node(question_id, project=project)]
        sections["Assumptions"] += [f"- serves {n['kind']} {n['id']} “{n['title']}”" + (f": {n['why']}" if n.get("why") else "")
                                    for n in chain]
    body = [f"# {title}", ""]
    for heading in HEADINGS:
        body += [f"## {heading}", *sections[heading], "", ""]
    return "\n".join(body).rstrip() + "\n"


def _changes_since_previous(run: Mapping[str, Any], project: Project) -> list[str]:
    same = [r for r in run_records.runs(project=project)
            if r["spec_name"] == run["spec_name"] and r["seq"] < run["seq"]]
    if not same:
        return []
    prev = run_records.flatten(same[0]["params"])
    now = run_records.flatten(run["params"])
    lines = [f"- {k}: {prev.get(k, '(absent)')} → {now.get(k, '(absent)')} (vs {same[0]['id']})"
             for k in sorted(set(prev) | set(now)) if prev.get(k) != now.get(k)]
    if same[0]["seed"] != run["seed"]:
        lines.append(f"- seed: {same[0]['seed']} → {run['seed']}")
    return lines


def edit_in_editor(text: str, project: Project, *, editor: str | None = None) -> str:
    """Open ``$EDITOR`` on ``text``; on a non-zero exit keep the draft and say where."""
    editor = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    drafts = project.hunch_dir / "drafts"
    drafts.mkdir(exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=time.strftime("note-%Y%m%d-%H%M%S-"), suffix=".md", dir=drafts)
    path = Path(name)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        code = subprocess.call([*shlex.split(editor), str(path)])
    except FileNotFoundError:
        raise NotFound(f"editor {editor!r} not found; your draft is kept in {path}",
                       fix="set $EDITOR, or pass the text with -m") from None
    if code != 0:
        raise BadInput(f"the editor exited with code {code}: nothing saved; your draft is kept in {path}",
                       fix=f"edit it and save it with: hunch note --file {path}")
    result = path.read_text()
    path.unlink()
    return result


# -- entries --------------------------------------------------------------------------------------
def _title_and_body(text: str, default_title: str) -> tuple[str, str]:
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("# "):
        return lines[0][2:].strip() or default_title, "\n".join(lines[1:]).strip()
    first = next((ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")), default_title)
    return first[:80], text.strip()


def _is_empty(body: str) -> bool:
    """Only headings and the pre-filled facts: the thinking has not been written."""
    return not re.sub(r"^#.*$", "", body, flags=re.M).strip()


def add_note(text: str, *, kind: str = "note", run_ref: str | None = None, question_id: str | None = None,
             template: str | None = None, agent: str | None = None, project: Project | None = None) -> dict[str, Any]:
    """Save an entry linked to a run and/or question (``agent``: the agent that wrote it; None: you).

    An empty note is refused, and so is the ``template`` it was drafted from saved
    unchanged: the facts were pre-filled, the thinking is what makes it an entry.
    """
    from hunchlab.store.journal import get_entry, insert_entry  # lazy: loads sqlalchemy only when called

    _check_kind(kind)
    project = project or find_project()
    title, body = _title_and_body(text, kind)
    if _is_empty(body) or (template is not None and text.strip() == template.strip()):
        raise BadInput("the note is empty (nothing typed into the template): nothing saved",
                       fix='write something, e.g. hunch note -m "..."')
    run_id = None
    if run_ref:
        run = run_records.get_run(run_ref, metrics=False, examples=False, project=project)
        run_id, question_id = run["id"], question_id or run["question"]
    if question_id:
        tree.why_node(question_id, project=project)  # raises NotFound for an unknown node
    with current_store(project) as store, store.write() as conn:
        entry_id = insert_entry(conn, kind=kind, title=title, body=body, run_id=run_id, question_id=question_id,
                                agent=agent)
        return get_entry(conn, entry_id)  # type: ignore[return-value]


def write_note(text: str | None, *, kind: str = "note", run_ref: str | None = None, question_id: str | None = None,
               project: Project) -> dict[str, Any]:
    """``hunch note``: ``text`` as given, else a draft pre-filled from the run and question opened in
    ``$EDITOR`` (saved only if something was written into it: see ``add_note``)."""
    template = None
    if text is None:
        template = draft(run_ref=run_ref, question_id=question_id, kind=kind, project=project)
        text = edit_in_editor(template, project)
    return add_note(text, kind=kind, run_ref=run_ref, question_id=question_id, template=template, project=project)


def edit_entry(entry_id: int | str, project: Project) -> dict[str, Any]:
    """``hunch note --edit ENTRY``: the entry opened in ``$EDITOR`` (its title as the heading), saved back."""
    entry = get(entry_id, project)
    return rewrite(entry["id"], edit_in_editor(f"# {entry['title']}\n\n{entry['body']}\n", project), project)


def get(entry_id: int | str, project: Project | None = None) -> dict[str, Any]:
    from hunchlab.store.journal import get_entry  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        entry = get_entry(conn, _number(entry_id))
    if entry is None:
        raise NotFound(f"no journal entry #{entry_id}", fix="`hunch journal` lists them")
    return entry


def _number(entry_id: int | str) -> int:
    try:
        return int(str(entry_id).lstrip("#"))
    except ValueError:
        raise NotFound(f"journal entry id {entry_id!r} is not a number", fix="`hunch journal` lists them") from None


def rewrite(entry_id: int | str, text: str, project: Project | None = None) -> dict[str, Any]:
    """Replace an entry's text (e.g. writing up a surprise); a surprise counts as written up once
    its "What I now believe" section has something in it."""
    from hunchlab.store.journal import get_entry, update_entry  # lazy: loads sqlalchemy only when called

    entry = get(entry_id, project)
    title, body = _title_and_body(text, entry["title"])
    if not body.strip():
        raise BadInput("the entry would be empty: nothing saved")
    values: dict[str, Any] = {"title": title, "body": body}
    if entry["kind"] == "surprise":
        values["written_up"] = bool(_section(body, BELIEF_HEADING).strip())
    with current_store(project) as store, store.write() as conn:
        update_entry(conn, entry["id"], **values)
        return get_entry(conn, entry["id"])  # type: ignore[return-value]


def _section(body: str, heading: str) -> str:
    if heading not in body:
        return ""
    rest = body.split(heading, 1)[1]
    return re.split(r"^## ", rest, maxsplit=1, flags=re.M)[0]


def entries(*, since: str | None = None, question_id: str | None = None, kind: str | None = None,
            project: Project | None = None) -> list[dict[str, Any]]:
    from hunchlab.store.journal import list_entries  # lazy: loads sqlalchemy only when called

    if kind:
        _check_kind(kind)
    cutoff = time.time() - parse_duration(since) if since else None
    with current_store(project) as store, store.read() as conn:
        return list_entries(conn, since=cutoff, question_id=question_id, kind=kind)


def search(words: str, project: Project | None = None) -> list[dict[str, Any]]:
    from hunchlab.store.journal import search_entries  # lazy: loads sqlalchemy only when called

    if not words.strip():
        raise BadInput("nothing to search for", fix='hunch journal search "words"')
    with current_store(project) as store, store.read() as conn:
        return search_entries(conn, words)


def surprises(project: Project | None = None) -> list[dict[str, Any]]:
    """Surprise entries still waiting for "what I now believe"."""
    from hunchlab.store.journal import list_entries  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        return list_entries(conn, kind="surprise", written_up=False)


def export(directory: str | Path, project: Project | None = None) -> list[Path]:
    """One Markdown file per entry (date-slug.md), with front matter, that reads well in a git repo."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for e in sorted(entries(project=project), key=lambda e: e["id"]):
        day = dt.datetime.fromtimestamp(e["created_at"]).strftime("%Y-%m-%d")
        slug = re.sub(r"[^a-z0-9]+", "-", e["title"].lower()).strip("-")[:50] or e["kind"]
        path = out / f"{day}-{e['id']:04d}-{slug}.md"
        front = ["---", f"id: {e['id']}", f"kind: {e['kind']}",
                 f"created: {dt.datetime.fromtimestamp(e['created_at']).isoformat(timespec='seconds')}"]
        front += [f"run: {e['run_id']}"] if e["run_id"] else []
        front += [f"question: {e['question_id']}"] if e["question_id"] else []
        path.write_text("\n".join([*front, "---", "", f"# {e['title']}", "", e["body"], ""]))
        written.append(path)
    return written


# -- review -----------------------------------------------------------------------------------------
def review(since: str = "30d", project: Project | None = None) -> dict[str, Any]:
    """The "reread last month" page as data."""
    project = project or find_project()
    cutoff = time.time() - parse_duration(since)
    runs = [r for r in run_records.runs(project=project) if r["created_at"] >= cutoff]
    per_question: dict[str, int] = {}
    for r in runs:
        per_question[r["question"] or "(no question)"] = per_question.get(r["question"] or "(no question)", 0) + 1
    from hunchlab.store.predictions import list_predictions  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        preds = [predict.scored(p) for p in list_predictions(conn) if p["created_at"] >= cutoff]
    recent = entries(since=since, project=project)
    nodes = tree.tree(project)
    return {
        "since": since,
        "runs": len(runs),
        "runs_per_question": per_question,
        "predictions": preds,
        "brier": (sum(p["brier"] for p in preds if p["brier"] is not None)
                  / max(1, sum(p["brier"] is not None for p in preds))) if preds else None,
        "surprises": [e for e in recent if e["kind"] == "surprise"],
        "decisions": [e for e in recent if e["kind"] == "decision"],
        "questions_without_runs": [n for n in nodes if n["kind"] == "question" and n["status"] == "open"
                                   and n["total_runs"] == 0],
        "overdue": predict.due(project),
        "hamming_last": entries(kind="hamming", project=project)[:2],
        "hamming": HAMMING,
    }


def save_hamming(answers: list[str], project: Project | None = None) -> list[dict[str, Any]]:
    """Save the answers to Hamming's two questions as journal entries (shown at the next review)."""
    saved = []
    for question, text in zip(HAMMING, answers, strict=False):
        if text and text.strip():
            saved.append(add_note(f"# {question}\n\n{text.strip()}", kind="hamming", project=project))
    return saved
