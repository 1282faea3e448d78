"""Commands for predictions outside runs: forecast, forecasts, resolve, due, read, calibration."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from hunchlab.claims import parse_claim
from hunchlab.cli.prompts import ask_claims, ask_number, ask_probability, interactive
from hunchlab.cli.render import console, emit_json, json_option, table
from hunchlab.errors import BadInput

if TYPE_CHECKING:
    from hunchlab.shapes import PredictionRecord


@click.command()
@click.argument("statement")
@click.option("--p", "probability", required=True, help="Probability that it comes true: 0.3 or 30%.")
@click.option("--by", required=True, metavar="YYYY-MM-DD", help="The date by which it resolves.")
@click.option("--tag", "tags", multiple=True, help="A tag (area) for calibration by area. Repeatable.")
def forecast(statement: str, probability: str, by: str, tags: tuple[str, ...]) -> None:
    """Write down a forecast with a probability and a resolve-by date.

    Example: hunch forecast "SAE features will be used in a frontier model's safety case" --p 0.3 --by 2027-12-31 --tag interp
    """
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    row = predict.add_forecast(statement, probability, by, tags=list(tags))
    click.echo(f"forecast {row['ref']}: {row['text']} — {row['probability']:.0%} by {row['resolve_by']}")
    click.echo(f"  resolve it then: hunch resolve {row['ref']} yes|no|void")


@click.command()
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved and void forecasts.")
@json_option()
def forecasts(include_resolved: bool, as_json: bool) -> None:
    """List forecasts (open ones first, by date); paper readings' two-year forecasts included.

    Example: hunch forecasts --all
    """
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    rows = predict.forecasts(include_resolved=include_resolved)
    if as_json:
        emit_json(rows)
        return
    _forecast_table(rows, "forecasts")


def _forecast_table(rows: list[PredictionRecord], title: str) -> None:
    if not rows:
        click.echo(f"no {title}")
        return
    console().print(table(title, ["id", "statement", "p", "by", "tags", "status", "Brier"], [
        (p["ref"], p["text"], f"{p['probability']:.0%}", p["resolve_by"], ",".join(p["tags"]),
         p["status"] if p["status"] != "resolved" else ("yes" if p["outcome"] else "no"),
         None if p["brier"] is None else round(p["brier"], 4)) for p in rows]))


@click.command()
@click.argument("pred_id", metavar="ID")
@click.argument("answer", type=click.Choice(["yes", "no", "void"], case_sensitive=False))
@click.option("--note", help="What happened (kept with the resolution).")
def resolve(pred_id: str, answer: str, note: str | None) -> None:
    """Resolve a forecast (or a run prediction that could not resolve itself): yes, no or void.

    ID is a forecast's f1, f2, … (`hunch forecasts`) or a run prediction's r1, r2, … (`hunch show RUN`).

    Example: hunch resolve f3 yes --note "announced in the system card"
    """
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    p = predict.resolve(pred_id, answer, note=note)
    score = "" if p["brier"] is None else f" · Brier {p['brier']:.3f}"
    click.echo(f"{predict.label(p)} {p['text']} — stated {p['probability']:.0%}, resolved {answer}{score}")


@click.command()
def due() -> None:
    """List forecasts whose resolve-by date has come.

    Example: hunch due
    """
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    rows = predict.due()
    _forecast_table(rows, "forecasts due")
    if rows:
        click.echo("resolve each with: hunch resolve ID yes|no|void")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=False)
@click.option("--url", help="Where the paper is.")
@click.option("--area", help="Research area (used as a tag for calibration).")
@click.option("-g", "--guess", "guesses", multiple=True, metavar="CLAIM",
              help="A guess at a reported number, e.g. 'gsm8k_acc in [0.5, 0.6] @ 70%'. Repeatable.")
@click.option("--matters", metavar="P", help="Probability it still matters in two years (30% or 0.3).")
@click.option("-a", "--actual", "actuals", multiple=True, metavar="METRIC=VALUE",
              help="With `read resolve ID`: a number the paper reports. Repeatable.")
@click.option("--list", "list_all", is_flag=True, help="List paper readings.")
def read(words: tuple[str, ...], url: str | None, area: str | None, guesses: tuple[str, ...], matters: str | None,
         actuals: tuple[str, ...], list_all: bool) -> None:
    """Guess a paper's results from its methods alone, then score the guesses once you read them.

    `hunch read "Title"` asks (on a terminal) for guesses about the reported numbers and whether the
    paper will still matter in two years; `hunch read resolve ID` asks for the actual numbers.

    Example: hunch read "Let's Verify Step by Step" --guess 'prm_acc in [0.7, 0.8] @ 60%' --matters 70%
    """
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    if list_all:
        _print_readings(predict.readings())
        return
    if words and words[0] == "resolve":
        if len(words) != 2:
            raise click.UsageError("hunch read resolve ID [--actual METRIC=VALUE ...]")
        _resolve_reading(words[1], list(actuals))
        return
    title = " ".join(words)
    if not title:
        raise click.UsageError('give the paper\'s title: hunch read "Paper title"')
    guess_list, p = list(guesses), matters

    if not guess_list and interactive():
        guess_list = [c.render() for c in ask_claims(
            "Cover the results section. From the methods alone, guess the numbers it reports:", [],
            lambda t: parse_claim(t, source="guess"), "gsm8k_acc in [0.5, 0.6] @ 70%")]
        p = p or ask_probability("Will this paper still matter in two years? probability:")
    r = predict.add_reading(title, guesses=guess_list, matters=p, url=url, area=area)
    click.echo(f"reading #{r['id']}: {r['title']} — {len(r['predictions'])} prediction(s) recorded")
    for pr in r["predictions"]:
        click.echo(f"  {predict.label(pr)} {pr['text']}" + (f" (by {pr['resolve_by']})" if pr["resolve_by"] else ""))
    click.echo(f"  after reading it: hunch read resolve {r['id']}")


def _resolve_reading(reading_id: str, actual_texts: list[str]) -> None:
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    current = predict.reading(reading_id)
    actuals: dict[str, float] = {}
    for text in actual_texts:
        key, _, value = text.partition("=")
        try:
            actuals[key.strip()] = float(value)
        except ValueError:
            raise BadInput(f"--actual {text!r} is not METRIC=NUMBER", fix="e.g. --actual gsm8k_acc=0.58") from None
    if not actuals and interactive():
        for p in current["predictions"]:
            if p["claim"] and p["status"] == "open":
                reported = ask_number(f"What does the paper report for {p['claim']['metric']}? "
                                      f"(your guess: {p['text']})")
                if reported is not None:
                    actuals[p["claim"]["metric"]] = reported
    r = predict.resolve_reading(reading_id, actuals)
    _print_readings([r], detail=True)


def _print_readings(rows: list[dict[str, Any]], *, detail: bool = False) -> None:
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    if not rows:
        click.echo('no paper readings yet: hunch read "Paper title"')
        return
    if not detail:
        console().print(table("paper readings", ["id", "title", "area", "resolved"],
                              [(r["id"], r["title"], r["area"] or "", "yes" if r["resolved_at"] else "") for r in rows]))
        return
    for r in rows:
        console().print(table(f"reading #{r['id']}: {r['title']}", ["id", "prediction", "p", "actual", "result", "Brier"], [
            (predict.label(p), p["text"], f"{p['probability']:.0%}", p.get("actual"),
             ("✓ right" if p["outcome"] else "✗ wrong") if p["status"] == "resolved" else p["status"],
             None if p["brier"] is None else round(p["brier"], 4)) for p in r["predictions"]]))


@click.command()
@click.option("--kind", type=click.Choice(["run", "forecast", "read"]), help="Only one kind of prediction.")
@click.option("--tag", help="Only predictions with this tag (area).")
@click.option("--since", metavar="DURATION", help="Only predictions resolved in the last DURATION (e.g. 90d).")
@click.option("--plot", "plot_path", metavar="FILE", help="Draw the reliability diagram and Brier trend (.png/.svg/.pdf).")
@click.option("--by", type=click.Choice(["agent"]), help="One track record per author: yours, then each agent's.")
@json_option()
def calibration(kind: str | None, tag: str | None, since: str | None, plot_path: str | None, by: str | None,
                as_json: bool) -> None:
    """Your track record: Brier and log score against references, reliability table, trend.

    With --by agent, yours and each agent's (predictions made through `hunch mcp`) side by side.

    Example: hunch calibration --since 90d --plot cal.png
    """
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    if by:
        _calibration_by_agent(kind, tag, since, as_json)
        return
    report = predict.calibration(kind=kind, tag=tag, since=since)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(report.render())
    if plot_path:
        files = predict.calibration_plot(report, plot_path)
        click.echo(f"wrote {files.figure} (data {files.data}, script {files.script})", err=as_json)
    sys.stdout.flush()



def _calibration_by_agent(kind: str | None, tag: str | None, since: str | None, as_json: bool) -> None:
    from hunchlab import predict  # lazy: keeps the prediction commands' `--help` light

    reports = predict.calibration_by_agent(kind=kind, tag=tag, since=since)
    if as_json:
        emit_json({who: r.to_dict() for who, r in reports.items()})
        return
    console().print(table("track records", ["who", "resolved", "Brier", "log score", "verdict"], [
        (who, r.n, None if r.brier is None else round(r.brier, 3),
         None if r.log_score is None else round(r.log_score, 3), r.verdict) for who, r in reports.items()]))
    for who, r in reports.items():
        if r.n:
            click.echo(f"\n{who}:\n{r.render()}")
