"""The dashboard under a burst of requests: handlers queue for a few threads instead of all running.

Issue 22 saw the server grow from 123 to 227 MB under 20 requests in flight, each handler
holding a page's data and text at once; bench/bench_ui.py measures the memory, this
checks the bound that keeps it flat.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from hunchlab.project import Project


def test_a_burst_of_requests_runs_at_most_handler_threads_handlers_at_once(
        web_project: tuple[Project, dict[str, str]], monkeypatch: Any) -> None:
    import anyio
    import httpx

    from hunchlab import journal_page as dashboard
    from hunchlab.web import create_app
    from hunchlab.web.app import HANDLER_THREADS

    lock, running, most = threading.Lock(), [0], [0]
    real = dashboard.journal_entries

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.2)  # long enough that every admitted handler overlaps the others
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(dashboard, "journal_entries", counted)
    app = create_app(web_project[0])
    statuses: list[int] = []

    async def burst() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765") as c:

            async def get() -> None:
                statuses.append((await c.get("/journal.json")).status_code)

            async with anyio.create_task_group() as group:
                for _ in range(5 * HANDLER_THREADS):
                    group.start_soon(get)

    anyio.run(burst)
    assert statuses == [200] * (5 * HANDLER_THREADS)
    assert most[0] == HANDLER_THREADS
