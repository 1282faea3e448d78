"""One logging (or reading) process for one tool. Every case runs this as a subprocess.

    python worker.py log    TOOL --store DIR [--steps N] [--warmup W] [--ack FILE]
                                 [--go FILE] [--ready FILE] [--latency] [--name NAME]
    python worker.py read   TOOL --store DIR --run-id ID [--via cli]
    python worker.py init   mlflow --store DIR
    python worker.py runs   TOOL --store DIR --count N [--start K]     (many small runs)
    python worker.py search mlflow --store DIR [--repeat R]

``log`` prints one JSON line: run id, acknowledged steps/points, errors, timings and
(with --latency) per-call latency percentiles. With --ack FILE it writes, after each
log call RETURNS, the number of acknowledged steps into a shared mmap'd file, so a
parent that SIGKILLs this process knows exactly what the tool had acknowledged.

The four tools are driven through their ordinary, documented per-step calls:
    hunchlab: with hunchlab.start(config=..., name=...) as run: run.log(d, step=i)
    mlflow:   mlflow.start_run(); mlflow.log_metrics(d, step=i)   (sqlite tracking URI)
    wandb:    run = wandb.init(mode="offline", dir=...); run.log(d, step=i)
    trackio:  run = trackio.init(project=..., name=..., config=...); run.log(d, step=i)
              (TRACKIO_DIR=<store>/trackio: one SQLite file per project)
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import struct
import sys
import time
import traceback
from pathlib import Path

METRICS = [f"m{k}" for k in range(10)]
CONFIG = {"lr": 1e-3, "batch_size": 64, "optimizer": "adam"}

# ---- the acknowledgement file: 4 KiB, mmap'd, survives kill -9 (it is page cache) --------
# offset 0: int64 acknowledged steps   offset 8: int64 state (1 = logging started)
# offset 16: run id, 64 bytes ascii, NUL padded
ACK_SIZE = 4096


def ack_create(path: Path) -> None:
    path.write_bytes(b"\0" * ACK_SIZE)


def ack_open(path: Path) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, ACK_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)


def ack_read(path: Path) -> dict:
    data = path.read_bytes()
    steps, state = struct.unpack_from("<qq", data, 0)
    run_id = data[16:80].rstrip(b"\0").decode()
    return {"acked_steps": steps, "state": state, "run_id": run_id}


# ---- tool adapters --------------------------------------------------------------------------
class Hunchlab:
    def __init__(self, store: Path):
        import hunchlab

        self.h = hunchlab

    def start(self, name: str, config: dict) -> str:
        self.ctx = self.h.start(config=config, name=name)
        self.run = self.ctx.__enter__()
        self.log = self.run.log  # bound method: the ordinary per-step call
        return str(self.run.id)

    def finish(self) -> None:
        self.ctx.__exit__(None, None, None)

    def wait_folded(self, store: Path, run_id: str) -> None:
        """finish() returns once the end line is written; the background folder folds the run."""
        marker = store / ".hunch" / "pending" / run_id
        while marker.exists():
            time.sleep(0.002)


class Mlflow:
    def __init__(self, store: Path):
        import mlflow

        self.m = mlflow
        mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")

    def start(self, name: str, config: dict) -> str:
        run = self.m.start_run(run_name=name)
        self.m.log_params(config)
        self.log = self.m.log_metrics
        return run.info.run_id

    def finish(self) -> None:
        self.m.end_run()


class Wandb:
    def __init__(self, store: Path):
        import wandb

        self.w = wandb
        self.store = store

    def start(self, name: str, config: dict) -> str:
        self.run = self.w.init(mode="offline", dir=str(self.store), project="bench", name=name,
                               config=config, reinit="create_new")
        self.log = self.run.log
        return self.run.id

    def finish(self) -> None:
        self.run.finish()


class WandbCompat(Wandb):
    """hunchlab's wandb stand-in, driven exactly as W&B is (the script's code unchanged)."""

    def __init__(self, store: Path):
        import hunchlab.compat.wandb as wandb

        self.w = wandb
        self.store = store

    def start(self, name: str, config: dict) -> str:
        self.run = self.w.init(project="bench", name=name, config=config)
        self.log = self.run.log
        return self.run.id


class Trackio:
    def __init__(self, store: Path):
        os.environ["TRACKIO_DIR"] = str(store / "trackio")  # read when trackio is imported
        import trackio

        self.t = trackio

    def start(self, name: str, config: dict) -> str:
        self.run = self.t.init(project="bench", name=f"{name}-{os.getpid()}", config=config,
                               auto_log_gpu=False, auto_log_cpu=False)
        self.log = self.run.log
        return str(self.run.name)

    def finish(self) -> None:
        self.run.finish()


ADAPTERS = {"hunchlab": Hunchlab, "mlflow": Mlflow, "wandb": Wandb, "trackio": Trackio, "wandb-compat": WandbCompat}


def values(step: int) -> dict:
    return {m: step * 1e-4 + k for k, m in enumerate(METRICS)}


def pct(sorted_ns: list[int], p: float) -> float:
    """Nearest-rank percentile, in microseconds."""
    if not sorted_ns:
        return float("nan")
    i = min(len(sorted_ns) - 1, max(0, int(round(p / 100 * len(sorted_ns) + 0.5)) - 1))
    return sorted_ns[i] / 1000


def err_key(exc: BaseException) -> str:
    """A short, countable description: the type and the telling part of the message."""
    msg = " ".join(str(exc).split())
    for needle in ("database is locked", "locked", "timed out", "timeout"):
        if needle in msg.lower():
            at = msg.lower().index(needle)
            return f"{type(exc).__name__}: ...{msg[max(0, at - 60):at + 60]}..."
    return f"{type(exc).__name__}: {msg[:200]}"


# ---- log ------------------------------------------------------------------------------------
def cmd_log(a: argparse.Namespace) -> dict:
    store = Path(a.store)
    errors: dict[str, int] = {}

    def note(exc: BaseException) -> None:
        k = err_key(exc)
        errors[k] = errors.get(k, 0) + 1

    t_import = time.perf_counter()
    tool = ADAPTERS[a.tool](store)
    t_import = time.perf_counter() - t_import
    out: dict = {"tool": a.tool, "pid": os.getpid(), "import_s": round(t_import, 4)}

    if a.warmup:  # a separate, untimed run first: imports, caches, JIT-free warm paths
        tool.start(f"{a.name}-warmup", CONFIG)
        for i in range(a.warmup):
            tool.log(values(i), step=i)
        tool.finish()

    ack = ack_open(Path(a.ack)) if a.ack else None
    if a.ready:
        Path(a.ready).write_text(str(os.getpid()))
    if a.go:  # concurrency barrier: every worker starts its run at the same moment
        deadline = time.monotonic() + 600
        while not os.path.exists(a.go) and time.monotonic() < deadline:
            time.sleep(0.005)

    # prebuilt: each step's dict made before the timed loop, so the loop times the logger, not the
    # harness's making of ten numbers (~1.05 us a step here, as long as a hunchlab log call takes a third of)
    dicts = [values(i) for i in range(a.steps)] if a.dicts == "prebuilt" else None
    stop_at = time.monotonic() + a.max_seconds if a.max_seconds else None
    t0 = time.perf_counter()
    try:
        run_id = tool.start(a.name, CONFIG)
    except Exception as exc:  # e.g. "database is locked" while creating the run
        note(exc)
        out.update(run_id=None, acked_steps=0, acked_points=0, errors=errors, start_failed=True)
        return out
    start_s = time.perf_counter() - t0
    out["run_id"] = run_id
    if ack is not None:
        ack[16:16 + len(run_id)] = run_id.encode()
        struct.pack_into("<q", ack, 8, 1)

    steps = a.steps
    if ack is None and not a.latency and a.dicts == "prebuilt":
        acked, acked_points, attempted, loop_s = throughput_loop(tool.log, dicts, note, stop_at)
    else:
        acked, acked_points, attempted, loop_s, lat = timed_loop(tool.log, steps, dicts, note, ack, stop_at,
                                                                 a.latency)
    t3 = time.perf_counter()
    try:
        tool.finish()
    except Exception as exc:
        note(exc)
    finish_s = time.perf_counter() - t3
    if a.wait_folded and hasattr(tool, "wait_folded"):
        t4 = time.perf_counter()
        tool.wait_folded(store, run_id)
        out["folded_after_finish_s"] = round(time.perf_counter() - t4, 4)

    out.update(
        name=a.name, steps_requested=steps, steps_attempted=attempted, acked_steps=acked,
        acked_points=acked_points, errors=errors, start_s=round(start_s, 4),
        loop_s=round(loop_s, 4), finish_s=round(finish_s, 4),
        points_per_s=round(acked_points / loop_s, 1) if loop_s else None,
        points_per_s_incl_start_finish=round(acked_points / (start_s + loop_s + finish_s), 1),
    )
    if a.latency:
        ns = sorted(lat[:attempted])
        out.update(p50_us=round(pct(ns, 50), 2), p99_us=round(pct(ns, 99), 2),
                   mean_us=round(sum(ns) / len(ns) / 1000, 2), max_us=round(ns[-1] / 1000, 1))
    return out


def throughput_loop(log, dicts: list[dict], note, stop_at: float | None) -> tuple[int, int, int, float]:
    """The loop that points/s is taken over: nothing in it but the tool's log call (the deadline
    is looked at every 1,000 steps). Acked steps, acked points, attempted steps, seconds."""
    acked = acked_points = attempted = 0
    pc = time.perf_counter_ns
    t_loop = pc()
    for start in range(0, len(dicts), 1000):
        for i in range(start, min(start + 1000, len(dicts))):
            d = dicts[i]
            try:
                log(d, step=i)
            except Exception as exc:
                note(exc)
                continue
            acked += 1
            acked_points += len(d)
        attempted = min(start + 1000, len(dicts))
        if stop_at is not None and time.monotonic() > stop_at:
            break
    return acked, acked_points, attempted, (pc() - t_loop) / 1e9


def timed_loop(log, steps: int, dicts: list[dict] | None, note, ack, stop_at: float | None, latency: bool):
    """The loop with its bookkeeping: each call timed (``latency``), the acknowledgement file
    written after each call returned (``ack``), the step's dict made in the loop unless prebuilt."""
    lat = [0] * steps if latency else None
    acked = 0
    acked_points = 0
    pc = time.perf_counter_ns
    t_loop = pc()
    i = 0
    for i in range(steps):
        d = dicts[i] if dicts is not None else values(i)
        t1 = pc()
        try:
            log(d, step=i)
        except Exception as exc:
            note(exc)
            if lat is not None:
                lat[i] = pc() - t1
            continue
        t2 = pc()
        acked += 1
        acked_points += len(d)
        if lat is not None:
            lat[i] = t2 - t1
        if ack is not None:
            struct.pack_into("<q", ack, 0, acked)  # written only after the call returned
        if stop_at is not None and time.monotonic() > stop_at:
            break
    return acked, acked_points, i + 1, (pc() - t_loop) / 1e9, lat


# ---- read back ------------------------------------------------------------------------------
# Each reader returns {metric: [step, step, ...]} as the tool gives them back; points are
# counted as distinct (metric, step) pairs, and repeated pairs are reported as duplicates.
def read_hunchlab(store: Path, run_id: str, via: str) -> dict[str, list]:
    if via == "cli":
        import subprocess

        cp = subprocess.run(["hunch", "show", run_id, "--json"], cwd=store, capture_output=True,
                            text=True, timeout=300)
        if cp.returncode != 0:
            raise RuntimeError(f"hunch show failed rc={cp.returncode}: {cp.stderr[-2000:]}")
        rec = json.loads(cp.stdout)
    else:
        import hunchlab

        rec = hunchlab.get_run(run_id)
    return {k: [p["step"] for p in v] for k, v in (rec.get("metrics") or {}).items()}


def read_mlflow(store: Path, run_id: str, via: str) -> dict[str, list]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    return {m: [p.step for p in client.get_metric_history(run_id, m)] for m in METRICS}


def wandb_records(path: Path):
    """The protobuf Records of a .wandb file: hunchlab's reader (LevelDB-log framing, W&B's own
    protobuf classes; wandb 0.31 ships no Python reader), the one `hunch import wandb` uses."""
    from hunchlab.compat.wandb_file import wandb_records as read

    return read(path)


def wandb_file(store: Path, run_id: str) -> Path:
    hits = sorted((store / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb"))
    if not hits:
        raise FileNotFoundError(f"no .wandb file for run {run_id} under {store / 'wandb'}")
    return hits[-1]


def read_wandb(store: Path, run_id: str, via: str) -> dict[str, list]:
    steps: dict[str, list] = {m: [] for m in METRICS}
    for rec in wandb_records(wandb_file(store, run_id)):
        if rec.WhichOneof("record_type") != "history":
            continue
        step = rec.history.step.num
        for item in rec.history.item:
            key = item.key or "/".join(item.nested_key)
            if key in steps:
                steps[key].append(step)
    return steps


def read_trackio(store: Path, run_id: str, via: str) -> dict[str, list]:
    """trackio's own reader over its SQLite file (``run_id`` is the run's name)."""
    os.environ["TRACKIO_DIR"] = str(store / "trackio")
    from trackio.sqlite_storage import SQLiteStorage

    steps: dict[str, list] = {m: [] for m in METRICS}
    for entry in SQLiteStorage.get_logs("bench", run=run_id):
        for m in METRICS:
            if m in entry:
                steps[m].append(entry["step"])
    return steps


READERS = {"hunchlab": read_hunchlab, "mlflow": read_mlflow, "wandb": read_wandb, "trackio": read_trackio,
           "wandb-compat": read_hunchlab}


def cmd_read(a: argparse.Namespace) -> dict:
    """Points recovered per run; --run-id takes one id or a comma-separated list."""
    t0 = time.perf_counter()
    runs, errors = {}, {}
    for run_id in a.run_id.split(","):
        try:
            got = READERS[a.tool](Path(a.store), run_id, a.via)
            distinct = {k: len(set(v)) for k, v in got.items()}
            runs[run_id] = {"points": sum(distinct.values()), "per_metric": distinct,
                            "duplicates": sum(len(v) for v in got.values()) - sum(distinct.values())}
        except Exception as exc:  # a run the tool cannot read back at all counts as lost
            errors[run_id] = err_key(exc)
            runs[run_id] = {"points": 0, "per_metric": {}, "duplicates": 0}
    return {"tool": a.tool, "via": a.via, "points": sum(r["points"] for r in runs.values()),
            "duplicates": sum(r.get("duplicates", 0) for r in runs.values()), "runs": runs,
            "read_errors": errors, "read_s": round(time.perf_counter() - t0, 4)}


# ---- misc -----------------------------------------------------------------------------------
def cmd_init(a: argparse.Namespace) -> dict:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{Path(a.store) / 'mlflow.db'}")
    client.search_experiments()
    return {"ok": True}


def cmd_runs(a: argparse.Namespace) -> dict:
    """Create many small finished runs through the ordinary API: a few params, one summary
    metric each. Stops early after --max-seconds (reported as ``created`` < ``count``)."""
    store = Path(a.store)
    stop_at = time.monotonic() + a.max_seconds if a.max_seconds else float("inf")
    created = 0
    t0 = time.perf_counter()
    if a.tool == "hunchlab":
        import hunchlab

        for i in range(a.start, a.start + a.count):
            with hunchlab.start(config={"lr": 1e-3 * (i % 7 + 1), "seed": i, "arch": "mlp"},
                                name=f"r{i}") as run:
                run.summary["loss"] = 1.0 / (i + 1)
            created += 1
            if time.monotonic() > stop_at:
                break
    elif a.tool == "mlflow":
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
        for i in range(a.start, a.start + a.count):
            r = client.create_run("0", run_name=f"r{i}")
            rid = r.info.run_id
            client.log_batch(rid, metrics=[Metric("loss", 1.0 / (i + 1), 0, 0)],
                             params=[Param("lr", str(1e-3 * (i % 7 + 1))), Param("seed", str(i)),
                                     Param("arch", "mlp")])
            client.set_terminated(rid)
            created += 1
            if time.monotonic() > stop_at:
                break
    else:
        raise SystemExit(f"runs: unsupported tool {a.tool}")
    dt = time.perf_counter() - t0
    return {"tool": a.tool, "requested": a.count, "created": created, "s": round(dt, 3),
            "runs_per_s": round(created / dt, 1)}


def cmd_search(a: argparse.Namespace) -> dict:
    """Time mlflow.search_runs (returns a pandas DataFrame of all runs) in a warm process."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{Path(a.store) / 'mlflow.db'}")
    times, n = [], 0
    for _ in range(a.repeat + 1):  # first call is the warm-up
        t0 = time.perf_counter()
        df = mlflow.search_runs(experiment_ids=["0"], max_results=100_000)
        times.append(time.perf_counter() - t0)
        n = len(df)
    warm = sorted(times[1:])
    return {"rows": n, "first_call_s": round(times[0], 4), "median_s": round(warm[len(warm) // 2], 4),
            "all_s": [round(t, 4) for t in times]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["log", "read", "init", "runs", "search"])
    p.add_argument("tool", choices=sorted(ADAPTERS))
    p.add_argument("--store", required=True)
    p.add_argument("--name", default="bench")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=0)
    p.add_argument("--latency", action="store_true", help="time each call (its clock reads are then in the loop)")
    p.add_argument("--dicts", default="in-loop", choices=["in-loop", "prebuilt"],
                   help="make each step's dict in the timed loop, or all of them before it")
    p.add_argument("--wait-folded", action="store_true",
                   help="hunchlab: after finish, also time until the background folder has folded the run")
    p.add_argument("--ack")
    p.add_argument("--ready")
    p.add_argument("--go")
    p.add_argument("--run-id")
    p.add_argument("--via", default="api", choices=["api", "cli"])
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", help="also write the JSON result to this file")
    a = p.parse_args()
    try:
        res = {"log": cmd_log, "read": cmd_read, "init": cmd_init, "runs": cmd_runs,
               "search": cmd_search}[a.cmd](a)
    except Exception as exc:
        res = {"tool": a.tool, "fatal": err_key(exc), "traceback": traceback.format_exc()[-3000:]}
        if a.out:
            Path(a.out).write_text(json.dumps(res))
        print(json.dumps(res))
        sys.exit(1)
    if a.out:
        Path(a.out).write_text(json.dumps(res))
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
