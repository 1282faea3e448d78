"""The data behind the charts: overlaid curves with the few-seed rule, the sweep view, and
the calibration page's charts (or the note that replaces them)."""

from __future__ import annotations

import pytest

from hunchlab.curves import BAND_FROM


def test_overlay_draws_seeds_below_five_and_a_named_band_from_five(sweep_client):
    sides = [("s", "lr=0.01 model.width=16"), ("s", "lr=0.01 model.width=64")]
    curves = sweep_client.get("/compare/curves.json", params=sides).json()
    [chart] = curves["charts"]
    few, many = chart["groups"]
    assert (few["n"], many["n"]) == (3, 6) and BAND_FROM == 5
    assert len(few["seeds"]) == 3 and few["lo"] == few["hi"] == [None] * len(chart["x"]) and few["band"] is None
    assert many["seeds"] == [] and many["band"] == "95% t-interval of the mean, 6 seeds"
    assert len(chart["x"]) == len(many["mean"]) == len(many["lo"]) == len(few["mean"])
    assert all(lo <= m <= hi for lo, m, hi in zip(many["lo"], many["mean"], many["hi"], strict=True)
               if m is not None and lo is not None)
    # Seeds logged 6, 7 and 8 steps: past step 5 fewer seeds remain and the mean is theirs.
    last = chart["x"].index(7.0)
    assert few["seeds"][0]["y"][last] is None and few["mean"][last] == pytest.approx(1 / 8)


def test_sweep_view_has_a_metric_against_each_swept_param(sweep_client):
    view = sweep_client.get("/sweep.json", params={"where": "name=grid", "metric": "acc"}).json()
    axes = {a["name"]: a for a in view["axes"]}
    assert set(axes) == {"lr", "model.width", "opt"}
    assert axes["lr"]["log"] and axes["lr"]["values"] == [0.001, 0.01, 0.1]  # spans two decades
    assert not axes["model.width"]["log"] and axes["opt"]["kind"] == "category"
    assert len(view["configs"]) == 6 and view["counted"] == 12 + 2 + 3 + 6 + 2 + 3
    best = view["configs"][0]  # acc: higher is better, best first
    assert view["goal"] == "max" and best["mean"] == max(c["mean"] for c in view["configs"])
    by = {(c["params"]["lr"], c["params"]["model.width"]): c for c in view["configs"]}
    assert by[(0.01, 64.0)]["lo"] is not None and by[(0.01, 16.0)]["lo"] is None  # 6 seeds vs 3
    assert by[(0.01, 64.0)]["mean"] == pytest.approx(sum(by[(0.01, 64.0)]["values"]) / 6)
    page = sweep_client.get("/sweep", params={"where": "name=grid"})
    assert 'data-sweep="/sweep.json?where=name%3Dgrid"' in page.text and 'id="configs"' in page.text


def test_sweep_view_of_runs_that_share_every_param_says_nothing_was_swept(sweep_client):
    page = sweep_client.get("/sweep", params={"where": "name~evil"})
    assert page.status_code == 200 and "nothing was swept" in page.text and "data-sweep" not in page.text


def test_calibration_shows_the_too_few_note_instead_of_charts_then_the_charts(tmp_path):
    from starlette.testclient import TestClient

    from hunchlab import predict
    from hunchlab.run_records import init_project
    from hunchlab.web import create_app

    project = init_project(tmp_path)[0]

    def forecast(p: float, answer: str) -> None:
        made = predict.add_forecast("it rains", p, "2999-01-01", project=project)
        predict.resolve(made["id"], answer, project=project)

    for p, answer in ((0.9, "yes"), (0.8, "no"), (0.3, "no"), (0.6, "yes")):
        forecast(p, answer)
    with TestClient(create_app(project), base_url="http://127.0.0.1:8765") as c:
        page = c.get("/calibration").text
        assert 'id="too-few"' in page and "data-reliability" not in page and "data-trend" not in page
        assert 'id="reliability-table"' in page  # the counts per bin stay
        forecast(0.1, "no")
        page = c.get("/calibration").text
        assert 'id="too-few"' not in page and "data-reliability" in page and "data-trend" in page
        report = c.get("/calibration.json").json()["report"]
        assert sum(b["count"] for b in report["reliability"]) == 5
