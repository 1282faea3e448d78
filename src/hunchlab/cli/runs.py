"""Commands of the core loop: init, run, runs (one run's own record is `show` and `rerun`, in cli/show.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hunchlab.cli.prompts import ask_claims, interactive, pick_question
from hunchlab.cli.render import age, console, duration, emit_csv, emit_json, fmt, output_options, table
from hunchlab.compat.provenance import NO_POINTS_HINT
from hunchlab.project import find_project
from hunchlab.who import label

if TYPE_CHECKING:
    from hunchlab.shapes import PredictionRecord, RunRow


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
def init(path: str) -> None:
    """Create a project (.hunch/) in PATH (default: here).

    Commands then find it from any subfolder, as git finds .git.

    Example: hunch init
    """
    from hunchlab.run_records import init_project  # lazy: keeps `hunch init --help` light

    project, created = init_project(path)
    verb = "created" if created else "already a project:"
    click.echo(f"{verb} {project.hunch_dir}")
    if created:
        click.echo("next: write a spec (see `hunch run --help`) and `hunch run spec.yaml`")


class _RunCommand(click.Command):
    """Keeps what follows ``--`` apart: that is a command to run without a spec."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["hunch_command"] = args[cut + 1:]
            args = args[:cut]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "| [OPTIONS] -- COMMAND..."]


@click.command(cls=_RunCommand, context_settings={"ignore_unknown_options": True})
@click.argument("spec_file", metavar="[SPEC]", required=False, type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--seed-flag", metavar="FLAG", help="With -- COMMAND: the flag that sets the seed (default: --seed).")
@click.option("--save-spec", metavar="FILE", type=click.Path(dir_okay=False),
              help="With -- COMMAND: also write the spec read from the command, for the next run's overrides.")
@click.option("--smoke", is_flag=True, help="Apply the spec's `smoke:` overrides: a tiny budget to catch bugs in seconds.")
@click.option("-p", "--predict", "predict_texts", multiple=True, metavar="CLAIM",
              help="A prediction before the run, e.g. 'acc > 0.8 @ 70%'. Repeatable.")
@click.option("--no-predict", is_flag=True, help="Skip the prediction prompt (recorded as 'no prediction').")
@click.option("--question", metavar="ID", help="The question of the tree this run serves (overrides the spec's).")
@click.option("--seeds", type=click.IntRange(min=1), default=1, metavar="N",
              help="Run under N seeds (the spec's seed, +1, …) one after another, as one seed group.")
@click.option("-q", "--quiet", is_flag=True, help="Do not echo the run's output (it is still saved).")
def run(spec_file: str | None, overrides: tuple[str, ...], seed_flag: str | None, save_spec: str | None, smoke: bool,
        predict_texts: tuple[str, ...], no_predict: bool, question: str | None, seeds: int, quiet: bool) -> None:
    """Run an experiment: resolve SPEC with OVERRIDES, record it, execute it, show the result.

    Or, with no spec: `hunch run -- python train.py --lr 3e-4`: the command's --key value
    flags become params, --seed the seed, and numbers it prints (loss: 0.5) metrics.

    OVERRIDES are key=value pairs addressing params (model.width=128); seed=N sets the
    seed; +key=value adds a param the spec does not have. Values are YAML scalars.

    \b
    A spec (YAML):
      name: exp
      entry: train:main          # or  command: "python train.py --lr {lr}"
      seed: 0
      params: {lr: 0.001, steps: 200, model: {width: 64}}
      smoke: {steps: 5}
      predict: ["acc > 0.8 @ 70%"]

    Predict first: the spec's `predict:`, --predict, or (on a terminal) a prompt.
    Grammar: `acc > 0.8 @ 70%`, `loss in [0.3, 0.4] @ 80%`, `acc > baseline.acc @ 60%`.

    Example: hunch run exp.yaml lr=3e-4 model.width=128 --predict 'acc > 0.9 @ 70%'
    """
    from hunchlab import prerun  # lazy: loads pydantic, yaml only when called
    from hunchlab.execute.local import outcome_fault  # lazy: loads pydantic, yaml only when called
    from hunchlab.execute.seeds import run_seeds  # lazy: loads pydantic, yaml only when called

    project = find_project()
    spec = _spec_of(spec_file, list(overrides), smoke, seed_flag, save_spec)
    prerun.check_runnable(spec, Path.cwd())  # before any prompt: a typo in the entry should not cost a prediction
    spec.question = question or spec.question
    spec.question = _ensure_question(project, spec, "--question" if question else f"{spec.path}: question")
    gathered = prerun.gather_predictions(project, prerun.spec_claims(spec, list(predict_texts)),
                                         no_predict=no_predict, ask=_prompt_for_claims(project, spec))
    outcomes = run_seeds(project, spec, seeds, cwd=Path.cwd(), argv=["hunch", *sys.argv[1:]], echo=not quiet,
                         predictions=gathered.claims,
                         extra_meta={"prediction": gathered.note} if gathered.note else None)
    for outcome in outcomes:
        _report_outcome(project, outcome)
    fault = next((f for f in map(outcome_fault, outcomes) if f is not None), None)
    if fault is not None:
        raise fault
    if seeds > 1:
        from hunchlab.cli.compare import echo_group  # lazy: keeps `hunch run --help` light

        echo_group(project, outcomes, spec.seed)
    statuses = {o.status for o in outcomes}
    sys.exit(0 if statuses == {"finished"} else (130 if "interrupted" in statuses else 1))


def _spec_of(spec_file: str | None, overrides: list[str], smoke: bool, seed_flag: str | None,
             save_spec: str | None) -> Any:
    """The spec file resolved with overrides, or the spec read from the command after ``--``."""
    from hunchlab.spec import load_spec  # lazy: loads pydantic, yaml only when called

    command = click.get_current_context().meta.get("hunch_command")
    if command is None:
        if spec_file is None:
            raise click.UsageError("give a SPEC file, or a command after --: hunch run -- python train.py --lr 3e-4")
        if seed_flag or save_spec:
            raise click.UsageError("--seed-flag and --save-spec go with a command after --")
        return load_spec(spec_file, overrides, smoke=smoke)
    if spec_file or overrides or smoke:
        raise click.UsageError("give either a SPEC (with overrides) or a command after --, not both")
    from hunchlab.execute.inferred import save_spec as write_spec  # lazy: loads pydantic, yaml only when called
    from hunchlab.execute.inferred import spec_from_command  # lazy: loads pydantic, yaml only when called

    spec = spec_from_command(command, seed_flag=seed_flag)
    if save_spec:
        write_spec(spec, Path(save_spec))
        spec.path = save_spec
        click.echo(f"wrote {save_spec}: next time `hunch run {save_spec} key=value`", err=True)
    return spec


def _ensure_question(project: Any, spec: Any, where: str) -> str | None:
    """The run's question, checked against the tree; without one, warn (and offer one on a terminal)."""
    from hunchlab.prerun import run_question  # lazy: loads pydantic, yaml only when called

    picked = run_question(project, spec, where=where, pick=partial(pick_question, project) if interactive() else None)
    if picked is None:
        click.echo("note: this run serves no question of the tree (add `question:` to the spec or --question ID; "
                   "`hunch tree` shows them)", err=True)
    return picked


def _prompt_for_claims(project: Any, spec: Any) -> Callable[[], list[Any]] | None:
    """On a terminal, the prompt that asks for the run's predictions (None elsewhere: nobody to ask)."""
    from hunchlab.predict import suggest_metrics  # lazy: keeps `hunch run --help` light
    from hunchlab.prerun import prompted_claim  # lazy: loads pydantic, yaml only when called

    if not interactive():
        return None
    return lambda: ask_claims(f"Before you look: what will run '{spec.name}' show?",
                              suggest_metrics(project, spec.name), partial(prompted_claim, project), "acc > 0.8 @ 70%")


def _report_outcome(project: Any, outcome: Any) -> None:
    mark = {"finished": "✓", "interrupted": "■"}.get(outcome.status, "✗")
    if outcome.unrecorded:  # the store could not take it: say what the runner knows, read nothing back
        click.echo(f"{mark} run {outcome.run_id} {outcome.status} in {duration(outcome.duration)}", err=True)
        if outcome.error:
            click.echo(f"  {outcome.error}", err=True)
        return
    from hunchlab import run_records  # lazy: keeps `hunch run --help` light

    record = run_records.get_run(outcome.run_id, metrics=False, examples=False, project=project)
    metrics = ", ".join(f"{k}={fmt(v)}" for k, v in list(_numeric(record["summary"]).items())[:6])
    click.echo(f"{mark} run {outcome.run_id} {outcome.status} in {duration(outcome.duration)}"
               + (f" · {metrics}" if metrics else ""), err=outcome.status != "finished")
    if record.get("error") and outcome.status != "finished":
        click.echo(f"  {record['error']}", err=True)
    stdout = (record.get("captured") or {}).get("stdout")
    if stdout and not stdout["points"] and not record["metrics"] and not record["summary"]:
        click.echo(f"  no metrics: nothing it printed looked like one; {NO_POINTS_HINT}", err=True)
    _report_predictions(project, outcome.run_id)
    click.echo(f"  hunch show {outcome.run_id}", err=outcome.status != "finished")


def _report_predictions(project: Any, run_id: str) -> None:
    from hunchlab.predict import run_predictions  # lazy: keeps `hunch run --help` light

    preds = run_predictions(project, run_id)
    for p in preds:
        click.echo(f"  prediction {prediction_line(p)}", err=True)
    if any(p["surprise"] for p in preds):
        click.echo("  ! a confident prediction was wrong: a surprise entry is waiting in the journal "
                   "(hunch surprises)", err=True)


def prediction_line(p: PredictionRecord) -> str:
    """``acc > 0.8 @ 70%: ✓ held (actual 0.91) · Brier 0.09``, or why it is still open."""
    if p["status"] == "resolved":
        mark = "✓ held" if p["outcome"] else "✗ did not hold"
        actual = f" (actual {fmt(p['actual'])})" if p.get("actual") is not None else ""
        return f"{p['text']}: {mark}{actual} · Brier {p['brier']:.3f}" + (f" · {p['note']}" if p.get("note") else "")
    if p["status"] == "open":
        return f"{p['text']}: open" + (f" (waits for {p['group_size']} seeds)" if p.get("group_size") else "")
    return f"{p['text']}: {p['status']}" + (f" — {p['note']}" if p.get("note") else "")


def _numeric(d: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@click.command()
@click.option("-w", "--where", "where", multiple=True, metavar="EXPR",
              help="Filter: KEY OP VALUE on params, metrics or fields (status, name, spec, question, seed). Repeatable.")
@click.option("-n", "--limit", type=int, default=None, help="Show at most N runs (table default: 50; 0 = all).")
@click.option("--by", metavar="WHO", help="Only runs started by WHO: you, agent (any agent, via `hunch mcp`) or "
                                          "one agent's name.")
@output_options
def runs(where: tuple[str, ...], limit: int | None, by: str | None, as_json: bool, as_csv: bool) -> None:
    """List runs, newest first: id, name, status, question, key params, key metrics, age (and who, once an agent ran).

    Example: hunch runs --where lr=3e-4 --where 'acc>0.8' --json
    """
    from hunchlab import run_records  # lazy: keeps `hunch runs --help` light

    if as_json or as_csv:
        page = limit or None  # every run unless --limit says otherwise
    else:
        page = 50 if limit is None else limit or None  # a screenful; --limit 0 for all
    shown, total = run_records.runs_page(list(where), limit=page, by=by)
    if as_json:
        emit_json(shown)
        return
    if as_csv:
        emit_csv([_flat_row(r) for r in shown])
        return
    params = _varying_keys([run_records.flatten(r["params"]) for r in shown], 4)
    metrics = _varying_keys([_numeric(r["summary"]) for r in shown], 4, all_keys=True)
    now = time.time()

    who = ["by"] if any(r["agent"] for r in shown) else []
    rows = [[r["id"], r["name"], r["status"], r["question"] or "",
             *[run_records.flatten(r["params"]).get(k, "") for k in params],
             *[r["summary"].get(k, "") for k in metrics], age(r["created_at"], now),
             *([label(r["agent"])] if who else [])] for r in shown]
    caption = f"showing {len(shown)} of {total} (--limit 0 for all)" if len(shown) < total else None
    if not total:
        click.echo("no runs yet" + (" match" if where or by else " — `hunch run spec.yaml` starts one"))
        return
    console().print(table(None, ["id", "name", "status", "question", *params, *metrics, "age", *who], rows,
                          caption=caption))


def _flat_row(r: RunRow) -> dict[str, Any]:
    from hunchlab.run_records import flatten  # lazy: keeps `hunch runs --help` light

    row: dict[str, Any] = {k: r[k] for k in ("id", "name", "status", "spec_name", "question", "seed", "group_key",
                                             "exit_code", "agent")}
    row["created_at"] = r["created_at"]
    row.update({f"param.{k}": v for k, v in flatten(r["params"]).items()})
    row.update({f"metric.{k}": v for k, v in r["summary"].items()})
    return row


def _varying_keys(dicts: list[dict[str, Any]], n: int, *, all_keys: bool = False) -> list[str]:
    """Keys worth a column: those whose value differs across runs (metrics: any, in first-seen order)."""
    keys: list[str] = []
    for d in dicts:
        keys.extend(k for k in d if k not in keys)
    if not all_keys:
        keys = [k for k in keys if len({repr(d.get(k)) for d in dicts}) > 1]
    return keys[:n]
