"""The dashboard's pages: each parses its request, makes one library call, returns the data.

``app.py`` renders the data with the page's template, or as JSON at the ``.json`` twin.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from hunchlab import dashboard
from hunchlab.errors import HunchError
from hunchlab.project import Project
from hunchlab.web.app import ARTIFACT_CSP, Page, json_response, redirect


def _project(request: Request) -> Project:
    return request.app.state.project


def _int(request: Request, name: str, default: int, lo: int = 1, hi: int = 10_000) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HunchError(f"{name}={raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise HunchError(f"{name}={value} must be between {lo} and {hi}")
    return value


def _float(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise HunchError(f"{name}={raw!r} is not a number") from None


def _text(request: Request, name: str) -> str | None:
    return (request.query_params.get(name) or "").strip() or None


# ============================================================ runs


def runs(request: Request) -> dict[str, Any]:
    where = (request.query_params.get("where") or "").split()
    return dashboard.runs_table(where=where, search=_text(request, "q"), status=_text(request, "status"),
                                question=_text(request, "question"), sort=_text(request, "sort") or "-created",
                                page=_int(request, "page", 1), per_page=_int(request, "per", 50, hi=1000),
                                grouped=request.query_params.get("group", "1") != "0", project=_project(request))


def run(request: Request) -> dict[str, Any]:
    return dashboard.run_page(request.path_params["run_id"], project=_project(request))


def series(request: Request) -> dict[str, Any]:
    key = _text(request, "key")
    if key is None:
        raise HunchError("which metric? add ?key=NAME", fix="the run page lists the metrics it logged")
    return dashboard.metric_series(request.path_params["run_id"], key, lo=_float(request, "lo"),
                                   hi=_float(request, "hi"), buckets=_int(request, "buckets", 1000, hi=20_000),
                                   project=_project(request))


def examples(request: Request) -> dict[str, Any]:
    correct = {"right": True, "wrong": False}.get(request.query_params.get("correct", ""))
    return dashboard.examples_page(request.path_params["run_id"], correct=correct, search=_text(request, "q"),
                                   page=_int(request, "page", 1), per_page=_int(request, "per", 50, hi=500),
                                   project=_project(request))


def add_note(request: Request, form: FormData) -> Any:
    """Save a journal entry about the run (``hunch note --run RUN -m TEXT`` from a form)."""
    from hunchlab import journal

    entry = journal.add_note(str(form.get("text") or ""), kind=str(form.get("kind") or "note"),
                             run_ref=request.path_params["run_id"], project=_project(request))
    if request.state.as_json or "application/json" in request.headers.get("accept", ""):
        return json_response({"ok": True, "entry": entry})
    return redirect(f"/runs/{quote(entry['run_id'])}#journal")


async def artifact(request: Request) -> Response:
    """An artifact file: images inline, everything else as a download; always sandboxed."""
    path = await run_in_threadpool(dashboard.artifact_file, request.path_params["run_id"],
                                   request.path_params["name"], project=_project(request))
    media = (dashboard.IMAGE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
             or "application/octet-stream")
    inline = path.suffix.lower() in dashboard.IMAGE_TYPES
    response = FileResponse(path, media_type=media, filename=None if inline else path.name)
    response.headers["Content-Security-Policy"] = ARTIFACT_CSP
    return response


def triage(request: Request) -> dict[str, Any]:
    sample = request.query_params.get("sample")
    return dashboard.triage_page(request.path_params["run_id"], position=_int(request, "pos", 0, lo=0, hi=10**6),
                                 sample=None if sample in (None, "") else _int(request, "sample", 100),
                                 seed=_int(request, "seed", 0, lo=0, hi=2**31), by=_text(request, "by"),
                                 project=_project(request))


def tag(request: Request, form: FormData) -> Any:
    """Tag, skip or untag one example of the failure sample (the same tags ``hunch tag`` writes)."""
    try:
        position = int(str(form.get("position", "")))
    except ValueError:
        raise HunchError("the form has no example position") from None
    run_id = request.path_params["run_id"]
    nxt = dashboard.triage_action(run_id, position, str(form.get("action") or "tag"),
                                  category=str(form.get("category") or "") or None,
                                  note=str(form.get("note") or "") or None, project=_project(request))
    if "application/json" in request.headers.get("accept", ""):
        return json_response({"ok": True, "next": nxt})
    return redirect(f"/runs/{quote(run_id)}/triage?pos={nxt}")


# ============================================================ compare


def compare(request: Request) -> dict[str, Any]:
    """The comparison as data, and as the blocks ``hunch compare`` prints (so both always agree)."""
    from hunchlab.compare import compare as compare_sides
    from hunchlab.report import compare_blocks

    selectors = _selectors(request)
    if not selectors:
        return {"selectors": [], "result": None, "blocks": []}
    result = compare_sides(selectors, project=_project(request))
    return {"selectors": selectors, "result": result, "blocks": compare_blocks(result)}


def _selectors(request: Request) -> list[str]:
    return [s.strip() for s in request.query_params.getlist("s") if s.strip()]


def curves(request: Request) -> dict[str, Any]:
    return dashboard.compare_curves(_selectors(request), request.query_params.getlist("metric"),
                                    project=_project(request))


# ============================================================ tree, journal, calibration


def tree(request: Request) -> dict[str, Any]:
    from hunchlab.tree import tree as nodes

    return {"nodes": nodes(_project(request))}


def journal(request: Request) -> dict[str, Any]:
    return dashboard.journal_entries(search=_text(request, "q"), kind=_text(request, "kind"),
                                     run=_text(request, "run"), project=_project(request))


def calibration(request: Request) -> dict[str, Any]:
    from hunchlab.predict import calibration as report

    return {"report": report(project=_project(request)).to_dict()}


PAGES = [
    Page("/runs", "runs.html", runs),
    Page("/runs/{run_id}/series.json", None, series, twin=False),
    Page("/runs/{run_id}/examples", "examples.html", examples),
    Page("/runs/{run_id}/notes", None, add_note, methods=("POST",), twin=False),
    Page("/runs/{run_id}/triage", "triage.html", triage),
    Page("/runs/{run_id}/tags", None, tag, methods=("POST",), twin=False),
    Page("/runs/{run_id}", "run.html", run),
    Page("/compare/curves.json", None, curves, twin=False),
    Page("/compare", "compare.html", compare),
    Page("/tree", "tree.html", tree),
    Page("/journal", "journal.html", journal),
    Page("/calibration", "calibration.html", calibration),
]
