"""Render bench/results/*.json as one side-by-side Markdown table (also written to
bench/results/table.md). Run after the cases: bench/.venv/bin/python bench/report.py"""

from __future__ import annotations

import json

from common import RESULTS

COLS = ["hunchlab", "MLflow (sqlite)", "W&B (offline)", "trackio"]
KEYS = {"hunchlab": "hunchlab", "MLflow (sqlite)": "mlflow", "W&B (offline)": "wandb", "trackio": "trackio"}


def load(name: str) -> dict | None:
    f = RESULTS / f"{name}.json"
    return json.loads(f.read_text()) if f.exists() else None


def fmt(x: float | None, unit: str = "", digits: int = 0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}{unit}"


def main() -> None:
    rows: list[tuple[str, dict[str, str]]] = []
    meta = None

    t = load("throughput")
    if t:
        meta = meta or t
        r = t["results"]
        def tput(k: str) -> str:
            x = r.get(k, {})
            cut = f" ({x['steps']:,} steps: time cap)" if x.get("steps", t["steps_requested"]) < t["steps_requested"] else ""
            return fmt(x.get("points_per_s"), " points/s") + cut

        rows.append(("(a) logging, 10 metrics x 10,000 steps: throughput", {c: tput(k) for c, k in KEYS.items()}))
        inloop = load("throughput_dicts_in_loop")
        if inloop:
            rows.append(("(a) the same, each step's dict made in the loop (as before 2026-12-05)", {
                c: fmt(inloop["results"].get(k, {}).get("points_per_s"), " points/s") for c, k in KEYS.items()}))
        rows.append(("(a) per-call latency, p50", {c: fmt(r.get(k, {}).get("p50_us"), " µs", 1) for c, k in KEYS.items()}))
        rows.append(("(a) per-call latency, p99", {c: fmt(r.get(k, {}).get("p99_us"), " µs", 1) for c, k in KEYS.items()}))
        rows.append(("(a) throughput incl. run start + finish", {
            c: fmt(r.get(k, {}).get("points_per_s_incl_start_finish"), " points/s") for c, k in KEYS.items()}))
        if r.get("hunchlab", {}).get("folded_after_finish_s") is not None:
            rows.append(("(a) hunchlab: run folded by the background folder, after finish returned", {
                COLS[0]: fmt(r["hunchlab"]["folded_after_finish_s"], " s", 2)}))
        m = r.get("hunchlab-machine")
        if m and "points_per_s" in m:
            rows.append(("(a) hunchlab `durability: machine`: throughput", {COLS[0]: fmt(m["points_per_s"], " points/s")}))
            rows.append(("(a) hunchlab `durability: machine`: latency p50", {COLS[0]: fmt(m["p50_us"], " µs")}))
        if t.get("fsync_floor"):
            rows.append(("(a) disk floor: 120-byte append + fsync, p50", {COLS[0]: fmt(t["fsync_floor"]["p50_us"], " µs")}))

    k9 = load("kill9")
    if k9:
        meta = meta or k9
        for scope, label in (("process", "kill -9 of the process"), ("tree", "kill -9 of process + helpers")):
            acked, lost = {}, {}
            for c, k in KEYS.items():
                s = k9["results"].get(k, {}).get(scope)
                if not s or not s["trials_ok"]:
                    continue
                acked[c] = f"{fmt(min(s['acked_points']))}–{fmt(max(s['acked_points']))} points"
                lost[c] = f"{fmt(s['lost_points_max'])} points (worst of {s['trials_ok']})"
            rows.append((f"(b) {label} after 2 s: acknowledged", acked))
            rows.append((f"(b) {label} after 2 s: lost", lost))
            h = k9["results"].get("hunchlab", {}).get(scope, {})
            if h.get("first_show_s"):
                rows.append((f"(b) {label}: first `hunch show` after the kill (folds every point)",
                             {COLS[0]: f"{fmt(max(h['first_show_s']), ' s', 2)} (slowest of {len(h['first_show_s'])})"}))

    cc = load("concurrent")
    if cc:
        meta = meta or cc
        for n in ("8", "32"):
            errs, lost, wall = {}, {}, {}
            for c, k in KEYS.items():
                s = cc["results"].get(k, {}).get(n)
                if not s or "fatal" in s:
                    continue
                errs[c] = f"{s['error_calls']} errors"
                lost[c] = f"{s['lost_points']} of {fmt(s['acked_points'])} points"
                partial = (f" (stopped at {s['steps_attempted_min']} of {s['steps_requested']} steps)"
                           if s["steps_attempted_min"] < s["steps_requested"] else "")
                folded = f" (all folded: {s['wall_s_go_to_all_folded']} s)" if s.get("wall_s_go_to_all_folded") else ""
                wall[c] = f"{s['wall_s_go_to_all_exited']} s{partial}{folded}"
            rows.append((f"(c) {n} processes, one store: errors", errs))
            rows.append((f"(c) {n} processes, one store: lost", lost))
            rows.append((f"(c) {n} processes, one store: wall time, go to all exited", wall))

    cs = load("coldstart")
    if cs:
        meta = meta or cs
        r = cs["results"]
        for label, names in (("(d) CLI `--help`, median wall", ("hunch --help", "mlflow --help", "wandb --help")),
                             ("(d) `import`, median wall", ("import hunchlab", "import mlflow", "import wandb"))):
            rows.append((label, {c: fmt(r.get(n, {}).get("median_ms"), " ms") for c, n in zip(COLS, names)}))
            rows.append((label.replace("wall", "CPU (user+sys)"),
                         {c: fmt(r.get(n, {}).get("cpu_median_ms"), " ms") for c, n in zip(COLS, names)}))

    ls = load("listing")
    if ls:
        meta = meta or ls
        h = ls["results"].get("hunchlab", {})
        m = ls["results"].get("mlflow", {})
        for n in sorted({*h.get("sizes", {}), *m.get("sizes", {})}, key=int):
            cells = {COLS[2]: "n/a (no local listing)"}
            if n in h.get("sizes", {}):
                cells[COLS[0]] = fmt(h["sizes"][n]["hunch runs"].get("median_s"), " s", 3) + " (`hunch runs`)"
            if n in m.get("sizes", {}):
                cells[COLS[1]] = (fmt(m["sizes"][n]["mlflow.search_runs (in-process)"].get("median_s"), " s", 3)
                                  + " (`search_runs`)")
            rows.append((f"(e) list {int(n):,} runs", cells))
            if n in h.get("sizes", {}) or n in m.get("sizes", {}):
                cli = {}
                if n in h.get("sizes", {}):
                    cli[COLS[0]] = fmt(h["sizes"][n]["hunch runs --json"].get("median_s"), " s", 3) + " (`--json`)"
                if n in m.get("sizes", {}):
                    cli[COLS[1]] = fmt(m["sizes"][n]["mlflow runs list (CLI)"].get("median_s"), " s", 3) + " (`mlflow runs list`)"
                rows.append((f"(e) list {int(n):,} runs, other form", cli))

        def rate(x: dict) -> str:
            c = x.get("creation") or []
            return fmt(sum(i["created"] for i in c) / max(1e-9, sum(i["s"] for i in c)), " runs/s", 1) if c else "n/a"

        rows.append(("(e) run creation through the API", {COLS[0]: rate(h), COLS[1]: rate(m), COLS[2]: "n/a"}))

    co = load("compare")
    if co:
        meta = meta or co
        r = co["results"]
        cells = {c: f"{fmt(r[k]['end_to_end_s'], ' s', 2)} fresh process, {fmt(r[k]['warm_s'], ' s', 2)} warm"
                 for c, k in KEYS.items() if k in r}
        rows.append((f"(f) compare two {co['seeds']}-seed groups, {co['examples_per_run']:,} examples a run "
                     "(MLflow: search_runs + load_table + the same statistics)", cells))

    sw = load("sweep")
    if sw:
        meta = meta or sw
        r = sw["results"]
        floor = r["bash"]["wall_ms_per_trial"]
        rows.append((f"(g) sweep of a tiny entry, wall ms per trial (bash loop, no tracking: {floor} ms)", {
            COLS[0]: f"{fmt(r['hunch-j1']['wall_ms_per_trial'], ' ms', 1)} (--jobs 1), "
                     f"{fmt(r['hunch-j2']['wall_ms_per_trial'], ' ms', 1)} (--jobs 2)",
            COLS[1]: "n/a (no sweep runner)",
            COLS[2]: f"{fmt(r['wandb-loop']['wall_ms_per_trial'], ' ms', 1)} (a loop of offline runs; "
                     "W&B sweeps need the server)" if "wandb-loop" in r else "n/a"}))

    tr = load("triage")
    if tr:
        meta = meta or tr
        r = tr["results"]
        none = {COLS[1]: "n/a (no failure triage)", COLS[2]: "n/a (no failure triage)"}
        rows.append((f"(h) {r['log']['examples']:,} examples: `run.example` per call, p50", {
            COLS[0]: fmt(r["log"]["example_p50_us"], " µs", 1), **none}))
        rows.append(("(h) open a new sample of 100 failures (`hunch failures --sample 100`)", {
            COLS[0]: f"{fmt(r['open_failures_sample_100_new_draw']['median_s'], ' s', 2)} "
                     f"(a script over the event file: {fmt(r['script_baseline']['s'], ' s', 2)})", **none}))
        rows.append(("(h) `hunch categories RUN`, 100 tagged", {
            COLS[0]: fmt(r["categories"]["median_s"], " s", 2), **none}))
        folded = r["log"].get("folded_in_background_s")
        rows.append(("(h) the run's finish: time, peak RSS of the logging process" +
                     ("; folded in the background after" if folded else ""), {
            COLS[0]: f"{fmt(r['log']['finish_fold_s'], ' s', 2)}, {fmt(r['log']['peak_rss_mib'], ' MiB')}"
                     + (f"; {fmt(folded, ' s', 1)}" if folded else ""), **none}))

    ui = load("ui")
    if ui:
        meta = meta or ui
        r = ui["results"]
        for page in ("runs page", "run page, 1M-point metric"):
            def cell(k: str, page: str = page) -> str:
                x = r.get(k, {}).get(page)
                if not x:
                    return "n/a"
                if "ready_ms" not in x:
                    return f"never ready ({x['errors'][0] if x['errors'] else 'no result'})"
                return f"{fmt(x.get('first_paint_ms'), ' ms')} first paint, {fmt(x['ready_ms'], ' ms')} ready"
            rows.append((f"(i) dashboard, {ui['runs']:,} runs: {page}", {
                COLS[0]: cell("hunchlab"), COLS[1]: cell("mlflow"), COLS[2]: "n/a (offline: no local UI)"}))
        load_ = r.get("hunchlab", {}).get("memory under load")
        if load_:
            rows.append((f"(i) dashboard: server heap under {load_['requests']} requests, {load_['in_flight']} in flight", {
                COLS[0]: f"{fmt(load_['heap_before_mb'], ' MB', 1)} before, {fmt(load_['heap_peak_mb'], ' MB', 1)} at most, "
                         f"{fmt(load_['heap_after_mb'], ' MB', 1)} after", COLS[1]: "n/a", COLS[2]: "n/a"}))
        made = ui.get("hunch_project_made", {})
        if made.get("through") == "hunchlab.start":
            rows.append((f"(i) dashboard: its {made['runs']:,} runs made through `hunchlab.start`, "
                         f"{made['workers']} processes, until folded", {
                COLS[0]: f"{fmt(made['runs_folded_s'], ' s', 1)} ({fmt(made['runs'] / made['runs_folded_s'], ' runs/s')})",
                COLS[1]: "n/a (bulk SQL copy)", COLS[2]: "n/a"}))

    w = load("wandb_compat")  # bench_throughput.py --variants wandb-compat,wandb --result wandb_compat
    if w:
        meta = meta or w
        wr = w["results"]
        rows.append(("(j) a script's unchanged wandb calls, 10 metrics x 10,000 steps: throughput", {
            COLS[0]: fmt(wr.get("wandb-compat", {}).get("points_per_s"), " points/s (stand-in)"),
            COLS[2]: fmt(wr.get("wandb", {}).get("points_per_s"), " points/s")}))
        rows.append(("(j) the same, per-call latency p50", {
            COLS[0]: fmt(wr.get("wandb-compat", {}).get("p50_us"), " µs", 1),
            COLS[2]: fmt(wr.get("wandb", {}).get("p50_us"), " µs", 1)}))
    sc = load("scalars")
    if sc:
        rows.append((f"(k) metrics read from stdout at {sc['rate_lines_per_s']:,} lines/s: wall-time overhead", {
            COLS[0]: f"{sc['overhead_pct']:+.1f}% ({sc['parser_us_per_line']:.1f} µs a line)"}))

    rows += scaling_rows(load("scaling"))
    lines = ["| case | " + " | ".join(COLS) + " |", "|---|" + "---|" * len(COLS)]
    for label, cells in rows:
        lines.append(f"| {label} | " + " | ".join(cells.get(c, "n/a") for c in COLS) + " |")
    if meta:
        mm = meta["machine"]
        lines.append("")
        lines.append(f"Machine: {mm['nproc']} cores, {mm['cpu_model']}, {mm['ram_gib']} GiB RAM, scratch on "
                     f"{mm['scratch_filesystem']}; commit {meta['commit']}; versions {meta['versions']}.")
    text = "\n".join(lines) + "\n"
    (RESULTS / "table.md").write_text(text)
    print(text)


def scaling_rows(sc: dict | None) -> list[tuple[str, dict[str, str]]]:
    """(l): per curve, each tool's log-log slope and its cost at the largest size it reached."""
    if not sc:
        return []
    rows = []
    for name, c in sc["curves"].items():
        cells = {}
        for col, key in KEYS.items():
            pts = [p for p in c["series"].get(key, []) if p.get("s")]
            if pts:
                cells[col] = f"slope {c['slopes'].get(key)}; {pts[-1]['size']:,}: {fmt(pts[-1]['s'], ' s', 3)}"
        rows.append((f"(l) scaling, {name} (seconds against {c['unit']}, log-log)", cells))
        made = c["series"].get("create-hunchlab")
        if made:
            rows.append(("(l) run creation through `hunchlab.start`, 2 processes", {COLS[0]: ", ".join(
                f"{m['runs_per_s']:,.0f} runs/s ({m['runs_per_s_folded']:,.0f} folded)" for m in made)}))
        over = c["series"].get("overhead-hunchlab")
        if over:
            rows.append(("(j) sweep overhead per trial over a bash loop", {COLS[0]: ", ".join(
                f"{o['size']}: {o['ms_per_trial']} ms" for o in over)}))
    return rows


if __name__ == "__main__":
    main()
