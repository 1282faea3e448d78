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
- bound anywhere else, every request must carry the token (``?token=`` once, or
  ``Authorization: Bearer``). Opening ``?token=`` swaps it for a session cookie whose name
  and value are drawn afresh by each dashboard process: browsers send a cookie to every
  port of a host, so a fixed name let two dashboards overwrite each other's (the first then
  answered 401), and a cookie holding the token itself handed it to any other server on the
  machine. A loopback dashboard needs no token and sets no cookie at all;
- no GET changes what is stored; POST routes need the page's CSRF token and a same-origin
  ``Origin`` when one is sent;
- a bad parameter is a 400 with one line saying which and why; an unexpected failure is a
  500 whose page names no exception, SQL or path (the traceback goes to the terminal).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping
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

from hunchlab.errors import BadInput, HunchError, NotFound
from hunchlab.project import Project
from hunchlab.web.responses import HERE, Page, json_response, visible_controls
from hunchlab.web.routes import PAGES, artifact, favicon

COOKIE_PREFIX = "hunch_session_"
# Handlers run in threads, at most this many at once (the rest wait their turn): each holds
# a page's data and rendered text, and with anyio's default of 40 threads a burst of 20
# requests took the server from 123 to 227 MB. The machine has 2 cores, so more threads
# add memory, not speed. bench_ui.py measures the heap under 200 requests, 20 in flight, at
# 10,000 runs: 75 MB before, 82 MB at most, 79 MB after (tests/web/test_load.py checks the bound).
HANDLER_THREADS = 4
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
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

    if not is_loopback(host) and not token:
        raise BadInput(f"binding {host} (not a loopback address) needs a token",
                       fix="set ui_token in .hunch/settings.yaml, or let `hunch ui` make one")
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                            trim_blocks=True, lstrip_blocks=True)
    templates.filters.update(num=format_number, age=format_age, when=format_time, clip=clip,
                             visible=visible_controls)
    routes: list[Route | Mount] = []
    for page in PAGES:
        if page.twin:
            routes.append(Route(page.path + ".json", _endpoint(page, templates, as_json=True),
                                methods=list(page.methods)))
        routes.append(Route(page.path, _endpoint(page, templates, as_json=False), methods=list(page.methods)))
    routes += [Route("/runs/{run_id}/artifacts/{name:path}", artifact), Route("/favicon.ico", favicon),
               Route("/", lambda request: RedirectResponse("/runs", status_code=302)),
               Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=_guard)],
                    exception_handlers={HunchError: _error, HTTPException: _error, Exception: _error})
    app.state.project = project
    app.state.templates = templates
    app.state.token = token
    app.state.cookie = (COOKIE_PREFIX + secrets.token_hex(6), secrets.token_urlsafe(32)) if token else None
    app.state.loopback_only = is_loopback(host)
    app.state.csrf = secrets.token_urlsafe(32)
    return app


# ============================================================ rendering


def _endpoint(page: Page, templates: Environment, *, as_json: bool) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: read and check a POST's form, run the (blocking) handler off the event
    loop, render its data as the template or as JSON."""
    import anyio

    async def endpoint(request: Request) -> Response:
        request.state.as_json = as_json
        check_parameters(request)
        args: list[Any] = [request]
        if request.method == "POST":
            args.append(await checked_form(request))
        data = await anyio.to_thread.run_sync(page.handler, *args, limiter=_limiter(request))
        if isinstance(data, Response):
            return data
        if as_json or page.template is None:
            return json_response({"ok": True, **data})
        return html_response(request, page.template, data)

    return endpoint


def _limiter(request: Request) -> Any:
    """The app's one thread limiter (made on first use: it must belong to the running event loop)."""
    import anyio

    state = request.app.state
    if getattr(state, "limiter", None) is None:
        state.limiter = anyio.CapacityLimiter(HANDLER_THREADS)
    return state.limiter


# Control characters other than tab and newlines: no form field sends them, and passed on
# they reach SQLite (a NUL ended an FTS query in "unterminated string").
_CONTROL = {c for c in range(32) if chr(c) not in "\t\n\r"} | {127}


def check_parameters(request: Request) -> None:
    """Refuse a request whose query or path parameters carry control characters (400)."""
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        bad = next((ch for ch in str(value) if ord(ch) in _CONTROL), None)
        if bad is not None:
            raise BadInput(f"{name} contains the control character U+{ord(bad):04X}",
                           fix="remove it from the address")


def html_response(request: Request, template: str, data: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    env: Environment = request.app.state.templates
    twin = request.url.path.rstrip("/") + ".json" + (f"?{request.url.query}" if request.url.query else "")
    context = {**data, "request_path": request.url.path, "json_url": twin, "csrf": request.app.state.csrf,
               "project_root": str(request.app.state.project.root), "url": _url_builder(request)}
    response = HTMLResponse(env.get_template(template).render(context), status_code=status)
    if status == 200:
        response.headers["Link"] = f'<{twin}>; rel="alternate"; type="application/json"'
    return response


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
    """Floats to 4 significant digits (as the CLI does), integers with thousands separators
    (1,000,000 points, not 1000000), the rest as text."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v).lower()
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def clip(text: Any, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut: a 100 KB run name
    must not push a row's status and metrics off the screen."""
    s = str(text)
    return s if len(s) <= limit else s[:limit - 1] + "…"


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
    else:  # the details (SQL, paths, data) stay in the terminal: Starlette re-raises for uvicorn to log
        status, what, fix = 500, "internal error", "the traceback is in the terminal running `hunch ui`"
    return error_response(request, status, _one_line(what), fix)


def _one_line(text: str, limit: int = 300) -> str:
    """An error message as one line of at most ``limit`` characters (a bad value may be 100 KB)."""
    return clip(" ".join(str(text).split()), limit)


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
        if not _authorised(request):
            return error_response(request, 401, "this dashboard needs its token",
                                  "open the URL `hunch ui` printed (it ends in ?token=...)")
        if "token" in request.query_params and request.method == "GET":
            # Move the token out of the address bar (and history); a session cookie replaces it.
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            name, value = state.cookie
            response.set_cookie(name, value, httponly=True, samesite="strict", path="/")
            return _secure(response)
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            return error_response(request, 403, f"cross-origin {request.method} from {origin} refused")
    return _secure(await call_next(request))


def _authorised(request: Request) -> bool:
    """The token (query or ``Authorization: Bearer``) or this process's session cookie."""
    state = request.app.state
    expected: str = state.token
    name, session = state.cookie
    token = (request.query_params.get("token")
             or request.headers.get("authorization", "").removeprefix("Bearer ").strip())
    if token:
        return hmac.compare_digest(token.encode(), expected.encode())
    cookie = request.cookies.get(name)
    return bool(cookie) and hmac.compare_digest(str(cookie).encode(), session.encode())


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
