"""``hunch study``: list, show, run, check and scaffold paper reproductions."""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

import click

from hunchlab.cli.prompts import ask_probability, interactive
from hunchlab.cli.render import emit_json, fmt, json_option
from hunchlab.cli.runs import prediction_line
from hunchlab.errors import HunchError
from hunchlab.project import find_project
from hunchlab.studies import all_studies, get_study


@click.group()
def study() -> None:
    """Small, CPU-runnable reproductions of frontier papers, run as ordinary runs.

    \b
    hunch study list                 the studies (shipped and your own)
    hunch study show NAME            its README: paper, finding, what to predict
    hunch study run NAME             predict, then run it (--budget smoke|full, --seeds N)
    hunch study check NAME           did the finding appear? measured vs paper, exit 0/1
    hunch study new NAME             scaffold your own in studies/NAME/

    Example: hunch study run self-consistency --budget smoke
    """


def _project_or_none() -> Any:
    try:
        return find_project()
    except HunchError:
        return None


@study.command("list")
@json_option()
def study_list(as_json: bool) -> None:
    """List studies: area, paper, finding, minutes at the full budget. Example: hunch study list"""
    studies = all_studies(_project_or_none())
    rows = [{"name": s.name, "area": s.area, "paper": s.paper, "finding": s.finding, "minutes": s.minutes,
             "yours": not s.shipped} for s in studies]
    if as_json:
        emit_json(rows)
        return
    for r in rows:  # long texts: one block per study rather than a table that truncates them
        click.secho(f"{r['name']}{' (yours)' if r['yours'] else ''}  ·  {r['area']}  ·  ~{r['minutes']:g} min", bold=True)
        click.echo(f"  paper:   {r['paper']}\n  finding: {r['finding']}")


@study.command("show")
@click.argument("name")
def study_show(name: str) -> None:
    """Print a study's README. Example: hunch study show self-consistency"""
    s = get_study(name, _project_or_none())
    click.echo(s.readme.read_text() if s.readme.exists() else f"{s.name}: {s.finding}")


@study.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("overrides", nargs=-1)
@click.option("--budget", type=click.Choice(["smoke", "full"]), default="full", show_default=True,
              help="smoke: seconds, to see it work; full: the finding.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Run N seeds as one group.")
@click.option("--p", "probability", metavar="P", help="Your probability for the study's claim (e.g. 70%).")
@click.option("-p", "--predict", "predict_texts", multiple=True, metavar="CLAIM", help="Any other claim. Repeatable.")
@click.option("--no-predict", is_flag=True, help="Skip the prediction.")
@click.option("-q", "--quiet", is_flag=True, help="Do not echo the runs' output.")
@click.option("--endpoint", metavar="URL", help="A study on a served model: the OpenAI-compatible server's base URL.")
@click.option("--model", "model_name", metavar="NAME", help="A study on a served model: the model it serves.")
def study_run(name: str, overrides: tuple[str, ...], budget: str, seeds: int, probability: str | None,
              predict_texts: tuple[str, ...], no_predict: bool, quiet: bool, endpoint: str | None,
              model_name: str | None) -> None:
    """Predict, then run a study; its runs land under "reproduce: <paper>" in the tree.

    A study on a served model (self-consistency-served) samples the model at --endpoint;
    its completions are cached, so a rerun asks for nothing.

    Example: hunch study run self-consistency --p 70% --seeds 2
    """
    from hunchlab.predict import parse_claims  # lazy: keeps `hunch study --help` light
    from hunchlab.prerun import gather_predictions  # lazy: loads pydantic, yaml only when called

    # lazy: loads pydantic, yaml only when called
    from hunchlab.studies.runner import endpoint_overrides, run_study, study_claim

    project = find_project()
    s = get_study(name, project)
    overrides = (*overrides, *endpoint_overrides(s, endpoint, model_name, list(overrides)))
    given = parse_claims(list(predict_texts), source="--predict")
    given += [study_claim(s, probability)] if probability else []
    gathered = gather_predictions(project, given, no_predict=no_predict,
                                  ask=partial(_ask_for_claim, s) if interactive() else None)
    click.echo(f"study {s.name} ({budget} budget, {seeds} seed{'s' if seeds > 1 else ''}, "
               f"~{s.minutes:g} min at full budget)", err=True)
    result = run_study(project, s, budget=budget, seeds=seeds, overrides=list(overrides),
                       predictions=gathered.claims, note=gathered.note, echo=not quiet, argv=["hunch", *sys.argv[1:]])
    for o in result.outcomes:
        click.echo(f"{'✓' if o.status == 'finished' else '✗'} run {o.run_id} {o.status} ({o.duration:.0f}s)")
    _print_predictions(project, result.outcomes[0].run_id)
    click.echo(f"question {result.question} · next: hunch study check {s.name}")
    sys.exit(0 if all(o.status == "finished" for o in result.outcomes) else 1)


def _ask_for_claim(s: Any) -> list[Any]:
    """The study's claim at the probability typed at the prompt (none if Enter)."""
    from hunchlab.studies.runner import study_claim  # lazy: loads pydantic, yaml only when called

    click.echo(f"{s.question}\n  the study's claim: {s.claim}", err=True)
    answer = ask_probability("  How likely is it, before you look?")
    return [study_claim(s, answer)] if answer else []


def _print_predictions(project: Any, run_id: str) -> None:
    from hunchlab.predict import run_predictions  # lazy: keeps `hunch study --help` light

    for p in run_predictions(project, run_id):
        click.echo(f"  prediction {prediction_line(p)}")


@study.command("check")
@click.argument("name")
@json_option()
def study_check(name: str, as_json: bool) -> None:
    """Did the finding appear? Each measured number next to the paper's, a verdict per claim; exit 0/1.

    Example: hunch study check self-consistency
    """
    from hunchlab.studies.runner import check_study  # lazy: loads pydantic, yaml only when called

    project = find_project()
    result = check_study(project, get_study(name, project))
    if as_json:
        emit_json(result)
    else:
        click.secho(f"{name}: {len(result['runs'])} run(s), {result['budget']} budget", bold=True)
        for c in result["claims"]:
            click.echo(_check_row(c))
        click.echo("finding reproduced" if result["passed"] else "finding NOT reproduced (see the verdicts)")
    sys.exit(0 if result["passed"] else 1)


def _check_row(c: dict[str, Any]) -> str:
    """One claim or invariant: its verdict, the measured effect with its spread and bounds, the paper."""
    mark = "~" if c.get("deviation") else "✓" if c["passed"] else "✗"  # ~: a known deviation, measured and said
    if c.get("kind") == "invariant":
        return f"{mark} fair: {c['claim']} · {c['verdict']}"
    spread = f" ± {fmt(c['sd'])} sd" if c.get("sd") is not None else ""
    bounds = [f"> {fmt(c['threshold'])}" if c.get("threshold") is not None else "",
              f"≤ {fmt(c['at_most'])}" if c.get("at_most") is not None else "",
              f"flagged above {fmt(c['ceiling'])}" if c.get("ceiling") is not None else ""]
    wanted = ", ".join(b for b in bounds if b)
    lines = [f"{mark} {c['claim']}",
             f"    measured {fmt(c['measured'])}{spread} over {c.get('runs', '?')} run(s)"
             + (f" (wanted {wanted})" if wanted else "") + f" · {c['verdict']}"]
    if c.get("note"):
        lines.append(f"    note: {c['note']}")
    if c.get("paper"):
        lines.append(f"    paper: {c['paper']}")
    return "\n".join(lines)


@study.command("new")
@click.argument("name")
def study_new(name: str) -> None:
    """Scaffold your own study in studies/NAME/ (README, study.yaml, spec, entry, a check to write).

    Example: hunch study new grokking-mod-p
    """
    from hunchlab.studies.runner import new_study  # lazy: loads pydantic, yaml only when called

    dest = new_study(find_project(), name)
    click.echo(f"created {dest}/: README.md, study.yaml, spec.yaml, entry.py, check.py")
    click.echo(f"  fill in the README, write entry.py and check.py, then: hunch study run {name} --budget smoke")
