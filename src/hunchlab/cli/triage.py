"""Failure triage commands: examples, failures, tag, categories (library: ``hunchlab.triage``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from hunchlab import strict_json, triage
from hunchlab.cli.failures_view import check_terminal, walk
from hunchlab.cli.render import console, emit_csv, emit_json, output_options, table
from hunchlab.errors import BadInput
from hunchlab.triage import DEFAULT_SAMPLE

where_option = click.option(
    "-w", "--where", "where", multiple=True, metavar="EXPR",
    help="Filter: KEY OP VALUE on id, correct, score, input/output/target (~ contains) or a logged field. Repeatable.")


@click.command()
@click.argument("ref", metavar="RUN")
@where_option
@click.option("-n", "--limit", type=int, default=50, show_default=True, help="Rows in the table (0 = all).")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="Write every match as JSON lines to stdout (streams).")
@output_options
def examples(ref: str, where: tuple[str, ...], limit: int, as_jsonl: bool, as_json: bool, as_csv: bool) -> None:
    """List a run's per-example records (run.example(...)), with filters; export them whole.

    --json, --csv and --jsonl export every match, input/output/target kept whole;
    a CSV gets one column per logged field.

    Example: hunch examples 1 --where correct=false --where topic=outer --csv > failures.csv
    """
    if as_json or as_csv or as_jsonl:
        names, rows = triage.export_examples(ref, list(where))
        if as_csv:
            _csv_stream(names, rows)
        else:
            _json_stream(rows, lines=as_jsonl)
        return
    found = triage.list_examples(ref, list(where), limit=limit or None)
    shown = found["examples"]
    if not shown:
        click.echo(f"no examples of run {found['run_id']} match {' '.join(where)}")
        return
    caption = (f"showing {len(shown)} of {found['total']} (--limit 0 for all; --jsonl/--csv export them whole)"
               if len(shown) < found["total"] else None)
    cells = [[e["id"], e["correct"], e["score"], *[e["fields"].get(k, "") for k in found["fields"]],
              _short(e["input"]), _short(e["output"]), _short(e["target"])] for e in shown]
    columns = ["id", "correct", "score", *found["fields"], "input", "output", "target"]
    console().print(table(f"examples of {found['run_id']}", columns, cells, caption=caption))


def _short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _flat(e: dict[str, Any], names: list[str]) -> dict[str, Any]:
    row = {k: e[k] if isinstance(e[k], str) or e[k] is None else json.dumps(e[k], ensure_ascii=False)
           for k in ("input", "output", "target")}
    return {"id": e["id"], "correct": e["correct"], "score": e["score"], **row,
            **{k: e["fields"].get(k) for k in names}}


def _csv_stream(names: list[str], rows: Iterator[dict[str, Any]]) -> None:
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=["id", "correct", "score", "input", "output", "target", *names])
    writer.writeheader()
    for e in rows:
        writer.writerow(_flat(e, names))


def _json_stream(rows: Iterator[dict[str, Any]], *, lines: bool) -> None:
    """One record per line (JSONL), or a JSON array written as it streams; strict JSON (``strict_json``)."""
    def dumps(record: dict[str, Any]) -> str:
        return strict_json.dumps(record, ensure_ascii=False)

    out = sys.stdout
    if lines:
        for e in rows:
            out.write(dumps(e) + "\n")
        return
    out.write("[")
    for i, e in enumerate(rows):
        out.write(("\n" if i == 0 else ",\n") + dumps(e))
    out.write("\n]\n")


@click.command()
@click.argument("ref", metavar="RUN")
@click.option("--sample", "size", type=int, metavar="N",
              help=f"Draw N failures (all when there are fewer), replacing the stored sample; without it the "
                   f"stored sample is read as it is, or {DEFAULT_SAMPLE} are drawn when none is stored.")
@click.option("--seed", type=int, help="The same seed draws the same sample (default 0).")
@where_option
@click.option("--by", metavar="FIELD", help="Stratify the sample by a logged field (every value gets its share).")
@click.option("--resume", is_flag=True, help="Continue the run's stored sample at the first example not yet read.")
@output_options
def failures(ref: str, size: int | None, seed: int | None, where: tuple[str, ...], by: str | None, resume: bool,
             as_json: bool, as_csv: bool) -> None:
    """Read a random sample of a run's failures, one by one, and tag each with a category.

    On a terminal a full-screen view shows each failing example whole: input, output,
    target, its fields, and a diff of output against target where both are text.
    Keys: 1-9 tag with that category, n new category, space/→ skip, ← back, e note,
    u untag, . tag as an earlier run did, ↑↓/PgUp/PgDn scroll, q quit. Every tag is
    saved as it is typed; --resume continues where you stopped. Elsewhere (a pipe, or
    --json/--csv) it lists the sample with its tags.

    Example: hunch failures 1 --sample 100 --by topic
    """
    options: dict[str, Any] = {"sample": size, "seed": seed, "where": list(where), "by": by, "resume": resume}
    if as_json or as_csv or not (sys.stdin.isatty() and sys.stdout.isatty()):
        _print_sample(triage.failures(ref, **options), as_json=as_json, as_csv=as_csv)
        return

    check_terminal()
    with triage.open_failures(ref, **options) as session:
        walk(session, session.first_unread() if resume else 0, session.sample.notes)
        p = session.progress()
    run_id = session.run_id
    click.echo(f"{p['read']}/{p['total']} read, {p['categories']} categories · hunch categories {run_id} counts them"
               + (f" · hunch failures {run_id} --resume continues" if p["read"] < p["total"] else ""))


def _print_sample(sample: Any, *, as_json: bool, as_csv: bool) -> None:
    if as_json:
        emit_json(sample.to_dict())
        return
    rows = [{"position": i["position"] + 1, "id": i["example_id"], **({"stratum": i["stratum"]} if sample.by else {}),
             "read": bool(i["seen"] or i["category"]), "category": i["category"] or "", "note": i["note"] or ""}
            for i in sample.items]
    if as_csv:
        emit_csv(rows)
        return
    for note in sample.notes:
        click.echo(note, err=True)
    read = sum(r["read"] for r in rows)
    by = f", stratified by {sample.by}" if sample.by else ""
    click.echo(f"sample of {len(rows)} from {sample.failures} failures of {sample.run_id} (seed {sample.seed}{by}): "
               f"{read} read")
    console().print(table(None, list(rows[0]), [list(r.values()) for r in rows]))
    click.echo("on a terminal, `hunch failures` walks them one by one")


@click.command()
@click.argument("ref", metavar="RUN")
@click.argument("example_id", required=False)
@click.argument("category", required=False)
@click.option("--note", help="A free-text note for the example (kept when only a category is given).")
@click.option("--clear", is_flag=True, help="Remove the example's category and note.")
@click.option("--from", "from_csv", type=click.Path(dir_okay=False), metavar="FILE.csv",
              help="Tag many: a CSV with columns id, category and optionally note (all or nothing).")
def tag(ref: str, example_id: str | None, category: str | None, note: str | None, clear: bool,
        from_csv: str | None) -> None:
    """Tag an example of a run with a failure category (and a note), without the full-screen view.

    Example: hunch tag 1 t017 'boundary case' --note 'right on the ring edge'
    """
    if from_csv:
        if example_id or category:
            raise BadInput("give either EXAMPLE_ID CATEGORY or --from FILE.csv, not both", fix="hunch tag RUN --from tags.csv")
        n = triage.tag_from_csv(ref, from_csv)
        click.echo(f"tagged {n} examples from {from_csv}")
        return
    if example_id is None:
        raise BadInput("which example?", fix="hunch tag RUN EXAMPLE_ID CATEGORY, or hunch tag RUN --from tags.csv")
    done = triage.tag(ref, example_id, category, note=note, clear=clear)
    what = "cleared" if clear else f"→ {done['category'] or '(no category)'}" + (f" · note: {done['note']}" if done["note"] else "")
    click.echo(f"{done['run_id']} {done['example_id']} {what}")


@click.command()
@click.argument("ref", metavar="RUN")
@click.option("--vs", "vs", metavar="OTHER_RUN", help="Per category: how many of its examples OTHER_RUN gets right.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also draw the estimated shares as a bar chart (.png/.pdf/.svg, with its CSV and script).")
@output_options
def categories(ref: str, vs: str | None, plot: str | None, as_json: bool, as_csv: bool) -> None:
    """Count a run's failure categories, largest first, with the share of all failures each estimates.

    The sample is a sample: beside each count and its share of the tagged examples,
    the estimated share of all the run's failures comes with a 95% interval. --vs shows,
    per category, how many of those examples another run now gets right: did the fix
    shrink the category it aimed at?

    Example: hunch categories 1 --vs 2 --plot categories.png
    """
    report = triage.categories(ref, vs=vs)
    if plot:
        files = triage.plot_categories(report, plot)
        click.echo(f"wrote {files.figure} (+ {files.data.name}, {files.script.name})", err=True)
    if as_json:
        emit_json(report.to_dict())
        return
    rows = [_category_row(r, report.vs) for r in report.rows]
    if as_csv:
        emit_csv(rows)
        return
    _print_categories(report, rows)


def _category_row(r: Any, vs: str | None) -> dict[str, Any]:
    row = {"category": r.category, "count": r.count, "share": f"{r.share:.0%}",
           "est. share of failures": f"{r.estimate:.0%} ({r.low:.0%}–{r.high:.0%})"}
    if vs:
        row[f"right in {vs}"] = f"{r.vs_right}/{r.count}" + (f" ({r.vs_missing} not in it)" if r.vs_missing else "")
    return row


def _print_categories(report: Any, rows: list[dict[str, Any]]) -> None:
    where = (f"{report.tagged} of a sample of {report.sampled}" if report.sampled is not None
             else f"{report.tagged} tagged (no sample drawn: treated as a random sample)")
    head = f"failure categories of {report.run_id}: {where}, from {report.failures} failures"
    if report.where:
        head += f" matching {' '.join(report.where)}"
    if report.by:
        head += f", stratified by {report.by}"
    if not rows:
        click.echo(f"{head}\nnothing tagged yet: hunch failures {report.run_id} --sample 100 walks a sample")
        return
    rows.append({**dict.fromkeys(rows[0], ""), "category": "untagged", "count": report.untagged})
    click.echo(head)
    console().print(table(None, list(rows[0]), [list(r.values()) for r in rows]))
    click.echo(f"share: of the {report.tagged} tagged · est.: of all {report.failures} failures, "
               f"{report.confidence:.0%} interval" + (f" · {report.outside} tags outside the sample not counted"
                                                      if report.outside else ""))
