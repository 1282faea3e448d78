"""Commands for writing things down: tree, why, note, journal, surprises, review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from hunchlab.cli.prompts import interactive
from hunchlab.cli.render import age, console, emit_json, json_option, table
from hunchlab.project import find_project
from hunchlab.timeparse import parse_duration


@click.group(invoke_without_command=True)
@click.option("--orphans", is_flag=True, help="List runs that serve no question.")
@click.option("--stale", metavar="DURATION", help="List open questions with no run for DURATION (e.g. 14d).")
@json_option()
@click.pass_context
def tree(ctx: click.Context, orphans: bool, stale: str | None, as_json: bool) -> None:
    """The theory-of-change tree: goal → project → question, with runs and open predictions.

    \b
    hunch tree add "title" [--under ID] --why "..."   add a node
    hunch tree answer ID "what we learned"            close a question with its answer
    hunch tree drop ID --why "..."                    drop it, saying why
    hunch tree move ID --under ID                     re-parent (cycles refused)
    hunch tree attach RUN QUESTION                    make an existing run serve a question

    Example: hunch tree --stale 14d
    """
    if ctx.invoked_subcommand:
        return
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    if orphans:
        runs = lib.orphans()  # run rows; the other branches list tree nodes
        if as_json:
            emit_json(runs)
        elif runs:
            console().print(table("runs that serve no question", ["id", "name", "status", "age"],
                                  [(r["id"], r["name"], r["status"], age(r["created_at"])) for r in runs]))
            click.echo("link future runs with `question:` in the spec or `hunch run --question ID`")
        else:
            click.echo("every run serves a question")
        return
    if stale:
        rows = lib.stale(parse_duration(stale, option="--stale") / 86400)
        if as_json:
            emit_json(rows)
            return
        for n in rows:
            click.echo(f"{n['id']}  {n['title']}  (last activity {age(n['last_activity'])})")
        if not rows:
            click.echo(f"no open question has been idle for {stale}")
        return
    rows = lib.tree()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo('the tree is empty: hunch tree add "Your goal" --why "why it matters"')
        return
    _print_tree(rows)


def _print_tree(rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape

    out = console()
    mark = {"open": "", "answered": " [green]✓ answered[/]", "dropped": " [dim]✗ dropped[/]"}
    for n in rows:
        indent = "  " * n["depth"]
        stats = [f"{n['total_runs']} run{'s' if n['total_runs'] != 1 else ''}"]
        if n["total_open_predictions"]:
            stats.append(f"{n['total_open_predictions']} open prediction(s)")
        if n["last_result"]:
            stats.append(f"last {escape(n['last_result'])}")
        stats.append(f"active {age(n['last_activity'])}")
        out.print(f"{indent}[bold]{n['id']}[/] {escape(n['title'])}{mark[n['status']]}  [dim]({' · '.join(stats)})[/]")
        if n["why"]:
            out.print(f"{indent}   [italic]why:[/] {escape(n['why'])}")
        if n["answer"]:
            out.print(f"{indent}   [italic]answer:[/] {escape(n['answer'])}")


@tree.command("add")
@click.argument("title")
@click.option("--under", metavar="ID", help="Parent node (none: a goal).")
@click.option("--why", help="How answering this moves its parent: its theory of change.")
@click.option("--kind", type=click.Choice(["goal", "project", "question"]), help="Override the kind (default from the parent).")
def tree_add(title: str, under: str | None, why: str | None, kind: str | None) -> None:
    """Add a goal, project or question. Example: hunch tree add "Does width help?" --under p1 --why "..." """
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    n = lib.add(title, under=under, why=why, kind=kind)
    click.echo(f"added {n['kind']} {n['id']}: {n['title']}" + (f" (under {n['parent_id']})" if n["parent_id"] else ""))
    if not why:
        click.echo("  no --why given: say how answering it moves its parent (hunch tree add ... --why)", err=True)


@tree.command("answer")
@click.argument("node_id", metavar="ID")
@click.argument("text")
def tree_answer(node_id: str, text: str) -> None:
    """Close a question with its answer in a sentence or two. Example: hunch tree answer q1 "Yes, +3 points." """
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    n = lib.answer(node_id, text)
    click.echo(f"{n['id']} answered: {n['answer']}")


@tree.command("drop")
@click.argument("node_id", metavar="ID")
@click.option("--why", required=True, help="Why it is dropped.")
def tree_drop(node_id: str, why: str) -> None:
    """Drop a node, saying why. Example: hunch tree drop q2 --why "superseded by q3" """
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    n = lib.drop(node_id, why)
    click.echo(f"{n['id']} {n['answer']}")


@tree.command("attach")
@click.argument("ref", metavar="RUN")
@click.argument("question_id", metavar="QUESTION")
@click.option("--move", is_flag=True, help="Move a run that already serves another question.")
def tree_attach(ref: str, question_id: str, move: bool) -> None:
    """Make an existing run serve a question. Example: hunch tree attach bright-otter-7 q3"""
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    done = lib.attach(ref, question_id, move=move)
    click.echo(f"run {done['run_id']} serves {done['question']}" + (f" (was {done['was']})" if done["was"] else ""))


@tree.command("move")
@click.argument("node_id", metavar="ID")
@click.option("--under", required=True, metavar="ID", help="The new parent.")
def tree_move(node_id: str, under: str) -> None:
    """Move a node under another. Example: hunch tree move q3 --under p2"""
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    n = lib.move(node_id, under=under)
    click.echo(f"{n['id']} is now under {n['parent_id']}")


@click.command()
@click.argument("ref", metavar="RUN")
def why(ref: str) -> None:
    """Why does this run exist? The chain from the run up to its goal, each step's why.

    Example: hunch why bright-otter-7
    """
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    chain = lib.why(ref)
    for depth, step in enumerate(chain):
        line = f"{'  ' * depth}{'↑ ' if depth else ''}{step['kind']} {step['id']}: {step['title']}"
        click.echo(line + (f" — {step['why']}" if step.get("why") else ""))
    if len(chain) == 1:
        click.echo("  ⚠ this run serves no question: you cannot trace why it matters "
                   "(add `question:` to the spec or use --question)")


@click.command()
@click.option("-m", "--message", help="The note's text (skips the editor).")
@click.option("--run", "run_ref", metavar="RUN", help="Link to a run (the template is pre-filled from it).")
@click.option("--question", metavar="ID", help="Link to a question of the tree.")
@click.option("--kind", type=click.Choice(["note", "plan", "result", "surprise", "decision"]), default="note",
              show_default=True)
@click.option("--file", "from_file", type=click.Path(exists=True, dir_okay=False), help="Save a Markdown file as the note.")
@click.option("--edit", "edit_id", metavar="ENTRY", help="Edit an existing entry (e.g. write up a surprise).")
def note(message: str | None, run_ref: str | None, question: str | None, kind: str, from_file: str | None,
         edit_id: str | None) -> None:
    """Write a journal entry; without -m, $EDITOR opens a template pre-filled from the run.

    The template has five headings (assumptions, settings, expectations, results, updated
    knowledge) and, for a run, its question and why, config, changes since the previous
    run of the spec, predictions and how they scored, and results.

    Example: hunch note --run bright-otter-7 --kind result
    """
    from hunchlab import journal  # local: the name is bound differently elsewhere in this module

    project = find_project()
    if edit_id:
        saved = journal.edit_entry(edit_id, project)
        click.echo(f"updated #{saved['id']} ({saved['kind']}): {saved['title']}")
        return
    text = message if message is not None else Path(from_file).read_text() if from_file else None
    saved = journal.write_note(text, kind=kind, run_ref=run_ref, question_id=question, project=project)
    links = ", ".join(x for x in (saved["run_id"], saved["question_id"]) if x)
    click.echo(f"saved #{saved['id']} ({saved['kind']}): {saved['title']}" + (f" [{links}]" if links else ""))


@click.group(invoke_without_command=True)
@click.option("--since", metavar="DURATION", help="Only entries from the last DURATION (e.g. 30d).")
@click.option("--question", metavar="ID", help="Only entries linked to this question.")
@click.option("--kind", type=click.Choice(["note", "plan", "result", "surprise", "decision", "hamming"]))
@json_option()
@click.pass_context
def journal(ctx: click.Context, since: str | None, question: str | None, kind: str | None, as_json: bool) -> None:
    """List journal entries, newest first; `journal search` and `journal export DIR` too.

    Example: hunch journal --since 30d --kind surprise
    """
    if ctx.invoked_subcommand:
        return
    from hunchlab import journal as lib  # local: the name is bound differently elsewhere in this module

    rows = lib.entries(since=since, question_id=question, kind=kind)
    _print_entries(rows, as_json, empty="no journal entries yet: hunch note -m \"...\"")


def _print_entries(rows: list[dict[str, Any]], as_json: bool, *, empty: str) -> None:
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(empty)
        return
    console().print(table(None, ["id", "when", "kind", "title", "run", "question"], [
        (e["id"], dt.datetime.fromtimestamp(e["created_at"]).strftime("%Y-%m-%d %H:%M"), e["kind"], e["title"],
         e["run_id"] or "", e["question_id"] or "") for e in rows]))


@journal.command("search")
@click.argument("words")
@json_option()
def journal_search(words: str, as_json: bool) -> None:
    """Full-text search over titles and bodies, best match first. Example: hunch journal search "width noise" """
    from hunchlab import journal as lib  # local: the name is bound differently elsewhere in this module

    _print_entries(lib.search(words), as_json, empty=f"nothing matches {words!r}")


@journal.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
def journal_export(directory: str) -> None:
    """Write every entry as a Markdown file (date-id-slug.md). Example: hunch journal export notes/"""
    from hunchlab import journal as lib  # local: the name is bound differently elsewhere in this module

    paths = lib.export(directory)
    click.echo(f"wrote {len(paths)} entries to {directory}")


@click.command()
def surprises() -> None:
    """List surprises not yet written up (a confident prediction that came out wrong).

    Write one up with `hunch note --edit ID`: fill in "What I now believe".

    Example: hunch surprises
    """
    from hunchlab import journal as lib  # local: the name is bound differently elsewhere in this module

    _print_entries(lib.surprises(), False, empty="no surprises waiting to be written up")


@click.command()
@click.option("--since", default="30d", show_default=True, metavar="DURATION", help="The period to reread.")
@click.option("--important", metavar="TEXT", help="Your answer to Hamming's first question (no prompt).")
@click.option("--why-not", "why_not", metavar="TEXT", help="Your answer to Hamming's second question (no prompt).")
@json_option()
def review(since: str, important: str | None, why_not: str | None, as_json: bool) -> None:
    """Reread the last month: runs per question, predictions and scores, surprises, decisions,
    idle questions, overdue forecasts; then Hamming's two questions.

    Example: hunch review --since 30d
    """
    from hunchlab import journal as lib  # local: the name is bound differently elsewhere in this module

    data = lib.review(since)
    if as_json:
        emit_json(data)
    else:
        _print_review(data)
    answers = [important or "", why_not or ""]
    if not any(answers) and interactive() and not as_json:
        answers = [click.prompt(q, default="", show_default=False) for q in lib.HAMMING]
    saved = lib.save_hamming(answers)
    if saved:
        click.echo(f"saved {len(saved)} answer(s) to the journal; the next review shows them", err=as_json)


def _print_review(d: dict[str, Any]) -> None:
    from rich.markup import escape


    out = console()
    out.print(f"[bold]Review of the last {d['since']}[/]: {d['runs']} runs")
    for q, n in sorted(d["runs_per_question"].items(), key=lambda kv: -kv[1]):
        out.print(f"  {escape(q)}: {n} run(s)")
    resolved = [p for p in d["predictions"] if p["status"] == "resolved"]
    out.print(f"[bold]Predictions[/]: {len(d['predictions'])} made, {len(resolved)} resolved, "
              f"{sum(bool(p['outcome']) for p in resolved)} right"
              + (f", mean Brier {d['brier']:.3f}" if d["brier"] is not None else ""))
    for title, key in (("Surprises", "surprises"), ("Decisions", "decisions")):
        out.print(f"[bold]{title}[/]: {len(d[key])}")
        for e in d[key]:
            out.print(f"  #{e['id']} {escape(e['title'])}" + ("" if e["written_up"] else " [yellow](not written up)[/]"))
    out.print(f"[bold]Open questions without runs[/]: {len(d['questions_without_runs'])}")
    for n in d["questions_without_runs"]:
        out.print(f"  {n['id']} {escape(n['title'])}")
    out.print(f"[bold]Overdue forecasts[/]: {len(d['overdue'])}")
    from hunchlab.predict import label  # lazy: keeps `hunch review --help` light

    for p in d["overdue"]:
        out.print(f"  {label(p)} {escape(p['text'])} (by {p['resolve_by']})")
    out.print("[bold]Hamming at lunch[/]")
    last = {e["title"]: e for e in d["hamming_last"]}
    for q in d["hamming"]:
        out.print(f"  {q}")
        if q in last:
            out.print(f"    last time: {escape(last[q]['body'])}", style="dim")
