"""``hunch ui`` as a command: --get answers one request without a server; a busy port is a clear error."""

from __future__ import annotations

import json
import socket


def test_get_sends_one_request_through_the_dashboard(hunch):
    hunch("run", "exp.yaml", "--no-predict", "-q", check=0)
    out = hunch("ui", "--get", "/runs.json", check=0)
    assert json.loads(out.stdout)["total"] == 1
    missing = hunch("ui", "--get", "/runs/nope.json", check=1)
    assert json.loads(missing.stdout)["status"] == 404


def test_a_port_in_use_is_a_one_line_error(hunch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = hunch("ui", "--port", str(port), check=2)
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr and "--port 0" in r.stderr
    assert "Traceback" not in r.stderr
