"""Which Ray a sweep runs on: the cluster it names, one already running here, or one of its own.

- An address (``--address``, the one a resumed sweep ran on, the ``ray_address``
  setting, or ``RAY_ADDRESS``) is joined as a running cluster expects to be joined:
  without resource arguments (Ray refuses ``num_cpus`` from a driver that joins, which
  made ``--executor ray`` fail on any machine where Ray already ran). Nothing answering
  there fails in seconds, in one line (``ray.init`` itself retries for a minute).
- No address: a Ray started on this machine with ``ray start`` (Ray notes its address
  in its temp folder) is joined; only when none runs is a Ray started for the sweep, and
  stopped after it. A note left by a Ray that has since stopped is ignored.
- ``local``: a Ray of the sweep's own, whatever runs here.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from hunchlab.errors import EndpointError

CONNECT_TIMEOUT_SECONDS = 3.0
LOCAL = "local"


def connect(ray: Any, address: str | None, jobs: int | None) -> str | None:
    """Connect this process to Ray; returns the address joined, or None for a Ray started here for the sweep."""
    target = resolve_address(address)
    try:
        if target is None:
            ray.init(address=LOCAL, num_cpus=jobs or os.cpu_count() or 1, include_dashboard=False,
                     log_to_driver=False, logging_level="ERROR", _node_ip_address="127.0.0.1")
        else:
            ray.init(address=target, log_to_driver=False, logging_level="ERROR")
    except Exception as e:  # noqa: BLE001 - whatever Ray raises, the user gets one line
        doing = "start Ray" if target is None else f"join the Ray cluster at {target}"
        fix = "check the address, and that this Ray version matches the cluster's"
        if "auth" in _whole_text(e).lower():
            fix = ("the cluster uses Ray's token authentication: export RAY_AUTH_MODE=token here, with the cluster's "
                   "token in ~/.ray/auth_token or RAY_AUTH_TOKEN")
        raise EndpointError(f"cannot {doing}: {first_line(e)}", fix=fix) from None
    return target


def resolve_address(address: str | None) -> str | None:
    """The cluster to join, or None to start one; raises when a named cluster does not answer."""
    if address == LOCAL:
        return None
    if address and address != "auto":
        check_reachable(address)
        return address
    named = os.environ.get("RAY_ADDRESS")
    if named:
        check_reachable(named)
        return named
    found = _started_here()
    if found and not _answers(found):
        found = None  # the note of a Ray that has stopped
    if found is None and address == "auto":
        raise EndpointError("no Ray runs on this machine (--address auto)",
                            fix="start one with `ray start --head`, or give the cluster's address")
    return found


def _started_here() -> str | None:
    """The address of the last ``ray start`` on this machine, as Ray itself notes it (its private reader:
    without it, only ``RAY_ADDRESS`` finds a running cluster)."""
    try:
        from ray._private.utils import read_ray_address

        found = read_ray_address()
    except Exception:  # noqa: BLE001 - another Ray version: no note to read
        return None
    return str(found) if found else None


def check_reachable(address: str) -> None:
    """Fail in seconds, in one line, when nothing listens at ``address`` (ray.init would retry for a minute)."""
    reason = _silence(address)
    if reason:
        raise EndpointError(f"no Ray cluster answers at {address} ({reason})",
                            fix="start one with `ray start --head`, or fix --address / the ray_address setting "
                                "(--address local starts a Ray on this machine)")


def _answers(address: str) -> bool:
    return _silence(address) is None


def _silence(address: str) -> str | None:
    """Why nothing answers at ``host:port``, or None when something listens there."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_SECONDS):
            return None
    except ValueError:
        return "not host:port"
    except OSError as e:
        return e.strerror or type(e).__name__


def first_line(e: BaseException) -> str:
    """Ray's errors carry whole remote tracebacks; a record needs their first line."""
    return (str(e).strip().splitlines() or [""])[0][:300]


def _whole_text(e: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = e
    while seen is not None and len(parts) < 5:
        parts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return " ".join(parts)
