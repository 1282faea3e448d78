"""``hunch ui``: serve the dashboard (see hunchlab.web)."""

from __future__ import annotations

import click

from hunchlab.project import find_project


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but a loopback address requires the token on every request.")
@click.option("--get", "get_path", metavar="PATH",
              help="Send one GET request through the dashboard, print the response and exit (no server).")
def ui(port: int, host: str, get_path: str | None) -> None:
    """Serve a local web dashboard: runs, run pages with charts, compare, examples, tree, journal, calibration.

    It binds 127.0.0.1 by default. With --host 0.0.0.0 (or any other address) every
    request needs a token: the `ui_token` setting, or a fresh one printed here.

    Example: hunch ui --port 8765
    """
    import secrets

    from hunchlab.web import create_app  # lazy: loads jinja2, numpy, sqlalchemy and more only when called
    from hunchlab.web.app import is_loopback  # lazy: loads jinja2, numpy, sqlalchemy and more only when called

    # lazy: loads jinja2, numpy, sqlalchemy and more only when called
    from hunchlab.web.serve import bind, get_once, serve

    project = find_project()
    token = None if is_loopback(host) else str(project.setting("ui_token") or secrets.token_urlsafe(24))
    app = create_app(project, host=host, token=token)
    if get_path is not None:
        status, body = get_once(app, get_path, host=host, token=token)
        click.echo(body)
        raise SystemExit(0 if status < 400 else 1)
    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/" + (f"?token={token}" if token else "")
    click.echo(f"hunch ui: {project.root} at {url}  (Ctrl-C stops)", err=True)
    serve(app, sock)
