"""Escaping, artifact containment, host and token checks, CSRF, and the one error shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hunchlab.errors import HunchError
from hunchlab.web import create_app
from hunchlab.web.routes import PAGES

from .data import IMG_XSS, XSS, csrf_of


def assert_canonical_error(response: Any, status: int) -> None:
    """The one error shape: JSON with exactly these keys, or a page carrying the same status."""
    assert response.status_code == status, response.text[:300]
    if response.headers["content-type"].startswith("application/json"):
        body = response.json()
        assert set(body) == {"ok", "status", "error", "errors", "fix"}
        assert body["ok"] is False and body["status"] == status and body["errors"] == [body["error"]]
    else:
        assert f'data-status="{status}"' in response.text


def unescaped(html: str) -> list[str]:
    return [s for s in ("<script>alert", "<img src=x", "onerror=\"alert") if s in html]


def test_hostile_strings_render_as_text_on_every_page(client, ids):
    pages = ["/runs", "/runs?group=0", f"/runs/{ids['xss']}", f"/runs/{ids['xss']}/examples",
             f"/runs/{ids['xss']}/triage", f"/runs/{ids['w64']}", "/journal", f"/compare?s={ids['xss']}&s={ids['w16']}"]
    for path in pages:
        html = client.get(path).text
        assert unescaped(html) == [], path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/runs/{ids['xss']}/examples").text
    assert "&lt;img src=x onerror=" in client.get(f"/runs/{ids['xss']}").text


def test_json_twins_carry_the_raw_text_as_json_not_html(client, ids):
    r = client.get(f"/runs/{ids['xss']}/examples.json")
    assert r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"
    example = r.json()["examples"][0]
    assert (example["output"], example["input"]) == (XSS, IMG_XSS)


def test_pages_forbid_inline_scripts(client, ids):
    csp = client.get("/runs").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    html = client.get(f"/runs/{ids['long']}").text
    assert re.findall(r"<script(?![^>]*\ssrc=)", html) == []  # every script is a file served by the dashboard


@pytest.mark.parametrize("name", ["../run.json", "..%2Frun.json", "%2e%2e/%2e%2e/%2e%2e/settings.yaml", "/etc/passwd",
                                  "escape.txt", "not-recorded.png", ""])
def test_artifacts_outside_the_run_folder_are_refused(client, ids, name):
    r = client.get(f"/runs/{ids['long']}/artifacts/{name}", headers={"accept": "application/json"})
    assert r.status_code in (404, 307)
    if r.status_code == 404:
        assert_canonical_error(r, 404)
    assert "top secret" not in r.text


def test_raw_dot_dot_paths_that_no_client_normalised_are_refused(web_project, ids):
    from hunchlab.web.serve import get_once

    app = create_app(web_project[0])
    for name in ("../run.json", "../../../settings.yaml", "sub/../../run.json", "./../events.jsonl"):
        status, body = get_once(app, f"/runs/{ids['long']}/artifacts/{name}")
        assert status == 404 and ('data-status="404"' in body or '"ok":false' in body), name


def test_artifacts_images_inline_everything_else_downloaded_and_sandboxed(client, ids):
    png = client.get(f"/runs/{ids['long']}/artifacts/plot.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    page = client.get(f"/runs/{ids['long']}/artifacts/page.html")
    assert page.status_code == 200 and page.headers["content-disposition"].startswith("attachment")
    assert page.headers["content-security-policy"].startswith("sandbox")


def test_a_foreign_host_header_is_refused_on_a_loopback_dashboard(client):
    assert_canonical_error(client.get("/runs.json", headers={"host": "evil.example:8765"}), 403)
    assert client.get("/runs.json", headers={"host": "localhost:8765"}).status_code == 200


def test_binding_elsewhere_requires_the_token_on_every_request(web_project):
    from starlette.testclient import TestClient

    with pytest.raises(HunchError, match="needs a token"):
        create_app(web_project[0], host="0.0.0.0")
    app = create_app(web_project[0], host="0.0.0.0", token="s3cret")
    with TestClient(app, base_url="http://10.1.2.3:8765") as c:
        assert_canonical_error(c.get("/runs.json"), 401)
        assert_canonical_error(c.get("/runs", params={"token": "wrong"}), 401)
        assert_canonical_error(c.get("/static/app.js"), 401)
        assert c.get("/runs.json", headers={"authorization": "Bearer s3cret"}).status_code == 200
        first = c.get("/runs?token=s3cret", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/runs"  # the token leaves the address bar
        assert "httponly" in first.headers["set-cookie"].lower()
        assert c.get("/runs.json").status_code == 200  # now by cookie


def test_each_dashboard_has_its_own_session_cookie_which_is_not_the_token(web_project):
    """Browsers send a host's cookies to every port: a fixed name let two dashboards overwrite
    each other's cookie (the first then answered 401), and a cookie holding the token gave it
    to any other server on the machine."""
    from starlette.testclient import TestClient

    apps = [create_app(web_project[0], host="0.0.0.0", token="s3cret") for _ in range(2)]
    cookies = []
    for app in apps:
        with TestClient(app, base_url="http://10.1.2.3:8765") as c:
            c.get("/runs?token=s3cret", follow_redirects=False)
            [(name, value)] = c.cookies.items()
            assert name.startswith("hunch_session_") and "s3cret" not in value
            cookies.append((name, value))
    assert cookies[0][0] != cookies[1][0]
    with TestClient(apps[1], base_url="http://10.1.2.3:8765") as c:  # A's session is no key to B
        c.cookies.set(cookies[0][0], cookies[0][1])
        c.cookies.set(cookies[1][0], "forged")
        assert_canonical_error(c.get("/runs.json"), 401)


def test_a_loopback_dashboard_sets_no_cookie_at_all(client, ids):
    from .test_pages import page_urls

    for path in [*page_urls(ids).values(), "/static/app.js", "/favicon.ico", "/nowhere"]:
        assert "set-cookie" not in client.get(path).headers, path


def test_every_post_route_needs_the_csrf_token(client, ids):
    posts = [p.path.replace("{run_id}", ids["w64"]) for p in PAGES if "POST" in p.methods]
    assert len(posts) >= 2
    token = csrf_of(client.get("/runs").text)
    for path in posts:
        assert_canonical_error(client.post(path, data={"text": "x", "position": 0, "category": "c"}), 403)
        assert_canonical_error(client.post(path, data={"csrf": "forged", "text": "x", "position": 0}), 403)
        cross = client.post(path, data={"csrf": token, "text": "x", "position": 0},
                            headers={"origin": "http://evil.example"})
        assert_canonical_error(cross, 403)
    assert client.get("/journal.json", params={"run": ids["w64"]}).json()["entries"][0]["body"] != "x"


def test_reading_a_triage_page_never_draws_or_replaces_the_sample(web_project, client, ids):
    """A GET that drew let an <img> on any local page replace the stored failure sample."""
    from hunchlab.store import open_store
    from hunchlab.store.triage import load_sample

    run = ids["xss"]

    def stored() -> Any:
        with open_store(web_project[0]) as store, store.read() as conn:
            return load_sample(conn, run)

    assert client.get(f"/runs/{run}/triage").status_code == 200 and stored() is None
    assert_canonical_error(client.get(f"/runs/{run}/triage", params={"sample": 2, "seed": 9},
                                      headers={"accept": "application/json"}), 400)
    assert stored() is None
    token = csrf_of(client.get("/runs").text)
    assert_canonical_error(client.post(f"/runs/{run}/samples", data={"sample": 1}), 403)  # no CSRF token
    assert client.post(f"/runs/{run}/samples", data={"csrf": token, "sample": 1, "seed": 3}).status_code == 200
    before = stored()
    assert before["seed"] == 3
    client.get(f"/runs/{run}/triage?sample=1&seed=9")
    assert stored() == before


@pytest.mark.parametrize("path", [
    "/journal?q=%00", "/journal.json?q=%00", "/runs/{long}/series.json?key=loss&lo=nan",
    "/runs/{long}/series.json?key=loss&lo=1e308&hi=-1e308", "/runs/{long}/series.json?key=loss&lo=inf",
    "/runs/{long}/series.json?key=loss&hi=x", "/runs.json?sort=bogus", "/runs.json?sort=-nope",
    "/runs.json?group=2", "/runs.json?status=bogus", "/runs.json?page=0", "/runs.json?where=acc%3E%00",
    "/runs/{long}/examples.json?correct=maybe", "/runs/{long}/examples.json?q=%01", "/journal.json?kind=bogus",
    "/sweep.json?metric=nope", "/runs/{long}/triage.json?by=x",
])
def test_bad_parameters_are_a_400_with_one_line_and_no_internals(client, ids, path):
    r = client.get(path.format(long=ids["long"]), headers={"accept": "application/json"})
    assert_canonical_error(r, 400)
    message = r.json()["error"]
    assert "\n" not in message and len(message) <= 300
    assert not any(leak in r.text for leak in ("SELECT", "sqlite", "Traceback", "Error:", "MATCH"))


def test_an_unexpected_failure_is_a_500_that_shows_nothing_internal(web_project, monkeypatch):
    from starlette.testclient import TestClient

    from hunchlab import journal_page as dashboard

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("(sqlite3.OperationalError) [SQL: SELECT secret FROM runs] at /home/me/.hunch")

    monkeypatch.setattr(dashboard, "journal_entries", broken)
    with TestClient(create_app(web_project[0]), base_url="http://127.0.0.1:8765", raise_server_exceptions=False) as c:
        for path in ("/journal.json", "/journal"):
            r = c.get(path)
            assert_canonical_error(r, 500)
            assert not any(leak in r.text for leak in ("SELECT", "RuntimeError", "sqlite3", "/home/me"))


@pytest.mark.parametrize(("path", "status"), [
    ("/runs/no-such-run", 404), ("/runs/no-such-run.json", 404), ("/runs.json?where=nonsense", 400),
    ("/runs.json?where=zzz%3D1", 400), ("/runs.json?page=x", 400), ("/nowhere", 404), ("/compare.json?s=only-one", 404),
    ("/runs/{long}/series.json", 400), ("/runs/{long}/series.json?key=loss&buckets=0", 400),
])
def test_errors_have_one_shape(client, ids, path, status):
    r = client.get(path.format(long=ids["long"]))
    assert_canonical_error(r, status)
    html = client.get(path.format(long=ids["long"]).replace(".json", ""), headers={"accept": "text/html"})
    if html.headers["content-type"].startswith("text/html"):
        assert_canonical_error(html, html.status_code)
