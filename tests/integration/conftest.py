"""Fixtures of the integration tests: the demo project built once for the session, a throwaway
PostgreSQL cluster for the session with a database per test, and a Ray cluster of two real nodes.

The demo is the slowest set-up of the suite (`hunch demo` takes 21 s of CPU, 46 s of wall time at
a load of about 4) and two tests read it: `cli/test_demo.py` and the README's tour. Each gets a
copy (``Demo.copy``, a fraction of a second) of one demo built per session, instead of a build each.

The PostgreSQL cluster is Debian's, started with initdb + pg_ctl in a temporary folder
on 127.0.0.1 only, and removed afterwards: one for the three modules that use it (initdb and
start take 3.7 s of wall time at a load of 5; each test has a database of its own, so nothing
else is shared). ``cluster.restart()``/``stop()``/``start()`` let a test take the server away
from a running sweep; ``pg_project`` starts it again if a failed test left it stopped. The Ray nodes are `ray start`
processes, each in a process group of its own, which is how they are stopped (and how a
test kills one mid-sweep): never `ray stop`, which would stop every Ray on the machine.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from readme_tour import tour_env


@dataclass
class Demo:
    """The project `hunch demo hunch-demo` built, as the README's `make demo` builds it, and what it printed.

    ``folder`` is never changed: a test works in a ``copy``. The copy keeps the absolute paths the
    demo recorded (each run's ``project_root``, its code state's ``root``), which only say where a
    run was made: restoring a run's code (``rerun``, ``compare``'s code diff) reads the commit from
    the recorded folder's git, and ``folder`` holds the same commits for the whole session.
    """

    folder: Path
    proc: subprocess.CompletedProcess[str]
    seconds: float

    def copy(self, dest: Path) -> Path:
        shutil.copytree(self.folder, dest, symlinks=True)
        return dest


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`hunch demo` run once per session, in the shell of a reader who followed the README's set-up."""
    base = tmp_path_factory.mktemp("demo")
    env = tour_env(base / "bin", sys.executable, base / "home")
    started = time.monotonic()
    proc = subprocess.run(["hunch", "demo", "hunch-demo"], cwd=base, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    return Demo(base / "hunch-demo", proc, time.monotonic() - started)


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

    def running(self) -> bool:
        status = subprocess.run([*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"),
                                 "status"], capture_output=True)
        return status.returncode == 0


@pytest.fixture(scope="session")
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

    if not cluster.running():  # a test that failed while the server was down: the next one needs it
        cluster.start()
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    with psycopg.connect(f"postgresql://hunch@127.0.0.1:{cluster.port}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    with open(project.hunch_dir / "settings.yaml", "a") as f:
        f.write(f"store: {cluster.url}/{name}\n")
    project.settings["store"] = f"{cluster.url}/{name}"
    return project


@pytest.fixture
def second_clone(pg_project, tmp_path):
    """Another project folder on the same store, as a teammate has it: a git clone of the first
    (`.hunch/` is not in git), `hunch init` there, and the same `store:` setting."""
    from hunchlab.run_records import init_project

    root = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(pg_project.root), str(root)], check=True)
    (root / ".hunch").mkdir()
    (root / ".hunch" / "settings.yaml").write_text(f"store: {pg_project.setting('store')}\n")
    return init_project(root)[0]


# -- a Ray cluster of real `ray start` nodes on this machine ---------------------------------------


@dataclass
class RayNode:
    """One `ray start` (head or worker), started in a session of its own: its daemons and task
    workers (each in a process group of its own) all stay in the session ``sid``."""

    sid: int

    def members(self) -> list[int]:
        out = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[3]) == self.sid and fields[0] != "Z":
                    out.append(int(entry.name))
        return out

    def kill(self, sig: int = signal.SIGKILL, wait: float = 5.0) -> None:
        """Signal every process of the node; SIGKILL what is left after ``wait`` seconds."""
        for s, patience in ((sig, wait), (signal.SIGKILL, 10.0)):
            for pid in self.members():
                try:
                    os.kill(pid, s)
                except ProcessLookupError:
                    pass
            deadline = time.time() + patience
            while self.members() and time.time() < deadline:
                time.sleep(0.2)
            if not self.members():
                return


@dataclass
class RayCluster:
    """A head and worker nodes started by the tests; ``env`` joins it (RAY_ADDRESS) from a driver.

    The workers' TMPDIR is ``tmp`` (their unpacked code and scratch projects land there,
    for the tests to look at); the nodes run with Ray's token authentication off.
    """

    address: str
    tmp: Path
    root: Path
    env: dict[str, str]
    nodes: list[RayNode]

    def add_node(self, cpus: int = 1) -> RayNode:
        node = _ray_start(self.root / f"node{len(self.nodes)}", self.env, ["--address", self.address],
                          cpus)
        self.nodes.append(node)
        _wait_for_cpus(self, sum(1 for n in self.nodes if n.members()) * cpus)
        return node


def _ray_start(temp: Path, env: dict[str, str], args: list[str], cpus: int) -> RayNode:
    ray = Path(sys.executable).with_name("ray")
    proc = subprocess.Popen([str(ray), "start", *args, "--num-cpus", str(cpus), "--temp-dir", str(temp),
                             "--disable-usage-stats", "--node-ip-address", "127.0.0.1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    node = RayNode(proc.pid)
    try:
        out, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        node.kill()
        raise
    if proc.returncode != 0:
        node.kill()
        raise RuntimeError(f"ray start failed:\n{out[-3000:]}")
    return node


def _wait_for_cpus(cluster: RayCluster, cpus: int) -> None:
    """Until the cluster counts ``cpus`` CPUs (a node that joined registers within seconds)."""
    probe = ("import ray, sys, time\nray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False)\n"
             "end = time.time() + 120\n"
             "while ray.cluster_resources().get('CPU', 0) != float(sys.argv[2]) and time.time() < end:\n"
             "    time.sleep(0.5)\n"
             "print(ray.cluster_resources().get('CPU', 0))\n")
    out = subprocess.run([sys.executable, "-c", probe, cluster.address, str(cpus)], env=cluster.env,
                         capture_output=True, text=True, timeout=240)
    assert out.stdout.strip() == f"{float(cpus)}", out.stdout + out.stderr[-2000:]


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """Two `ray start` nodes (a head and a worker, 1 CPU each) on this machine, stopped at the end."""
    pytest.importorskip("ray", reason="the test extras install ray")
    root = Path(tempfile.mkdtemp(prefix="hr-"))  # short: Ray's socket paths must fit 107 characters
    tmp = root / "tmp"
    tmp.mkdir()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "TMPDIR": str(tmp), "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    port = _free_port()
    nodes: list[RayNode] = []
    try:
        nodes.append(_ray_start(root / "head", env, ["--head", "--port", str(port), "--include-dashboard",
                                                     "false"], 1))
        cluster = RayCluster(f"127.0.0.1:{port}", tmp, root, {**env, "RAY_ADDRESS": f"127.0.0.1:{port}"}, nodes)
        cluster.add_node()
        yield cluster
    finally:
        for node in reversed(nodes):
            node.kill(signal.SIGTERM)
        shutil.rmtree(root, ignore_errors=True)
