"""The dashboard's application: routing, the HTML/JSON rendering, errors and security.

Every page is registered twice, at ``PATH`` (HTML) and ``PATH.json`` (its JSON twin,
the same data the template got), so anything seen in the browser can be scripted.
Errors have one shape everywhere: ``{"ok": false, "status", "error", "errors", "fix"}``
as JSON, the same fields on an HTML page.

Security, because example outputs are often model text containing HTML or script and a
dashboard on a shared machine is reachable by others:

- templates are autoescaped, and a Content-Security-Policy allows only scripts served by
  the dashboard itself, so even a missed escape cannot run an injected script;
- on a loopback address only loopback ``Host`` headers are accepted (a web page cannot
  reach the dashboard by rebinding its own domain to 127.0.0.1);
- bound anywhere else, every request must carry the token (``?token=`` once, which sets a
  cookie, or ``Authorization: Bearer``);
- POST routes need the page's CSRF token and a same-origin ``Origin`` when one is sent.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hunchlab.errors import HunchError, NotFound
from hunchlab.project import Project

HERE = Path(__file__).parent
TOKEN_COOKIE = "hunch_token"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Artifacts are user files (an .html or .svg one may hold script): served sandboxed, so
# opening one can never act as the dashboard.
ARTIFACT_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"

Handler = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Page:
    """A route: a path (its JSON twin is the path plus ``.json``), a template, a handler."""

    path: str
    template: str | None
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    twin: bool = True


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(project: Project, *, host: str = "127.0.0.1", token: str | None = None) -> Starlette:
    """The dashboard for ``project``; ``host`` is the address it will be bound to.

    A ``token`` is required when ``host`` is not a loopback address (``hunch ui`` makes
    one, or takes the ``ui_token`` setting).
    """
    from hunchlab.web.routes import PAGES, artifact

    if not is_loopback(host) and not token:
        raise HunchError(f"binding {host} (not a loopback address) needs a token",
                         fix="set ui_token in .hunch/settings.yaml, or let `hunch ui` make one")
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                            trim_blocks=True, lstrip_blocks=True)
    templates.filters.update(num=format_number, age=format_age, when=format_time)
    routes: list[Route | Mount] = []
    for page in PAGES:
        if page.twin:
            routes.append(Route(page.path + ".json", _endpoint(page, templates, as_json=True),
                                methods=list(page.methods)))
        routes.append(Route(page.path, _endpoint(page, templates, as_json=False), methods=list(page.methods)))
    routes += [Route("/runs/{run_id}/artifacts/{name:path}", artifact),
               Route("/", lambda request: RedirectResponse("/runs", status_code=302)),
               Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=_guard)],
                    exception_handlers={HunchError: _error, HTTPException: _error, Exception: _error})
    app.state.project = project
    app.state.templates = templates
    app.state.token = token
    app.state.loopback_only = is_loopback(host)
    app.state.csrf = secrets.token_urlsafe(32)
    return app


# ============================================================ rendering


def _endpoint(page: Page, templates: Environment, *, as_json: bool) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: read and check a POST's form, run the (blocking) handler off the event
    loop, render its data as the template or as JSON."""
    from starlette.concurrency import run_in_threadpool

    async def endpoint(request: Request) -> Response:
        request.state.as_json = as_json
        args: list[Any] = [request]
        if request.method == "POST":
            args.append(await checked_form(request))
        data = await run_in_threadpool(page.handler, *args)
        if isinstance(data, Response):
            return data
        if as_json or page.template is None:
            return json_response({"ok": True, **data})
        return html_response(request, page.template, data)

    return endpoint


def html_response(request: Request, template: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    env: Environment = request.app.state.templates
    twin = request.url.path.rstrip("/") + ".json" + (f"?{request.url.query}" if request.url.query else "")
    context = {**data, "request_path": request.url.path, "json_url": twin, "csrf": request.app.state.csrf,
               "project_root": str(request.app.state.project.root), "url": _url_builder(request)}
    response = HTMLResponse(env.get_template(template).render(context), status_code=status)
    if status == 200:
        response.headers["Link"] = f'<{twin}>; rel="alternate"; type="application/json"'
    return response


def json_response(data: Any, status: int = 200) -> Response:
    """JSON with NaN and infinities as null: strict JSON has no NaN, and a diverged loss is one."""
    from hunchlab import strict_json

    body = strict_json.dumps(data, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def _url_builder(request: Request) -> Callable[..., str]:
    """``url(sort="-acc")``: this page's URL with some query parameters replaced (None drops one)."""

    def url(**changes: Any) -> str:
        items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
        for key, value in changes.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            items += [(key, str(v)) for v in values if v is not None]
        return request.url.path + (f"?{urlencode(items)}" if items else "")

    return url


def format_number(v: Any) -> str:
    """Numbers to 4 significant digits (as the CLI does), the rest as text."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v).lower()
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.4g}"
    return str(v)


def format_age(t: float | None) -> str:
    import time

    if not t:
        return ""
    s = max(0.0, time.time() - t)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{int(s // size)}{unit} ago"
    return f"{int(s)}s ago"


def format_time(t: float | None) -> str:
    import datetime as dt

    return "" if not t else dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


# ============================================================ errors


async def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotFound):
        status, what, fix = 404, exc.what, exc.fix
    elif isinstance(exc, HunchError):
        status, what, fix = 400, exc.what, exc.fix
    elif isinstance(exc, HTTPException):
        status, what, fix = exc.status_code, str(exc.detail), None
    else:
        status, what, fix = 500, f"internal error: {type(exc).__name__}: {exc}", "see the terminal running `hunch ui`"
    return error_response(request, status, what, fix)


def error_response(request: Request, status: int, what: str, fix: str | None = None) -> Response:
    """The one error shape, as JSON for JSON requests and as a page otherwise."""
    data = {"ok": False, "status": status, "error": what, "errors": [what], "fix": fix}
    if _wants_json(request):
        return json_response(data, status)
    response = html_response(request, "error.html", data, status)
    return _secure(response)


def _wants_json(request: Request) -> bool:
    return (getattr(request.state, "as_json", False) or request.url.path.endswith(".json")
            or "application/json" in request.headers.get("accept", ""))


# ============================================================ security


async def _guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
    state = request.app.state
    host = (request.url.hostname or "").strip("[]")
    if state.loopback_only and not is_loopback(host):
        return error_response(request, 403, f"Host '{host}' is not this machine",
                              "open the dashboard as http://127.0.0.1:PORT/")
    if state.token:
        given = (request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)
                 or request.headers.get("authorization", "").removeprefix("Bearer ").strip())
        if not given or not hmac.compare_digest(given.encode(), state.token.encode()):
            return error_response(request, 401, "this dashboard needs its token",
                                  "open the URL `hunch ui` printed (it ends in ?token=...)")
        if "token" in request.query_params and request.method == "GET":
            # Move the token out of the address bar (and history) into a cookie.
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(TOKEN_COOKIE, state.token, httponly=True, samesite="strict")
            return _secure(response)
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            return error_response(request, 403, f"cross-origin {request.method} from {origin} refused")
    return _secure(await call_next(request))


def _secure(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)  # artifacts set their own, stricter one
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response


async def checked_form(request: Request) -> FormData:
    """The POST's form, once its CSRF token (field ``csrf`` or header ``X-CSRF-Token``) matches."""
    form = await request.form()
    given = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
    if not hmac.compare_digest(given.encode(), request.app.state.csrf.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return form


def redirect(path: str) -> Response:
    """After a successful POST from a form: back to a page (303, so a reload does not repost)."""
    if not path.startswith("/") or path.startswith("//"):
        raise NotFound(f"cannot redirect to {path!r}")
    return RedirectResponse(path, status_code=303)
