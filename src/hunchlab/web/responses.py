"""What both the application and its routes use: a page's route, the JSON and redirect responses,
the artifact CSP and the bidi-control filter (here, below both, so the routes need not import the
application that registers them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import RedirectResponse, Response

from hunchlab import strict_json
from hunchlab.errors import NotFound

HERE = Path(__file__).parent
# Artifacts are user files (an .html or .svg one may hold script): served sandboxed, so
# opening one can never act as the dashboard.
ARTIFACT_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"

# A page's data (a plain dict, often a page TypedDict such as ``runs_table.RunsTable``), or a Response.
Handler = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class Page:
    """A route: a path (its JSON twin is the path plus ``.json``), a template, a handler."""

    path: str
    template: str | None
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    twin: bool = True


def json_response(data: Any, status: int = 200) -> Response:
    """JSON with NaN and infinities as null: strict JSON has no NaN, and a diverged loss is one."""
    body = strict_json.dumps(data, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


# Characters that reorder the text around them (embeddings, overrides, isolates, marks): in
# a file name "report\u202egpj.exe" reads as "reportexe.jpg".
BIDI_CONTROLS = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def visible_controls(text: Any) -> str:
    """``text`` with each bidirectional control shown as ``⟨U+202E⟩``, for names whose look
    must not lie (artifact files: an override can disguise the type)."""
    return "".join(f"⟨U+{ord(ch):04X}⟩" if ord(ch) in BIDI_CONTROLS else ch for ch in str(text))


def redirect(path: str) -> Response:
    """After a successful POST from a form: back to a page (303, so a reload does not repost)."""
    if not path.startswith("/") or path.startswith("//"):
        raise NotFound(f"cannot redirect to {path!r}")
    return RedirectResponse(path, status_code=303)
