"""Predictions before results, and the calibration record they build.

"Before running each experiment, predict its results … one prediction followed by
one correction, repeated hundreds of times." Three kinds share one table and one
score: claims about a run's metrics (resolved by the run itself), free-standing
forecasts with a resolve-by date, and paper readings (guess the numbers from the
methods, forecast whether the paper will matter in two years).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from hunchlab.calibration import CalibrationReport, brier, calibration_report
from hunchlab.claims import Claim, parse_claim
from hunchlab.current import current_store
from hunchlab.due import DUE_FILE
from hunchlab.errors import BadInput, NotFound, WrongState
from hunchlab.project import Project
from hunchlab.rundir import tmp_beside
from hunchlab.timeparse import parse_date, parse_duration, today

if TYPE_CHECKING:
    from hunchlab.figure_files import FigureFiles
    from hunchlab.shapes import PredictionRecord

KINDS = ("run", "forecast", "read")


def parse_probability(text: str | float, *, option: str = "--p") -> float:
    """``0.3``, ``30%`` → 0.3, strictly between 0 and 1 (certainty cannot be scored)."""
    raw = str(text).strip()
    try:
        p = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise BadInput(f"{option} {text!r} is not a probability", fix="write e.g. 0.3 or 30%") from None
    if not 0 < p < 1:
        raise BadInput(f"{option} {text!r} must be strictly between 0 and 1",
                       fix="certainty cannot be scored; use e.g. 0.99 or 1%")
    return p


def parse_claims(texts: list[str], *, source: str) -> list[Claim]:
    return [parse_claim(t, source=source) for t in texts]


def check_references(project: Project, claims: list[Claim]) -> None:
    """Refuse, before anything runs, a comparison whose reference can never give its metric.

    ``acc > 1.acc`` where run 1 logged no ``acc`` used to be accepted, the run made,
    and the prediction left unresolvable afterwards.
    """
    from hunchlab.store.predictions import reference_problem  # lazy: loads sqlalchemy only when called

    comparisons = [c for c in claims if c.kind == "comparison"]
    if not comparisons:
        return
    with current_store(project) as store, store.read() as conn:
        for claim in comparisons:
            problem = reference_problem(conn, str(claim.ref), str(claim.ref_metric))
            if problem:
                raise NotFound(f"prediction '{claim.render()}': {problem}", where="--predict",
                               fix=f"compare with a metric '{claim.ref}' has, or with a number "
                                   f"(e.g. {claim.metric} > 0.8)")


def suggest_metrics(project: Project, spec_name: str | None) -> list[str]:
    """Metric names to hint at when asking for a prediction: those the last run of this spec logged."""
    from hunchlab.store.predictions import known_metrics  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        last = [r["id"] for r in store.list_runs() if r["spec_name"] == spec_name][:1]
        return known_metrics(conn, last) if last else []


def run_predictions(project: Project, run_id: str) -> list[PredictionRecord]:
    """A run's predictions, scored."""
    from hunchlab.store.predictions import list_predictions  # lazy: loads sqlalchemy only when called

    threshold = float(project.setting("surprise_threshold"))
    with current_store(project) as store, store.read() as conn:
        return [scored(p, threshold) for p in list_predictions(conn, run_ids=[run_id])]


def scored(p: PredictionRecord, surprise_threshold: float = 0.8) -> PredictionRecord:
    """A prediction row with its Brier score once resolved, and whether it was a surprise."""
    from hunchlab.store.fold import is_surprise  # lazy: loads sqlalchemy only when called

    out = p.copy()
    out["brier"] = brier(out["probability"], bool(out["outcome"])) if out["status"] == "resolved" else None
    out["surprise"] = out["kind"] == "run" and is_surprise(out, surprise_threshold)
    return out


# -- forecasts ------------------------------------------------------------------------------
def add_forecast(text: str, probability: float | str, by: str, *, tags: list[str] | None = None,
                 project: Project | None = None) -> PredictionRecord:
    """A free-standing forecast: a yes/no statement with a probability and a resolve-by date."""
    from hunchlab.store.predictions import get_prediction, insert_prediction  # lazy: loads sqlalchemy only when called

    if not text.strip():
        raise BadInput("the forecast has no text", fix='hunch forecast "what will happen" --p 0.3 --by 2027-12-31')
    p = parse_probability(probability)
    date = parse_date(by)
    if date <= today():
        raise BadInput(f"--by {by} is not in the future", fix="a forecast resolves on a later date")
    with current_store(project) as store:
        with store.write() as conn:
            pred_id = insert_prediction(conn, kind="forecast", text=text.strip(), probability=p,
                                        resolve_by=date.isoformat(), tags=json.dumps(sorted(set(tags or []))))
            row = get_prediction(conn, pred_id)
        _refresh_due(store)
    return row  # type: ignore[return-value]


def resolve(pred_id: int | str, answer: str, *, note: str | None = None,
            project: Project | None = None) -> PredictionRecord:
    """Resolve a forecast (or a run prediction that could not resolve itself) by hand: yes, no or void."""
    from hunchlab.store.predictions import get_prediction, set_resolution  # lazy: loads sqlalchemy only when called

    answer = answer.lower()
    if answer not in ("yes", "no", "void"):
        raise BadInput(f"answer {answer!r} must be yes, no or void")
    with current_store(project) as store:
        with store.write() as conn:
            pred = _get(conn, pred_id)
            if pred["claim"] and pred["kind"] == "read":
                raise WrongState(f"prediction {label(pred)} is a guess about a paper's numbers",
                                 fix=f"resolve the reading: hunch read resolve {pred['reading_id']}")
            if pred["status"] in ("resolved", "void"):
                raise WrongState(f"prediction {label(pred)} is already {pred['status']}")
            if answer == "void":
                set_resolution(conn, pred["id"], status="void", note=note)
            else:
                set_resolution(conn, pred["id"], status="resolved", outcome=answer == "yes", note=note)
            row = get_prediction(conn, pred["id"])
        _refresh_due(store)
    return scored(row)  # type: ignore[arg-type]


def label(pred: Mapping[str, Any]) -> str:
    """How a prediction is named to people: ``f3``, ``r3``, or ``#17`` for a paper guess."""
    return str(pred.get("ref") or f"#{pred['id']}")


def _get(conn: Any, pred_id: int | str) -> PredictionRecord:
    """A prediction by the id people see: ``f3`` (a forecast), ``r3`` (a run's), ``#17`` or the int 17 (its ``id``).

    A bare number typed on the command line is refused: forecasts and run predictions are
    numbered apart, and ``2`` could mean either.
    """
    from hunchlab.store.predictions import find_ref, get_prediction  # lazy: loads sqlalchemy only when called

    text = f"#{pred_id}" if isinstance(pred_id, int) else str(pred_id).strip()
    where = "forecasts are f1, f2, … (`hunch forecasts --all`), run predictions r1, r2, … (`hunch show RUN`)"
    number: int | None
    if re.fullmatch(r"[fFrR][1-9]\d*", text):
        number = find_ref(conn, text)
    elif re.fullmatch(r"#\d+", text):
        number = int(text[1:])
    else:
        raise NotFound(f"prediction id {text!r} says neither its kind nor its number", fix=where)
    pred = None if number is None else get_prediction(conn, number)
    if pred is None:
        raise NotFound(f"no prediction {text}", fix=where)
    return pred


def forecasts(*, include_resolved: bool = False, project: Project | None = None) -> list[PredictionRecord]:
    """Forecasts and two-year paper forecasts, open ones first by date."""
    from hunchlab.store.predictions import list_predictions  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        rows = [p for p in list_predictions(conn) if p["resolve_by"]]
    if not include_resolved:
        rows = [p for p in rows if p["status"] == "open"]
    return [scored(p) for p in sorted(rows, key=lambda p: (p["status"] != "open", p["resolve_by"]))]


def due(project: Project | None = None) -> list[PredictionRecord]:
    """Open forecasts whose resolve-by date has come."""
    return [p for p in forecasts(project=project)
            if p["resolve_by"] is not None and p["resolve_by"] <= today().isoformat()]


def _refresh_due(store: Any) -> None:
    from hunchlab.store.predictions import open_dates  # lazy: loads sqlalchemy only when called

    with store.read() as conn:
        dates = open_dates(conn)
    path: Path = store.project.hunch_dir / DUE_FILE
    tmp = tmp_beside(path)
    tmp.write_text(json.dumps(dates))
    tmp.replace(path)


# -- paper readings ---------------------------------------------------------------------------
def add_reading(title: str, *, guesses: list[str], matters: float | str | None, url: str | None = None,
                area: str | None = None, project: Project | None = None) -> dict[str, Any]:
    """Record a reading: guesses about the reported numbers (from the methods alone) and a two-year forecast."""
    from hunchlab.store.predictions import insert_prediction, insert_reading  # lazy: loads sqlalchemy only when called

    if not title.strip():
        raise BadInput("the reading has no title", fix='hunch read "Paper title"')
    claims = parse_claims(guesses, source="guess")
    p_matters = None if matters is None else parse_probability(matters, option="--matters")
    tags = json.dumps([area] if area else [])
    with current_store(project) as store:
        with store.write() as conn:
            reading_id = insert_reading(conn, title.strip(), url, area)
            for c in claims:
                insert_prediction(conn, kind="read", reading_id=reading_id, claim=json.dumps(c.to_dict()),
                                  text=c.render(), probability=c.probability, tags=tags)
            if p_matters is not None:
                by = (today() + dt.timedelta(days=730)).isoformat()
                insert_prediction(conn, kind="read", reading_id=reading_id, probability=p_matters, resolve_by=by,
                                  text=f"“{title.strip()}” will still matter in two years", tags=tags)
        _refresh_due(store)
    return reading(reading_id, project=project)


def reading(reading_id: int | str, *, project: Project | None = None) -> dict[str, Any]:
    from hunchlab.store.predictions import get_reading, list_predictions  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        row = get_reading(conn, _reading_number(reading_id))
        if row is None:
            raise NotFound(f"no reading #{reading_id}", fix="`hunch read --list` lists them")
        row["predictions"] = [scored(p) for p in list_predictions(conn, reading_id=row["id"])]
    return row


def readings(project: Project | None = None) -> list[dict[str, Any]]:
    from hunchlab.store.predictions import list_readings  # lazy: loads sqlalchemy only when called

    with current_store(project) as store, store.read() as conn:
        return list_readings(conn)


def _reading_number(reading_id: int | str) -> int:
    try:
        return int(str(reading_id).lstrip("#r"))
    except ValueError:
        raise NotFound(f"reading id {reading_id!r} is not a number", fix="`hunch read --list` lists them") from None


def resolve_reading(reading_id: int | str, actuals: dict[str, float], *,
                    project: Project | None = None) -> dict[str, Any]:
    """Score a reading's guesses against the numbers the paper reports; guesses without a number stay open."""
    # lazy: loads sqlalchemy only when called
    from hunchlab.store.predictions import mark_reading_resolved, set_resolution

    current = reading(reading_id, project=project)
    guesses = [p for p in current["predictions"] if p["claim"] and p["status"] == "open"]
    unknown = set(actuals) - {p["claim"]["metric"] for p in guesses}
    if unknown:
        raise NotFound(f"no open guess about {', '.join(sorted(unknown))} in reading #{current['id']}",
                       fix=f"guessed: {', '.join(sorted({p['claim']['metric'] for p in guesses})) or 'nothing open'}")
    with current_store(project) as store, store.write() as conn:
        for p in guesses:
            metric = p["claim"]["metric"]
            if metric in actuals:
                claim = Claim.from_dict(p["claim"])
                set_resolution(conn, p["id"], status="resolved", outcome=claim.holds(actuals[metric]),
                               actual=actuals[metric])
        if all(p["claim"]["metric"] in actuals for p in guesses):
            mark_reading_resolved(conn, current["id"])
    return reading(current["id"], project=project)


# -- calibration --------------------------------------------------------------------------------
def calibration(*, kind: str | None = None, tag: str | None = None, since: str | None = None,
                project: Project | None = None) -> CalibrationReport:
    """Brier and log score, reliability and trend over resolved predictions (all kinds by default)."""
    return calibration_report(_scored_items(_resolved(kind, tag, since, project)))


def calibration_plot(report: CalibrationReport, out: Path | str) -> FigureFiles:
    """``hunch calibration --plot``: the report's reliability table as a diagram beside its Brier trend."""
    from hunchlab.plots import reliability_diagram  # numpy and the figure code only when a plot is asked for

    d = report.to_dict()
    bins = [{"lo": b["lower"], "hi": b["upper"], "count": b["count"], "mean_p": b["mean_p"],
             "freq": b["observed"], "freq_lo": b["observed_low"], "freq_hi": b["observed_high"]}
            for b in d["reliability"]]
    trend = [{"t": t["resolved_at"], "brier": t["brier"]} for t in d["trend"]]
    return reliability_diagram(bins, trend, out)


def calibration_by_agent(*, kind: str | None = None, tag: str | None = None, since: str | None = None,
                         project: Project | None = None) -> dict[str, CalibrationReport]:
    """One report per author: yours first (as "you", even when empty), then each agent's by name.

    An agent that predicts through ``hunch mcp`` is scored exactly as a person is, so the
    two track records can be read side by side.
    """
    from hunchlab.who import PERSON, label  # local: the name is bound differently elsewhere in this module

    rows = _resolved(kind, tag, since, project)
    authors = [PERSON, *sorted({r["agent"] for r in rows if r["agent"]})]
    return {who: calibration_report(_scored_items([r for r in rows if label(r["agent"]) == who])) for who in authors}


def _resolved(kind: str | None, tag: str | None, since: str | None,
              project: Project | None) -> list[PredictionRecord]:
    from hunchlab.store.predictions import list_predictions  # lazy: loads sqlalchemy only when called

    if kind is not None and kind not in KINDS:
        raise BadInput(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    cutoff = time.time() - parse_duration(since) if since else None
    with current_store(project) as store, store.read() as conn:
        rows = list_predictions(conn, kind=kind, status="resolved")
    if tag:
        rows = [r for r in rows if tag in r["tags"]]
    if cutoff:
        rows = [r for r in rows if r["resolved_at"] and r["resolved_at"] >= cutoff]
    return rows


def _scored_items(rows: list[PredictionRecord]) -> list[tuple[float, bool, str]]:
    return [(r["probability"], bool(r["outcome"]),  # a resolved row always has resolved_at (set_resolution)
             dt.datetime.fromtimestamp(cast(float, r["resolved_at"]), dt.UTC).isoformat()) for r in rows]
