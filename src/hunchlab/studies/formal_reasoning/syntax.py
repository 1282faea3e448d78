"""The formal system both studies share: expressions, axioms, theorems and proof steps, as plain data.

Expressions are binary trees over the atoms ``0 1 x y z`` and the operations
``+`` and ``*``, written as text with the usual precedence (``*`` binds tighter,
both associate to the left): ``x*(y+0)`` is ``("*", "x", ("+", "y", "0"))``.

The axioms are the commutative-semiring identities, each *oriented* (a left side
and a right side) so that a proof step can name which way it is used. Their
pattern variables are ``a b c``, which never occur in expressions.

A theorem ``s = t`` is proved by a list of steps that rewrites ``s`` into ``t``.
A step names an axiom, a position (the path from the root: 1 is the left
argument, 2 the right, ``()`` the root, written ``ε``) and a direction: ``lr``
replaces an instance of the left side by the right side, ``rl`` the reverse.
A direction whose result would contain a variable its source does not bind
(``rl`` of ``mul_zero``, ``0 -> a*0``) is not a step: it would need a term
that the step does not name.

This module only describes the system; ``checker.py`` judges proofs and
``rewriting.py`` is the fast engine the searches use. Both read the axioms
from here, so they cannot disagree on what the system is.
"""

from __future__ import annotations

from dataclasses import dataclass

from hunchlab.errors import BadInput

Expr = str | tuple[str, "Expr", "Expr"]  # an atom or variable, or (op, left, right)
Position = tuple[int, ...]  # 1 = left argument, 2 = right argument, () = the root

ATOMS = ("0", "1", "x", "y", "z")
OPS = ("+", "*")
VARIABLES = ("a", "b", "c")
DIRECTIONS = ("lr", "rl")

# name -> (left side, right side): the commutative-semiring identities
AXIOM_TEXT: dict[str, tuple[str, str]] = {
    "add_comm": ("a+b", "b+a"),
    "mul_comm": ("a*b", "b*a"),
    "add_assoc": ("(a+b)+c", "a+(b+c)"),
    "mul_assoc": ("(a*b)*c", "a*(b*c)"),
    "add_zero": ("a+0", "a"),
    "mul_one": ("a*1", "a"),
    "mul_zero": ("a*0", "0"),
    "distrib": ("a*(b+c)", "a*b+a*c"),
}


@dataclass(frozen=True)
class Step:
    """One rewrite: ``axiom`` used in ``direction`` at ``position`` of the current expression."""

    axiom: str
    position: Position
    direction: str  # "lr" or "rl"

    def __str__(self) -> str:
        return f"{self.axiom} {self.direction} @{show_position(self.position)}"


@dataclass(frozen=True)
class Theorem:
    """``lhs = rhs``, made by ``difficulty`` random rewrites of ``rhs``."""

    lhs: Expr
    rhs: Expr
    difficulty: int

    def __str__(self) -> str:
        return f"{show(self.lhs)} = {show(self.rhs)}"


def show_position(position: Position) -> str:
    return ".".join(str(p) for p in position) or "ε"


def show(e: Expr) -> str:
    """The expression as text with the fewest parentheses that ``parse`` reads back the same."""
    if isinstance(e, str):
        return e
    op, left, right = e
    left_text, right_text = show(left), show(right)
    if op == "*" and not isinstance(left, str) and left[0] == "+":
        left_text = f"({left_text})"
    if not isinstance(right, str) and (op == "*" or right[0] == "+"):
        right_text = f"({right_text})"  # a right child of the same op needs them: both associate left
    return f"{left_text}{op}{right_text}"


def parse(text: str, *, variables: bool = False) -> Expr:
    """The expression written in ``text``; ``variables`` allows the pattern variables ``a b c``."""
    tokens = [ch for ch in text if not ch.isspace()]
    allowed = ATOMS + (VARIABLES if variables else ())
    expr, rest = _sum(tokens, allowed, text)
    if rest:
        raise _syntax_error(text, f"unexpected '{rest[0]}'")
    return expr


def _sum(tokens: list[str], allowed: tuple[str, ...], text: str) -> tuple[Expr, list[str]]:
    expr, tokens = _product(tokens, allowed, text)
    while tokens and tokens[0] == "+":
        right, tokens = _product(tokens[1:], allowed, text)
        expr = ("+", expr, right)
    return expr, tokens


def _product(tokens: list[str], allowed: tuple[str, ...], text: str) -> tuple[Expr, list[str]]:
    expr, tokens = _factor(tokens, allowed, text)
    while tokens and tokens[0] == "*":
        right, tokens = _factor(tokens[1:], allowed, text)
        expr = ("*", expr, right)
    return expr, tokens


def _factor(tokens: list[str], allowed: tuple[str, ...], text: str) -> tuple[Expr, list[str]]:
    if not tokens:
        raise _syntax_error(text, "it ends where an atom or '(' was expected")
    head, rest = tokens[0], tokens[1:]
    if head == "(":
        expr, rest = _sum(rest, allowed, text)
        if not rest or rest[0] != ")":
            raise _syntax_error(text, "a '(' is not closed")
        return expr, rest[1:]
    if head not in allowed:
        raise _syntax_error(text, f"'{head}' is not one of {' '.join(allowed)}")
    return head, rest


def _syntax_error(text: str, what: str) -> BadInput:
    return BadInput(f"cannot read the expression {text!r}: {what}", where="formal reasoning",
                      fix="write expressions over 0 1 x y z with + and * and parentheses, e.g. x*(y+0)")


def variables_of(e: Expr) -> set[str]:
    if isinstance(e, str):
        return {e} if e in VARIABLES else set()
    return variables_of(e[1]) | variables_of(e[2])


def size(e: Expr) -> int:
    """Number of nodes (atoms and operations)."""
    return 1 if isinstance(e, str) else 1 + size(e[1]) + size(e[2])


def oriented(axiom: str, direction: str) -> tuple[Expr, Expr] | None:
    """(source pattern, result pattern) of an axiom used in a direction; None when that is no step."""
    left, right = (parse(side, variables=True) for side in AXIOM_TEXT[axiom])
    source, result = (left, right) if direction == "lr" else (right, left)
    return (source, result) if variables_of(result) <= variables_of(source) else None
