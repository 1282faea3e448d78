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

from hunchlab import journal_page, run_page, runs_table, triage_page
from hunchlab.calibration import MIN_FOR_VERDICT
from hunchlab.compare import compare as compare_sides
from hunchlab.compare_text import compare_blocks
from hunchlab.errors import BadInput
from hunchlab.metric_series import metric_series
from hunchlab.overlay import compare_curves
from hunchlab.predict import calibration as report
from hunchlab.project import Project
from hunchlab.sweep_view import sweep_view
from hunchlab.tree import tree as nodes
from hunchlab.web.responses import ARTIFACT_CSP, HERE, Page, json_response, redirect, visible_controls

# Steps are integers; a bound past 2**53 cannot name one exactly (and 1e308 overflowed SQLite's
# 64-bit INTEGER), so zoom bounds are clamped to this.
STEP_LIMIT = float(2**53)


def _project(request: Request) -> Project:
    project: Project = request.app.state.project
    return project


def _whole(raw: str | None, name: str, default: int | None, lo: int, hi: int) -> int:
    """A whole number in ``[lo, hi]`` from a parameter or form field; ``default`` when empty
    (None: the value is required)."""
    raw = (raw or "").strip()
    if not raw:
        if default is None:
            raise BadInput(f"{name} is missing")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{name}={raw[:40]!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise BadInput(f"{name}={value:,} must be between {lo:,} and {hi:,}")
    return value


def _int(request: Request, name: str, default: int, lo: int = 1, hi: int = 10_000) -> int:
    return _whole(request.query_params.get(name), name, default, lo, hi)


def _form_int(form: FormData, name: str, default: int | None, lo: int, hi: int) -> int:
    return _whole(str(form.get(name) or ""), name, default, lo, hi)


def _float(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"{name}={raw[:40]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadInput(f"{name}={raw[:40]!r} is not a finite number")
    return value


def _choice(request: Request, name: str, choices: dict[str, Any]) -> Any:
    """A parameter that takes one of a few words (``""`` or absent gives ``choices[""]``)."""
    raw = request.query_params.get(name, "")
    if raw not in choices:
        words = ", ".join(repr(k) for k in choices if k)
        raise BadInput(f"{name}={raw[:40]!r} is not one of {words}")
    return choices[raw]


def _text(request: Request, name: str) -> str | None:
    return (request.query_params.get(name) or "").strip() or None


# ============================================================ runs


def runs(request: Request) -> runs_table.RunsTable:
    where = (request.query_params.get("where") or "").split()
    return runs_table.runs_table(where=where, search=_text(request, "q"), status=_text(request, "status"),
                                 question=_text(request, "question"), sort=_text(request, "sort") or "-created",
                                 page=_int(request, "page", 1, hi=10**6),
                                 per_page=_int(request, "per", runs_table.ROWS_PER_PAGE, hi=1000),
                                 grouped=_choice(request, "group", {"": True, "1": True, "0": False}),
                                 project=_project(request))


def run(request: Request) -> run_page.RunPage:
    return run_page.run_page(request.path_params["run_id"], project=_project(request))


def series(request: Request) -> dict[str, Any]:
    key = _text(request, "key")
    if key is None:
        raise BadInput("which metric? add ?key=NAME", fix="the run page lists the metrics it logged")
    lo, hi = (None if v is None else max(-STEP_LIMIT, min(STEP_LIMIT, v))
              for v in (_float(request, "lo"), _float(request, "hi")))
    if lo is not None and hi is not None and lo > hi:
        raise BadInput(f"lo={lo:g} is above hi={hi:g}", fix="lo is the first step of the range, hi the last")
    return metric_series(request.path_params["run_id"], key, lo=lo, hi=hi,
                         buckets=_int(request, "buckets", 1000, hi=20_000), project=_project(request))


def examples(request: Request) -> run_page.ExamplesPage:
    correct = _choice(request, "correct", {"": None, "right": True, "wrong": False})
    return run_page.examples_page(request.path_params["run_id"], correct=correct, search=_text(request, "q"),
                                  page=_int(request, "page", 1), per_page=_int(request, "per", 50, hi=500),
                                  project=_project(request))


def add_note(request: Request, form: FormData) -> Any:
    """Save a journal entry about the run (``hunch note --run RUN -m TEXT`` from a form)."""
    from hunchlab import journal  # local: the name is bound differently elsewhere in this module

    entry = journal.add_note(str(form.get("text") or ""), kind=str(form.get("kind") or "note"),
                             run_ref=request.path_params["run_id"], project=_project(request))
    if request.state.as_json or "application/json" in request.headers.get("accept", ""):
        return json_response({"ok": True, "entry": entry})
    return redirect(f"/runs/{quote(entry['run_id'])}#journal")


async def artifact(request: Request) -> Response:
    """An artifact file: images inline, everything else as a download; always sandboxed."""
    path = await run_in_threadpool(run_page.artifact_file, request.path_params["run_id"],
                                   request.path_params["name"], project=_project(request))
    media = (run_page.IMAGE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
             or "application/octet-stream")
    inline = path.suffix.lower() in run_page.IMAGE_TYPES
    response = FileResponse(path, media_type=media, filename=None if inline else visible_controls(path.name))
    response.headers["Content-Security-Policy"] = ARTIFACT_CSP
    return response


def triage(request: Request) -> triage_page.TriagePage | triage_page.NoSample:
    """The stored failure sample, read only: drawing one changes the store, so it is a POST."""
    run_id = request.path_params["run_id"]
    drawing = [k for k in ("sample", "seed", "by") if k in request.query_params]
    if drawing:
        raise BadInput(f"{drawing[0]}= draws a new failure sample, which a GET never does",
                       fix=f"use the page's Draw button (a POST to /runs/{run_id}/samples)")
    return triage_page.triage_page(run_id, position=_int(request, "pos", 0, lo=0, hi=10**6), project=_project(request))


def draw_sample(request: Request, form: FormData) -> Any:
    """Draw (and store) a failure sample, as ``hunch failures RUN --sample N --seed S --by F``."""
    run_id = request.path_params["run_id"]
    size, seed = (_form_int(form, name, default, lo, hi)
                  for name, default, lo, hi in (("sample", 100, 1, 10_000), ("seed", 0, 0, 2**31)))
    drawn = triage_page.draw_failures(run_id, sample=size, seed=seed, by=str(form.get("by") or "").strip() or None,
                                      project=_project(request))
    if "application/json" in request.headers.get("accept", ""):
        return json_response({"ok": True, "sample": drawn})
    return redirect(f"/runs/{quote(drawn['run_id'])}/triage")


def tag(request: Request, form: FormData) -> Any:
    """Tag, skip or untag one example of the failure sample (the same tags ``hunch tag`` writes)."""
    position = _form_int(form, "position", None, 0, 10**6)
    run_id = request.path_params["run_id"]
    nxt = triage_page.triage_action(run_id, position, str(form.get("action") or "tag"),
                                    category=str(form.get("category") or "") or None,
                                    note=str(form.get("note") or "") or None, project=_project(request))
    if "application/json" in request.headers.get("accept", ""):
        return json_response({"ok": True, "next": nxt})
    return redirect(f"/runs/{quote(run_id)}/triage?pos={nxt}")


# ============================================================ compare


def compare(request: Request) -> dict[str, Any]:
    """The comparison as data, and as the blocks ``hunch compare`` prints (so both always agree)."""
    selectors = _selectors(request)
    if not selectors:
        return {"selectors": [], "result": None, "blocks": []}
    result = compare_sides(selectors, project=_project(request))
    return {"selectors": selectors, "result": result, "blocks": compare_blocks(result)}


def _selectors(request: Request) -> list[str]:
    return [s.strip() for s in request.query_params.getlist("s") if s.strip()]


def curves(request: Request) -> dict[str, Any]:
    return compare_curves(_selectors(request), request.query_params.getlist("metric"),
                                    project=_project(request))


# ============================================================ tree, journal, calibration


def tree(request: Request) -> dict[str, Any]:
    return {"nodes": nodes(_project(request))}


def journal(request: Request) -> dict[str, Any]:
    return journal_page.journal_entries(search=_text(request, "q"), kind=_text(request, "kind"),
                                        run=_text(request, "run"), project=_project(request))


def calibration(request: Request) -> dict[str, Any]:
    return {"report": report(project=_project(request)).to_dict(), "min_for_charts": MIN_FOR_VERDICT}


# ============================================================ sweeps


def sweep(request: Request) -> dict[str, Any]:
    where = (request.query_params.get("where") or "").split()
    return sweep_view(sweep=_text(request, "sweep"), where=where, metric=_text(request, "metric"),
                      project=_project(request))


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever the page says; answer with the page's icon."""
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")


PAGES = [
    Page("/runs", "runs.html", runs),
    Page("/runs/{run_id}/series.json", None, series, twin=False),
    Page("/runs/{run_id}/examples", "examples.html", examples),
    Page("/runs/{run_id}/notes", None, add_note, methods=("POST",), twin=False),
    Page("/runs/{run_id}/triage", "triage.html", triage),
    Page("/runs/{run_id}/samples", None, draw_sample, methods=("POST",), twin=False),
    Page("/runs/{run_id}/tags", None, tag, methods=("POST",), twin=False),
    Page("/runs/{run_id}", "run.html", run),
    Page("/compare/curves.json", None, curves, twin=False),
    Page("/compare", "compare.html", compare),
    Page("/sweep", "sweep.html", sweep),
    Page("/tree", "tree.html", tree),
    Page("/journal", "journal.html", journal),
    Page("/calibration", "calibration.html", calibration),
]
