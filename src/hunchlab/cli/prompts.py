"""Questions asked on a terminal: the prediction before a run, the guesses before a paper.

Only asked when both stdin and stdout are terminals and CI is not set, so scripts,
pipes and CI never block on a prompt.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty() and not os.environ.get("CI")


def _completion(words: list[str]) -> None:
    """Tab-complete metric names at the prompt (readline, when the platform has it)."""
    try:
        import readline
    except ImportError:
        return
    readline.set_completer_delims(" ><=[],@")
    readline.set_completer(lambda text, i: ([w for w in words if w.startswith(text)] + [None])[i])
    readline.parse_and_bind("tab: complete")


def ask_claims(header: str, hints: list[str], parse: Callable[[str], Any], example: str) -> list[Any]:
    """Ask for claims one per line until an empty line; re-ask on a parse error."""
    _completion(hints)
    click.echo(header, err=True)
    if hints:
        click.echo(f"  metrics: {', '.join(hints[:12])}   (Tab completes)", err=True)
    click.echo(f"  e.g. {example}   — one per line, Enter on an empty line when done", err=True)
    claims: list[Any] = []
    while True:
        try:
            text = input("  predict> ").strip()
        except EOFError:
            break
        if not text:
            break
        try:
            claims.append(parse(text))
        except Exception as e:  # noqa: BLE001 - a HunchError with the grammar; show it and ask again
            show = getattr(e, "format_message", None)
            click.echo(show() if show else str(e), err=True)
    return claims


def ask_probability(question: str) -> str | None:
    """A probability typed at the prompt (``30%`` or ``0.3``); empty for none."""
    try:
        answer = input(f"{question} (e.g. 30%, Enter to skip) ").strip()
    except EOFError:
        return None
    return answer or None


def ask_number(question: str) -> float | None:
    while True:
        try:
            answer = input(f"{question} ").strip()
        except EOFError:
            return None
        if not answer:
            return None
        try:
            return float(answer.rstrip("%")) / (100 if answer.endswith("%") else 1)
        except ValueError:
            click.echo("  a number, please (or Enter to leave it open)", err=True)


def pick_question(project: Any) -> str | None:
    """Offer the open questions (or a new one) for a run that names none."""
    from hunchlab import tree  # lazy: keeps `--help` light for the commands that prompt

    questions = tree.open_questions(project)
    if not questions:
        return None  # an empty tree: the one-line note is enough, no prompt
    click.echo("Which question does this run serve?", err=True)
    for q in questions[-9:]:
        click.echo(f"  {q['id']}  {q['title']}", err=True)
    try:
        answer = input("  question id, + to add one, Enter for none: ").strip()
    except EOFError:
        return None
    if answer == "+":
        title = input("  title: ").strip()
        parent = input("  under (id of a goal, project or question): ").strip()
        why = input("  why does answering it matter for its parent? ").strip()
        if not title or not parent:
            return None
        return str(tree.add(title, under=parent, why=why or None, project=project)["id"])
    if answer:
        tree.check_question(project, answer, where="question")
        return answer
    return None
