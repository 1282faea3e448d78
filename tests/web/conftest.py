"""Fixtures of the in-process dashboard tests: one small project per module, a client with no server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from hunchlab.project import Project

from .data import build, build_sweep


@pytest.fixture(scope="module")
def web_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict[str, str]]]:
    old = os.environ.pop("HUNCH_DIR", None)
    yield build(tmp_path_factory.mktemp("webproj"))
    if old is not None:
        os.environ["HUNCH_DIR"] = old


@pytest.fixture(scope="module")
def client(web_project: tuple[Project, dict[str, str]]) -> Any:
    """An in-process client (no server, no port), as a browser on this machine would talk to it."""
    from starlette.testclient import TestClient

    from hunchlab.web import create_app

    with TestClient(create_app(web_project[0]), base_url="http://127.0.0.1:8765") as c:
        yield c


@pytest.fixture
def ids(web_project: tuple[Project, dict[str, str]]) -> dict[str, str]:
    return web_project[1]


@pytest.fixture(scope="module")
def sweep_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A client over the paging / overlay / sweep project (``data.build_sweep``), and its run ids."""
    from starlette.testclient import TestClient

    from hunchlab.web import create_app

    old = os.environ.pop("HUNCH_DIR", None)
    project, ids = build_sweep(tmp_path_factory.mktemp("sweepproj"))
    with TestClient(create_app(project), base_url="http://127.0.0.1:8765") as c:
        c.ids = ids
        c.project = project
        yield c
    if old is not None:
        os.environ["HUNCH_DIR"] = old
