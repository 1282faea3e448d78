"""The MCP server behind ``hunch mcp``: the tools and resources, over stdio or (opt-in) local HTTP.

Built on the official ``mcp`` SDK (``pip install 'hunchlab[mcp]'``). Each tool is a
function of ``hunchlab.mcp.tools`` or ``hunchlab.mcp.actions`` registered as it is:
its parameters are the tool's input schema, its docstring the description, and the
``Caller`` it takes first (project, agent name, session budget) is filled in here for
every call. A ``HunchError`` becomes the tool's error text (what, where, the fix), so
an agent reads the same message a person would; results are strict JSON text.
"""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from hunchlab import __version__, journal, run_records, strict_json
from hunchlab.errors import HunchError
from hunchlab.mcp import actions, tools
from hunchlab.mcp.guard import Budget, Caller
from hunchlab.project import Project
from hunchlab.who import from_client

READS: list[Callable[..., dict[str, Any]]] = [tools.runs, tools.show_run, tools.compare, tools.examples,
                                              tools.categories, tools.calibration, tools.journal, tools.tree,
                                              tools.budget]
WRITES: list[Callable[..., dict[str, Any]]] = [actions.run, actions.sweep, tools.plot, actions.failures, actions.tag,
                                               actions.note, actions.tree_add, actions.attach]
INSTRUCTIONS = """hunchlab: a research workbench that holds agents to a researcher's habits.
Before a run, predict its result (the run tool refuses without a prediction); compare seed groups, not single
runs, and read the verdict and interval, not the bare difference; read a sample of failures and tag them;
write down why a run exists (a question of the tree, a journal note). Everything you do is recorded under your
name and your predictions are scored like the person's (calibration)."""


def build(project: Project, *, agent: str | None = None, budget: Budget | None = None) -> MCPServer:
    """The server for one project. ``agent``: the name to record work under (default: the client's own name)."""
    server: MCPServer = MCPServer("hunchlab", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    spend = budget or Budget.from_settings(project)
    fixed = agent or project.setting("agent_name")

    def caller(ctx: Context) -> Caller:
        params = ctx.session.client_params
        return Caller(project, fixed or from_client(params.client_info.name if params else None), spend)

    for fn in READS + WRITES:
        server.add_tool(_tool(fn, caller), name=fn.__name__, description=inspect.getdoc(fn),
                        annotations=ToolAnnotations(read_only_hint=fn in READS, destructive_hint=False,
                                                    open_world_hint=False))
    _resources(server, project)
    return server


def _tool(fn: Callable[..., dict[str, Any]], caller: Callable[[Context], Caller]) -> Callable[..., str]:
    """``fn`` as a tool: its parameters after the Caller, plus the SDK's Context; HunchError as the error text."""
    signature = inspect.signature(fn, eval_str=True)
    params = list(signature.parameters.values())[1:]
    ctx_param = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)

    def call(ctx: Context, **kwargs: Any) -> str:
        try:
            return strict_json.dumps(fn(caller(ctx), **kwargs), ensure_ascii=False)
        except HunchError as e:
            raise ToolError(e.format_message()) from None

    call.__name__ = fn.__name__
    call.__signature__ = signature.replace(parameters=[*params, ctx_param], return_annotation=str)  # type: ignore[attr-defined]
    call.__annotations__ = {**{p.name: p.annotation for p in params}, "ctx": Context, "return": str}
    return call


def _resources(server: MCPServer, project: Project) -> None:
    """Run records and the journal, readable without a tool call."""
    def recent_runs() -> str:
        return strict_json.dumps(run_records.runs_page([], limit=100, project=project)[0])

    def one_run(run_id: str) -> str:
        return strict_json.dumps(run_records.get_run(run_id, metrics=False, examples=False, project=project))

    def entries() -> str:
        return strict_json.dumps(journal.entries(project=project)[:100])

    def one_entry(entry_id: str) -> str:
        e = journal.get(entry_id, project)
        return f"# {e['title']}\n\n{e['body']}\n"

    server.resource("hunch://runs", name="runs", description="The newest 100 runs (JSON).",
                    mime_type="application/json")(recent_runs)
    server.resource("hunch://runs/{run_id}", name="run", description="One run's record (JSON).",
                    mime_type="application/json")(one_run)
    server.resource("hunch://journal", name="journal", description="The newest 100 journal entries (JSON).",
                    mime_type="application/json")(entries)
    server.resource("hunch://journal/{entry_id}", name="journal entry", description="One journal entry (Markdown).",
                    mime_type="text/markdown")(one_entry)


def serve_stdio(project: Project, *, agent: str | None = None) -> None:
    build(project, agent=agent).run("stdio")


def serve_http(project: Project, *, port: int, token: str, agent: str | None = None) -> None:
    """Streamable HTTP on 127.0.0.1 only, every request carrying ``Authorization: Bearer <token>``."""
    import uvicorn

    app = build(project, agent=agent).streamable_http_app(host="127.0.0.1")
    uvicorn.run(require_token(app, token), host="127.0.0.1", port=port, log_level="warning")


Asgi = Callable[[dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def require_token(app: Asgi, token: str) -> Asgi:
    """Refuse (401) any HTTP request without the bearer token; lifespan events pass through."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                      send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b"hunch mcp: a bearer token is required\n"})
                return
        await app(scope, receive, send)

    return guarded
