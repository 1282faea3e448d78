"""Running the dashboard: bind a socket, serve it with uvicorn, or answer one request.

The socket is bound here, before uvicorn starts, so a port already in use is a
one-line error with a fix (not a traceback from inside the server), and ``--port 0``
can print the port the system picked.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any
from urllib.parse import urlsplit

from hunchlab.errors import BadInput, MachineError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (IPv4 or IPv6)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise MachineError(f"port {port} on {host} is already in use",
                               fix=f"pick another: hunch ui --port {port + 1} (or --port 0 for any free port)") from None
        raise BadInput(f"cannot listen on {host}:{port}: {e.strerror}",
                       fix="check --host (e.g. 127.0.0.1, or 0.0.0.0 for every interface)") from None
    sock.listen(128)
    return sock


def serve(app: Any, sock: socket.socket) -> None:
    """Serve until Ctrl-C. Access logs are off: they would bury the one line that matters."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def get_once(app: Any, path: str, *, host: str = "127.0.0.1", token: str | None = None) -> tuple[int, str]:
    """Send one GET through the app in this process (``hunch ui --get /runs.json``): status and body."""
    parts = urlsplit(path if path.startswith("/") else "/" + path)
    headers = [(b"host", (f"[{host}]" if ":" in host else host).encode()), (b"accept", b"*/*")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": parts.path, "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
             "headers": headers, "client": ("127.0.0.1", 0), "server": (host, 80), "root_path": ""}
    status, body, sent = 500, bytearray(), False

    async def run() -> None:
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # like a client that stays until the response is complete
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    done.set()

        await app(scope, receive, send)

    asyncio.run(run())
    return status, body.decode(errors="replace")
