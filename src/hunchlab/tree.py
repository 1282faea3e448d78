"""The theory-of-change tree: goal → project → question, and every run under a question.

"If you can't trace up the stack why the thing you're doing day to day matters,
it's a warning flag." Each node says *why* answering it moves its parent; a run
names the question it serves, so ``hunch why RUN`` walks from an experiment to the
goal, and the tree shows where the work (and the open predictions) actually are.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hunchlab import run_records
from hunchlab.current import current_store
from hunchlab.errors import BadInput, NotFound, SpecError, WrongState, did_you_mean
from hunchlab.events import FILENAME, EventWriter
from hunchlab.project import Project, find_project

if TYPE_CHECKING:
    from hunchlab.shapes import RunRow

KINDS = ("goal", "project", "question")


def _node(conn: Any, node_id: str) -> dict[str, Any]:
    from hunchlab.store.journal import get_node, list_nodes  # lazy: loads sqlalchemy only when called

    node = get_node(conn, node_id)
    if node is None:
        ids = [n["id"] for n in list_nodes(conn)]
        raise NotFound(f"no node '{node_id}' in the tree{did_you_mean(node_id, ids)}",
                       fix="`hunch tree` shows the ids" if ids else 'start one: hunch tree add "My goal" --why "..."')
    return node


def add(title: str, *, under: str | None = None, why: str | None = None, kind: str | None = None,
        agent: str | None = None, project: Project | None = None) -> dict[str, Any]:
    """Add a node; its kind follows from its parent (none → goal, goal → project, else question).

    ``agent`` names the agent that added it (None: you)."""
    from hunchlab.store.journal import get_node, insert_node  # lazy: loads sqlalchemy only when called

    if not title.strip():
        raise BadInput("a node needs a title", fix='hunch tree add "title" --under ID --why "..."')
    with current_store(project) as store, store.write() as conn:
        parent = _node(conn, under) if under else None
        natural = "goal" if parent is None else ("project" if parent["kind"] == "goal" else "question")
        kind = kind or natural
        if kind not in KINDS:
            raise BadInput(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if kind == "goal" and parent is not None:
            raise BadInput("a goal has no parent", fix="drop --under, or add a project or question instead")
        if kind != "goal" and parent is None:
            raise BadInput(f"a {kind} needs a parent", fix=f'hunch tree add "{title}" --under ID (see `hunch tree`)')
        node_id = insert_node(conn, kind=kind, title=title.strip(), why=why, parent_id=parent["id"] if parent else None,
                              agent=agent)
        return get_node(conn, node_id)  # type: ignore[return-value]


def move(node_id: str, *, under: str, project: Project | None = None) -> dict[str, Any]:
    """Re-parent a node; refuses a move that would make a cycle."""
    from hunchlab.store.journal import get_node, update_node  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.write() as conn:
        node = _node(conn, node_id)
        parent: dict[str, Any] | None = _node(conn, under)
        walk = parent
        while walk is not None:
            if walk["id"] == node["id"]:
                raise BadInput(f"moving {node_id} under {under} would make a cycle ({under} is inside {node_id})")
            walk = get_node(conn, walk["parent_id"]) if walk["parent_id"] else None
        update_node(conn, node_id, parent_id=under)
        return get_node(conn, node_id)  # type: ignore[return-value]


def answer(node_id: str, text: str, *, project: Project | None = None) -> dict[str, Any]:
    return _close(node_id, "answered", answer=text, project=project)


def drop(node_id: str, why: str, *, project: Project | None = None) -> dict[str, Any]:
    return _close(node_id, "dropped", answer=f"dropped: {why}", project=project)


def _close(node_id: str, status: str, *, answer: str, project: Project | None) -> dict[str, Any]:
    from hunchlab.store.journal import get_node, update_node  # lazy: loads sqlalchemy only when called

    if not answer.strip() or answer.strip() == "dropped:":
        raise BadInput("say what was learned (or why it is dropped) in a sentence or two")
    with current_store(project) as store, store.write() as conn:
        _node(conn, node_id)
        update_node(conn, node_id, status=status, answer=answer.strip())
        return get_node(conn, node_id)  # type: ignore[return-value]


def check_question(project: Project, question_id: str, *, where: str | None = None) -> None:
    """Fail before a run starts if the question it names is not in the tree."""
    from hunchlab.store.journal import list_nodes  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        nodes = {n["id"]: n for n in list_nodes(conn)}
    if question_id not in nodes:
        raise SpecError(f"question '{question_id}' is not in the tree{did_you_mean(question_id, nodes)}", where=where,
                        fix=f'add it: hunch tree add "..." --under ID --why "..."; or pick one of: '
                            f'{", ".join(nodes) or "(the tree is empty)"}')


def open_questions(project: Project | None = None) -> list[dict[str, Any]]:
    from hunchlab.store.journal import list_nodes  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        return [n for n in list_nodes(conn) if n["kind"] == "question" and n["status"] == "open"]


def tree(project: Project | None = None) -> list[dict[str, Any]]:
    """Every node with its depth and activity, in display order (children under parents)."""
    from hunchlab.store.journal import list_nodes  # lazy: loads sqlalchemy only when called
    from hunchlab.store.predictions import list_predictions  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        nodes = list_nodes(conn)
        runs = store.list_runs()
        open_preds = list_predictions(conn, kind="run", status="open")
    # keyed by str | None: a prediction's run_id is None for a forecast, which has no run
    run_question: dict[str | None, str | None] = {r["id"]: r["question"] for r in runs}
    by_question: dict[str, list[RunRow]] = {}
    for r in runs:
        if r["question"]:
            by_question.setdefault(r["question"], []).append(r)
    preds: dict[str, int] = {}
    for p in open_preds:
        q = run_question.get(p["run_id"])
        if q:
            preds[q] = preds.get(q, 0) + 1
    children: dict[str | None, list[dict[str, Any]]] = {}
    for n in nodes:
        children.setdefault(n["parent_id"], []).append(n)

    out: list[dict[str, Any]] = []

    def visit(node: dict[str, Any], depth: int) -> tuple[int, int, float]:
        own = by_question.get(node["id"], [])
        row = {**node, "depth": depth, "runs": len(own), "open_predictions": preds.get(node["id"], 0)}
        out.append(row)
        n_runs, n_preds, last = len(own), preds.get(node["id"], 0), max([node["updated_at"]] + [
            r["ended_at"] or r["created_at"] for r in own])
        finished = [r for r in own if r["status"] == "finished"]
        row["last_result"] = _result_line(finished[0]) if finished else None
        for child in children.get(node["id"], []):
            c_runs, c_preds, c_last = visit(child, depth + 1)
            n_runs, n_preds, last = n_runs + c_runs, n_preds + c_preds, max(last, c_last)
        row.update(total_runs=n_runs, total_open_predictions=n_preds, last_activity=last)
        return n_runs, n_preds, last

    for root in children.get(None, []):
        visit(root, 0)
    return out


def _result_line(run: RunRow) -> str:
    metrics = [(k, v) for k, v in run["summary"].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics[:2])
    return f"{run['id']}: {shown}" if shown else run["id"]


def orphans(project: Project | None = None) -> list[RunRow]:
    """Runs that serve no question."""
    return [r for r in run_records.runs(project=project) if not r["question"]]


def stale(days: float, project: Project | None = None) -> list[dict[str, Any]]:
    """Open questions with no run in the last ``days`` days."""
    cutoff = time.time() - days * 86400
    return [n for n in tree(project) if n["kind"] == "question" and n["status"] == "open"
            and n["last_activity"] < cutoff]


def why_node(node_id: str, project: Project | None = None) -> list[dict[str, Any]]:
    """A node and its ancestors up to the goal (raises NotFound for an unknown node)."""
    from hunchlab.store.journal import get_node  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        node: dict[str, Any] | None = _node(conn, node_id)
        chain = []
        while node is not None and node not in chain:
            chain.append(node)
            node = get_node(conn, node["parent_id"]) if node["parent_id"] else None
    return chain


def why(run_ref: str, project: Project | None = None) -> list[dict[str, Any]]:
    """The chain from a run up to its goal: the run, then each node with its why."""
    run = run_records.get_run(run_ref, metrics=False, examples=False, project=project)
    head = {"kind": "run", "id": run["id"], "title": run["name"] or run["id"],
            "why": (run.get("spec") or {}).get("description")}
    return [head, *(why_node(run["question"], project) if run["question"] else [])]



def attach(run_ref: str, question_id: str, *, move: bool = False, project: Project | None = None) -> dict[str, Any]:
    """Make a run serve a question after the fact; returns ``{"run_id", "question", "was"}``.

    Written as a ``meta`` event in the run's own event file (not only in the store), so
    the link survives ``hunch store rebuild``. A run that already serves another
    question keeps it unless ``move`` is given.
    """
    from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called

    project = project or find_project()
    run = run_records.get_run(run_ref, metrics=False, examples=False, project=project)
    check_question(project, question_id, where=f"run {run['id']}")
    was = run["question"]
    if was not in (None, question_id) and not move:
        raise WrongState(f"run {run['id']} already serves question {was}",
                         fix=f"hunch tree attach {run['id']} {question_id} --move moves it")
    if was != question_id:
        writer = EventWriter(project.run_dir(run["id"]) / FILENAME, fsync=project.setting("durability") == "machine")
        try:
            writer.write({"t": "meta", "d": {"question": question_id}})
        finally:
            writer.close()
        (project.pending_dir / run["id"]).touch()  # folded by the next reader if the store is out of reach now
        with open_store(project) as store:
            store.sync_run(run["id"])
    return {"run_id": run["id"], "question": question_id, "was": was}
