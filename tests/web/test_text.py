"""What a researcher reads: user strings isolated from the text around them, long ones cut
with the whole value on hover, numbers with separators, file names that cannot lie."""

from __future__ import annotations

import re
from urllib.parse import unquote

from .data import LONG_NAME, RLO


def test_a_right_to_left_override_in_a_name_stays_inside_it(sweep_client):
    html = sweep_client.get("/runs", params={"group": "0"}).text
    assert f'<span class="name"><bdi>{RLO}evil</bdi></span>' in html  # "seed 0" after it reads as itself
    page = sweep_client.get(f"/runs/{sweep_client.ids['rtl']}").text
    assert f"<bdi>{RLO}evil</bdi>" in page
    # every run name on the runs page is isolated
    names = re.findall(r'<span class="name">(.*?)</span>', html)
    assert names and all(n.startswith("<bdi") for n in names if n)


def test_a_100kb_name_is_cut_with_the_whole_value_on_hover_and_expand(sweep_client):
    runs = sweep_client.get("/runs", params={"group": "0"})
    assert len(runs.text) < 60_000 and LONG_NAME[:2001] not in runs.text
    assert f'<bdi class="clip" title="{"n" * 1999}…">{"n" * 39}…</bdi>' in runs.text
    page = sweep_client.get(f"/runs/{sweep_client.ids['long_name']}").text
    assert "the whole name (100,000 characters)" in page and LONG_NAME in page  # once, in the expander
    assert page.count(LONG_NAME) == 1


def test_artifact_names_show_their_direction_controls(sweep_client):
    run = sweep_client.ids["spoof"]
    page = sweep_client.get(f"/runs/{run}").text
    assert "report⟨U+202E⟩gpj.exe" in page and f"report{RLO}gpj" not in page
    download = sweep_client.get(f"/runs/{run}/artifacts/report%E2%80%AEgpj.exe")
    filename = unquote(download.headers["content-disposition"].split("''")[1])
    assert download.status_code == 200 and filename == "report⟨U+202E⟩gpj.exe"


def test_numbers_have_separators(client, ids):
    page = client.get(f"/runs/{ids['long']}").text
    assert "6,000 points" in page and "at step 5,999" in page


def test_journal_notes_look_like_the_other_entries(client):
    html = client.get("/journal").text
    assert 'class="entry kind-note"' in html and 'class="entry note"' not in html


def test_the_favicon_is_served(client):
    for path in ("/favicon.ico", "/static/favicon.svg"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/runs").text
