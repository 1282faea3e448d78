"""The store's health checks: the quick check's time budget stops the check and nothing after it."""

from __future__ import annotations

from sqlalchemy import text

from hunchlab.store import open_store
from hunchlab.store.health import quick_check


def _fill(store, rows: int) -> None:
    with store.write() as conn:
        conn.execute(text("CREATE TABLE filler (i INTEGER PRIMARY KEY, blob TEXT)"))
        conn.execute(text("CREATE INDEX filler_blob ON filler (blob)"))
        conn.execute(text("INSERT INTO filler (blob) VALUES " + ",".join(f"('{'x' * 200}{i}')" for i in range(rows))))


def test_a_check_past_its_budget_passes_for_what_it_read_and_the_next_statement_runs(project):
    with open_store(project) as store:
        _fill(store, 5000)
        assert quick_check(store, 0.0) == []  # interrupted at its first steps: counts as passed
        with store.write() as conn:  # a budget used to leave an interrupt for the next statement
            conn.execute(text("INSERT INTO filler (blob) VALUES ('after')"))
            # a scan of thousands of rows: long enough for a handler left behind to stop it
            assert conn.execute(text("SELECT sum(length(blob)) FROM filler")).scalar() > 5000 * 200
        assert quick_check(store, None) == [] and quick_check(store, 10.0) == []

