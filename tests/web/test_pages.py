"""Every page and its JSON twin, in-process (no server): what each shows, from the library's data."""

from __future__ import annotations

import pytest

from hunchlab.web.routes import PAGES

from .data import SPIKE_STEP, csrf_of


def page_urls(ids: dict[str, str]) -> dict[str, str]:
    """A real URL for every HTML page (a new page must be added here, or the test below fails)."""
    return {"/runs": "/runs", "/runs/{run_id}": f"/runs/{ids['long']}",
            "/runs/{run_id}/examples": f"/runs/{ids['w64']}/examples",
            "/runs/{run_id}/triage": f"/runs/{ids['w64']}/triage",
            "/compare": f"/compare?s={ids['w16']}&s={ids['w64']}", "/tree": "/tree", "/journal": "/journal",
            "/calibration": "/calibration", "/sweep": "/sweep?where=spec%3Dexp"}


def test_every_page_has_a_json_twin_advertised_in_a_link_header(client, ids):
    urls = page_urls(ids)
    assert set(urls) == {p.path for p in PAGES if p.template}
    for path in urls.values():
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert page.headers["content-type"].startswith("text/html")
        twin_path = page.headers["link"].split(">")[0].lstrip("<")
        twin = client.get(twin_path)
        assert twin.status_code == 200, twin_path
        assert twin.headers["content-type"] == "application/json"
        assert twin.json()["ok"] is True


def test_runs_table_groups_seeds_with_mean_interval_and_n(client, ids):
    data = client.get("/runs.json").json()
    assert data["total"] == 9
    groups = {row["group"]: row for row in data["rows"] if row["n"] > 1}
    assert sorted(row["n"] for row in groups.values()) == [3, 3]
    wide = next(row for row in groups.values() if row["runs"][0]["params"]["model.width"] == 64)
    assert wide["stats"]["acc"]["n"] == 3
    assert wide["stats"]["acc"]["mean"] == pytest.approx(0.81)
    assert wide["stats"]["acc"]["lo"] < 0.81 < wide["stats"]["acc"]["hi"]
    html = client.get("/runs").text
    assert "n=3" in html and "seed group" in html


def test_runs_filters_search_sort_and_paging(client, ids):
    wide = client.get("/runs.json", params={"where": "model.width=64 acc>0.805"}).json()
    assert wide["matched"] == 2
    assert client.get("/runs.json", params={"status": "running"}).json()["matched"] == 1
    assert client.get("/runs.json", params={"q": "long"}).json()["matched"] == 1
    assert client.get("/runs.json", params={"question": ids["question"]}).json()["matched"] == 6
    flat = client.get("/runs.json", params={"group": "0", "sort": "-acc", "per": "2", "page": "2"}).json()
    assert flat["pages"] == 5 and flat["page"] == 2
    rows = client.get("/runs.json", params={"group": "0", "sort": "-acc"}).json()["rows"]
    accs = [r["runs"][0]["metrics"]["acc"] for r in rows]
    known = [a for a in accs if a is not None]
    assert known == sorted(known, reverse=True) and accs[-1] is None  # runs without acc last


def test_runs_mark_runs_that_have_journal_entries(client, ids):
    rows = [r for row in client.get("/runs.json", params={"group": "0"}).json()["rows"] for r in row["runs"]]
    assert {r["id"] for r in rows if r["noted"]} == {ids["w64"]}


def test_run_page_shows_config_predictions_charts_artifacts_logs_and_code(client, ids):
    page = client.get(f"/runs/{ids['long']}")
    assert f'data-series="/runs/{ids["long"]}/series.json?key=loss"' in page.text
    assert f'src="/runs/{ids["long"]}/artifacts/plot.png"' in page.text
    data = client.get(f"/runs/{ids['long']}.json").json()
    assert data["run"]["metrics"]["loss"]["n"] == 6000
    assert data["params"] == {"lr": 0.5}
    assert {a["name"]: a["image"] for a in data["run"]["artifacts"]} == {"plot.png": True, "page.html": False,
                                                                        "escape.txt": False}
    hostile = client.get(f"/runs/{ids['xss']}.json").json()
    assert [kind for kind, _ in hostile["diff"]["lines"]] == ["file", "file", "hunk", "del", "add"]


def test_long_metric_is_downsampled_keeping_the_spike_and_endpoints(client, ids):
    s = client.get(f"/runs/{ids['long']}/series.json", params={"key": "loss", "buckets": 100}).json()
    assert s["downsampled"] and s["method"] == "m4" and s["shown"] <= 400
    assert s["x"][0] == 0 and s["x"][-1] == 5999
    assert SPIKE_STEP in s["x"] and max(s["y"]) > 50
    zoomed = client.get(f"/runs/{ids['long']}/series.json",
                        params={"key": "loss", "lo": SPIKE_STEP - 100, "hi": SPIKE_STEP + 100, "buckets": 100}).json()
    assert not zoomed["downsampled"] and zoomed["x"] == list(range(SPIKE_STEP - 100, SPIKE_STEP + 101))


def test_the_metric_pyramid_keeps_what_m4_over_every_point_keeps(client, ids, monkeypatch):
    from hunchlab.store import lod

    pyramid = client.get(f"/runs/{ids['long']}/series.json", params={"key": "loss", "buckets": 37}).json()
    monkeypatch.setattr(lod, "MIN_POINTS", 10**9)  # read every point and thin in numpy instead
    every = client.get(f"/runs/{ids['long']}/series.json", params={"key": "loss", "buckets": 37}).json()
    assert pyramid["downsampled"] and pyramid["in_range"] is None and every["in_range"] == 6000
    assert len(pyramid["x"]) <= 4 * 37 and SPIKE_STEP in pyramid["x"] and SPIKE_STEP in every["x"]
    for s in (pyramid, every):
        assert (s["x"][0], s["x"][-1], max(s["y"]), min(s["y"])) == (0, 5999, max(every["y"]), min(every["y"]))
        assert all(y == 1.0 / (x + 1) + (50.0 if x == SPIKE_STEP else 0.0) for x, y in zip(s["x"], s["y"]))


def test_compare_page_has_the_statistics_and_curves_without_a_band_below_five_seeds(client, ids):
    page = client.get("/compare", params=[("s", "model.width=16"), ("s", "model.width=64")])
    assert page.status_code == 200
    assert "Welch" in page.text and "McNemar" in page.text and "wrong→right" in page.text
    data = client.get("/compare.json", params=[("s", "model.width=16"), ("s", "model.width=64")]).json()
    assert [s["n"] for s in data["result"]["sides"]] == [3, 3]
    assert data["result"]["metrics"][0]["metric"] == "acc"
    curves = client.get("/compare/curves.json", params=[("s", "model.width=16"), ("s", "model.width=64")]).json()
    chart = curves["charts"][0]
    assert chart["metric"] == "loss" and len(chart["groups"]) == 2
    group = chart["groups"][0]  # 3 seeds a group: their mean, and no t-band (it would be +-4.3 standard errors)
    assert all(m is not None for m in group["mean"]) and group["lo"] == group["hi"] == [None] * len(group["mean"])


def test_compare_from_the_runs_table_selection(client, ids):
    data = client.get("/compare.json", params=[("s", ids["w16"]), ("s", ids["w64"])]).json()
    assert [s["runs"] for s in data["result"]["sides"]] == [[ids["w16"]], [ids["w64"]]]
    assert client.get("/compare.json").json()["result"] is None  # the empty form


def test_examples_browse_filters_and_pages(client, ids):
    data = client.get(f"/runs/{ids['w16']}/examples.json", params={"correct": "wrong"}).json()
    assert data["counts"] == {"total": 8, "right": 3, "wrong": 5}
    assert data["matched"] == 5 and all(e["correct"] is False for e in data["examples"])
    assert client.get(f"/runs/{ids['w16']}/examples.json", params={"q": "odd"}).json()["matched"] == 4
    paged = client.get(f"/runs/{ids['w16']}/examples.json", params={"per": 3, "page": 3}).json()
    assert [e["id"] for e in paged["examples"]] == ["e6", "e7"] and paged["pages"] == 3


def test_triage_tags_are_the_ones_the_cli_reads(client, web_project, ids):
    from hunchlab import triage

    project = web_project[0]
    run = ids["w16"]
    page = client.get(f"/runs/{run}/triage")
    assert 'id="draw-form"' in page.text and client.get(f"/runs/{run}/triage.json").json()["sample"] is None
    csrf = csrf_of(page.text)
    drawn = client.post(f"/runs/{run}/samples", data={"csrf": csrf, "sample": "100", "seed": "0"},
                        follow_redirects=False)
    assert drawn.status_code == 303 and drawn.headers["location"] == f"/runs/{run}/triage"
    first = client.get(f"/runs/{run}/triage.json").json()
    assert first["progress"]["total"] == 5 and first["example"]["correct"] is False
    form = {"csrf": csrf, "position": 0, "action": "tag", "category": "off by one"}
    moved = client.post(f"/runs/{run}/tags", data=form,
                        follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/runs/{run}/triage?pos=1"
    client.post(f"/runs/{run}/tags", data={"csrf": csrf, "position": 1, "action": "skip"})
    report = triage.categories(run, project=project)
    assert [(r.category, r.count) for r in report.rows] == [("off by one", 1)]
    after = client.get(f"/runs/{run}/triage.json", params={"pos": 2}).json()
    assert after["progress"]["read"] == 2 and after["report"]["rows"][0]["category"] == "off by one"


def test_tree_journal_and_calibration(client, ids):
    nodes = client.get("/tree.json").json()["nodes"]
    assert [n["kind"] for n in nodes] == ["goal", "project", "question"]
    assert nodes[2]["runs"] == 6 and nodes[0]["total_runs"] == 6
    assert f'href="/runs?question={ids["question"]}"' in client.get("/tree").text
    entries = client.get("/journal.json", params={"q": "width"}).json()["entries"]
    assert [e["run_id"] for e in entries] == [ids["w64"]]
    assert client.get("/journal.json", params={"run": ids["w16"]}).json()["entries"] == []
    report = client.get("/calibration.json").json()["report"]
    assert report["n"] == 0 and "reliability" in report


def test_adding_a_note_from_the_run_page(client, ids):
    page = client.get(f"/runs/{ids['w16']}")
    form = {"csrf": csrf_of(page.text), "text": "narrow is worse", "kind": "result"}
    r = client.post(f"/runs/{ids['w16']}/notes", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/runs/{ids['w16']}#journal"
    entries = client.get("/journal.json", params={"run": ids["w16"]}).json()["entries"]
    assert [(e["kind"], e["body"]) for e in entries] == [("result", "narrow is worse")]


def test_a_running_run_is_marked_for_live_updates(client, ids):
    page = client.get(f"/runs/{ids['running']}")
    assert f'data-live="/runs/{ids["running"]}.json"' in page.text
    assert 'data-live' not in client.get(f"/runs/{ids['long']}").text


def test_runs_an_agent_started_say_so_in_the_table_and_on_their_page(client, ids):
    row = client.get("/runs", params={"where": "agent=claude", "group": 0}).text
    assert row.count('data-run="') == 1 and '</span> <span class="agent"' in row and "by <bdi>claude</bdi>" in row
    assert "started by agent <bdi>claude</bdi>" in client.get(f"/runs/{ids['running']}").text
    assert '<span class="agent"' not in client.get(f"/runs/{ids['long']}").text


def test_metric_names_with_slashes_and_spaces_are_addressed_by_query(client, ids):
    missing = client.get(f"/runs/{ids['long']}/series.json", params={"key": "train/loss x"})
    assert missing.status_code == 404 and "train/loss x" in missing.json()["error"]
