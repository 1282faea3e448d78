"""The runs table at scale: a page caps table rows, not groups, and a group with many reruns
shows its newest runs with a link to the rest."""

from __future__ import annotations

from hunchlab import runs_table as dashboard

from .data import MANY


def rows_of(data: dict) -> int:
    return sum((1 if row["n"] > 1 else 0) + len(row["runs"]) + (1 if row["more"] else 0) for row in data["rows"])


def test_a_big_group_shows_its_newest_runs_and_how_many_more(sweep_client):
    data = sweep_client.get("/runs.json", params={"where": "lr=0.001 model.width=16"}).json()
    [row] = data["rows"]
    assert row["n"] == MANY and len(row["runs"]) == dashboard.MEMBERS_SHOWN and row["more"] == MANY - 5
    seqs = sorted(r["seq"] for r in row["runs"])
    everyone = sweep_client.get("/runs.json", params={"where": f"group={row['group']}", "group": "0"}).json()
    assert everyone["matched"] == MANY
    assert seqs == sorted(r["runs"][0]["seq"] for r in everyone["rows"])[-5:]  # the newest five
    assert row["stats"]["acc"]["n"] == MANY  # the group's interval is over all its runs, not the shown ones
    html = sweep_client.get("/runs", params={"where": "lr=0.001 model.width=16"}).text
    assert f"{MANY - 5} more runs of this group" in html
    assert f"/runs?where=group%3D{row['group']}&amp;group=0" in html


def test_a_page_holds_at_most_per_rows_however_the_groups_fall(sweep_client):
    total = sweep_client.get("/runs.json").json()
    for per in (7, 10, 25):
        seen, page, pages = [], 1, None
        while pages is None or page <= pages:
            data = sweep_client.get("/runs.json", params={"per": per, "page": page}).json()
            pages = data["pages"]
            assert rows_of(data) <= per + 1, (per, page)  # + the "N more" line of a big group
            seen += [row["group"] or row["runs"][0]["id"] for row in data["rows"]]
            page += 1
        assert len(seen) == len(set(seen)) == total["groups"], per  # every group once, on some page


def test_a_group_larger_than_a_page_gets_a_page_of_its_own(sweep_client):
    first = sweep_client.get("/runs.json", params={"per": 2}).json()
    pages = [sweep_client.get("/runs.json", params={"per": 2, "page": p}).json()["rows"]
             for p in range(1, first["pages"] + 1)]
    assert all(pages), "no empty page"
    [alone] = [rows for rows in pages if any(row["n"] == MANY for row in rows)]
    assert len(alone) == 1
