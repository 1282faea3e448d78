"""Fixtures for the team-store tests: a throwaway PostgreSQL cluster per module, a database per test.

The cluster is Debian's PostgreSQL, started with initdb + pg_ctl in a temporary folder
on 127.0.0.1 only, and removed afterwards. ``cluster.restart()``/``stop()``/``start()``
let a test take the server away from a running sweep.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def unused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (a store server that is down)."""
    return _free_port()


@dataclass
class Cluster:
    """A running throwaway cluster; ``url`` is ``postgresql+psycopg://hunch@127.0.0.1:PORT``."""

    bin_dir: Path
    root: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://hunch@127.0.0.1:{self.port}"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), *args],
                       check=True, capture_output=True)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.root / "log"), "-w", "start", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pytest.importorskip("psycopg", reason="the test extras install psycopg")
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (make install-test installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="hunch-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        shutil.chown(root, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "hunch"],
                   check=True, capture_output=True)
    server = Cluster(bin_dir, root, _free_port(), as_postgres)
    server.start()
    try:
        yield server
    finally:
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_project(project, cluster, request):
    """The usual test project, with its store in a fresh PostgreSQL database."""
    import psycopg

    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    with psycopg.connect(f"postgresql://hunch@127.0.0.1:{cluster.port}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    with open(project.hunch_dir / "settings.yaml", "a") as f:
        f.write(f"store: {cluster.url}/{name}\n")
    project.settings["store"] = f"{cluster.url}/{name}"
    return project
