"""The only judge of a proof: replay its steps on the theorem's left side and compare with the right.

Written apart from the search engine (``rewriting.py``), over plain nested
tuples and the axioms' text, in the simplest way that is obviously right: a
search that is wrong cannot make a wrong proof pass here, because nothing is
shared but the statement of the axioms. A proof is accepted only when every
step names a known axiom and direction, its position exists, the axiom's
source side matches the subexpression there (a variable that occurs twice
must match equal subexpressions), and the last expression is the theorem's
right side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hunchlab.studies.formal_reasoning.syntax import (
    AXIOM_TEXT,
    DIRECTIONS,
    VARIABLES,
    Expr,
    Position,
    Step,
    Theorem,
    oriented,
    show,
    show_position,
)


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str  # why it was rejected, or "proved in N steps"
    step: int | None = None  # the index of the first bad step, when one is to blame


def check(theorem: Theorem, proof: Sequence[Step]) -> Verdict:
    """Replay ``proof`` on ``theorem.lhs``; accepted only if every step applies and it ends at ``theorem.rhs``."""
    expr = theorem.lhs
    for i, step in enumerate(proof):
        try:
            expr = apply_step(expr, step)
        except InvalidStep as e:
            return Verdict(False, f"step {i + 1} ({step}): {e}", i)
    if expr != theorem.rhs:
        return Verdict(False, f"the steps end at {show(expr)}, not at {show(theorem.rhs)}", None)
    return Verdict(True, f"proved in {len(proof)} steps")


class InvalidStep(Exception):
    """A step that does not apply to the expression it is given (the message says why)."""


def apply_step(expr: Expr, step: Step) -> Expr:
    """The expression after one step; raises ``InvalidStep`` saying why when the step does not apply."""
    if step.axiom not in AXIOM_TEXT:
        raise InvalidStep(f"no axiom named '{step.axiom}'")
    if step.direction not in DIRECTIONS:
        raise InvalidStep(f"direction '{step.direction}' is not lr or rl")
    sides = oriented(step.axiom, step.direction)
    if sides is None:
        raise InvalidStep(f"{step.axiom} used {step.direction} would need a term the step does not name")
    target = subexpression(expr, step.position)
    if target is None:
        raise InvalidStep(f"there is no position {show_position(step.position)} in {show(expr)}")
    binding = match(sides[0], target, {})
    if binding is None:
        raise InvalidStep(f"{show(sides[0])} does not match {show(target)}")
    return replace(expr, step.position, instantiate(sides[1], binding))


def subexpression(expr: Expr, position: Position) -> Expr | None:
    for p in position:
        if isinstance(expr, str) or p not in (1, 2):
            return None
        expr = expr[p]
    return expr


def match(pattern: Expr, expr: Expr, binding: dict[str, Expr]) -> dict[str, Expr] | None:
    """The binding of the pattern's variables that makes it ``expr``, extending ``binding``; None if none does."""
    if isinstance(pattern, str):
        if pattern in VARIABLES:
            if pattern in binding:
                return binding if binding[pattern] == expr else None
            return {**binding, pattern: expr}
        return binding if pattern == expr else None
    if isinstance(expr, str) or pattern[0] != expr[0]:
        return None
    left = match(pattern[1], expr[1], binding)
    return None if left is None else match(pattern[2], expr[2], left)


def instantiate(pattern: Expr, binding: dict[str, Expr]) -> Expr:
    if isinstance(pattern, str):
        return binding.get(pattern, pattern)
    return (pattern[0], instantiate(pattern[1], binding), instantiate(pattern[2], binding))


def replace(expr: Expr, position: Position, new: Expr) -> Expr:
    if not position:
        return new
    if isinstance(expr, str):
        raise InvalidStep("the position runs past an atom")  # not reached: subexpression() found it
    op, left, right = expr
    if position[0] == 1:
        return (op, replace(left, position[1:], new), right)
    return (op, left, replace(right, position[1:], new))
