"""The formal system under both formal-reasoning studies: syntax, the rewriting engine, the independent checker.

The checker is the only judge of a proof, so most of these tests try to make it
accept something it must not: proofs corrupted in every way a buggy search or a
careless learner could corrupt them. Truth is cross-checked without the checker:
these axioms are the commutative-semiring identities, so two expressions are
equal under them exactly when they expand to the same polynomial with natural
coefficients (``polynomial`` below, written only for the tests).
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from hunchlab.errors import HunchError
from hunchlab.studies.formal_reasoning.checker import InvalidStep, apply_step, check
from hunchlab.studies.formal_reasoning.rewriting import REVERSIBLE, RULES, Terms, make_theorems, within
from hunchlab.studies.formal_reasoning.search import search
from hunchlab.studies.formal_reasoning.syntax import Expr, Step, Theorem, parse, show

Monomial = tuple[int, int, int]  # powers of x, y, z


def polynomial(e: Expr) -> Counter[Monomial]:
    """The expression expanded into monomials with their coefficients (zero coefficients dropped)."""
    if isinstance(e, str):
        unit = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1), "1": (0, 0, 0)}
        return Counter() if e == "0" else Counter({unit[e]: 1})
    a, b = polynomial(e[1]), polynomial(e[2])
    if e[0] == "+":
        return a + b
    out: Counter[Monomial] = Counter()
    for ma, ca in a.items():
        for mb, cb in b.items():
            out[(ma[0] + mb[0], ma[1] + mb[1], ma[2] + mb[2])] += ca * cb
    return out


def theorem(text: str, difficulty: int = 1) -> Theorem:
    lhs, rhs = text.split("=")
    return Theorem(parse(lhs), parse(rhs), difficulty)


# ---------------------------------------------------------------------------
# Syntax


@pytest.mark.parametrize("text", ["x", "x+y+z", "x+(y+z)", "x*(y+0)", "(x+y)*z", "x*y*z", "x*(y*z)", "(x+1)*(y+0)"])
def test_show_reads_back_as_the_same_expression(text: str) -> None:
    assert show(parse(text)) == text
    assert parse(show(parse(text))) == parse(text)


def test_precedence_and_left_association() -> None:
    assert parse("x+y*z") == ("+", "x", ("*", "y", "z"))
    assert parse("x+y+z") == ("+", ("+", "x", "y"), "z")


@pytest.mark.parametrize("text", ["x+", "(x+y", "x+a", "x-y", "xy", ""])
def test_bad_expressions_are_hunch_errors(text: str) -> None:
    with pytest.raises(HunchError, match="cannot read the expression"):
        parse(text)


# ---------------------------------------------------------------------------
# The checker accepts real proofs ...


def test_checker_accepts_a_hand_written_proof() -> None:
    t = theorem("(y+0)*x = x*y")
    proof = [Step("add_zero", (1,), "lr"), Step("mul_comm", (), "lr")]
    assert check(t, proof).accepted


def test_checker_matches_repeated_variables_only_on_equal_subterms() -> None:
    assert check(theorem("x*y+x*z = x*(y+z)"), [Step("distrib", (), "rl")]).accepted
    verdict = check(theorem("x*y+z*y = x*(y+y)"), [Step("distrib", (), "rl")])
    assert not verdict.accepted and "does not match" in verdict.reason


def test_every_generated_theorem_is_true_and_its_reversed_walk_is_a_proof() -> None:
    terms = Terms()
    for difficulty in (1, 3, 6):
        for g in make_theorems(terms, difficulty, 20, seed=1):
            assert polynomial(g.theorem.lhs) == polynomial(g.theorem.rhs)  # true, judged without the checker
            assert check(g.theorem, terms.proof(list(reversed(g.walk)))).accepted
            assert len(g.walk) == difficulty + 1


def test_generated_theorems_have_no_shortcut() -> None:
    terms = Terms()
    for g in make_theorems(terms, 5, 20, seed=2):
        assert not within(terms, terms.add(g.theorem.lhs), terms.add(g.theorem.rhs), 2)


def test_every_engine_rewrite_is_a_checked_step_and_keeps_the_polynomial() -> None:
    rng = random.Random(0)
    terms = Terms()
    for g in make_theorems(terms, 4, 10, seed=3):
        t = terms.add(g.theorem.lhs)
        steps = terms.steps(t)
        assert {new for _, _, new in steps} == set(terms.children(t))  # the memoised children are the same set
        for rule, position, new in rng.sample(steps, 5):
            step = Step(RULES[rule][0], position, RULES[rule][1])
            assert check(Theorem(g.theorem.lhs, terms.expr(new), 1), [step]).accepted
            assert polynomial(terms.expr(new)) == polynomial(g.theorem.lhs)


def test_walks_use_only_reversible_rules() -> None:
    assert ("mul_zero", "lr") in RULES
    assert RULES.index(("mul_zero", "lr")) not in REVERSIBLE  # 0 -> a*0 would need a term the step does not name


def test_searches_find_only_proofs_the_checker_accepts() -> None:
    terms = Terms()
    made = make_theorems(terms, 3, 15, seed=4)
    ends = [(terms.add(g.theorem.lhs), terms.add(g.theorem.rhs)) for g in made]
    outcomes = search(terms, ends, budget=300)
    assert sum(o.proved for o in outcomes) >= 5
    for g, o in zip(made, outcomes, strict=True):
        assert o.expansions <= 300
        if o.proved:
            assert check(g.theorem, terms.proof(o.path)).accepted
            assert len(o.path) - 1 <= g.theorem.difficulty  # breadth-first finds a shortest proof


# ---------------------------------------------------------------------------
# ... and rejects corrupted ones

PROOF = [Step("add_zero", (1,), "lr"), Step("mul_comm", (), "lr")]
THEOREM = theorem("(y+0)*x = x*y")


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (lambda p: [Step("add_comm", (1,), "lr"), p[1]], "end at"),  # wrong axiom
        (lambda p: [Step("add_zero", (2,), "lr"), p[1]], "does not match"),  # wrong position
        (lambda p: [Step("add_zero", (1, 1, 1), "lr"), p[1]], "no position"),  # a position that does not exist
        (lambda p: [Step("add_zero", (1,), "rl"), p[1]], "end at"),  # wrong direction
        (lambda p: p[:1], "end at"),  # a step dropped
        (lambda p: p[::-1], "does not match"),  # steps swapped
        (lambda p: [*p, Step("mul_comm", (), "lr")], "end at"),  # a step too many
        (lambda p: [Step("add_nothing", (1,), "lr"), p[1]], "no axiom named"),  # an axiom that does not exist
        (lambda p: [p[0], Step("mul_comm", (), "sideways")], "direction"),  # a direction that does not exist
        (lambda p: [Step("mul_zero", (1, 2), "rl"), *p], "would need a term"),  # a step with an unbound variable
        (lambda p: [], "end at"),  # no proof at all
    ],
)
def test_checker_rejects_corrupted_proofs(corrupt: object, reason: str) -> None:
    assert check(THEOREM, PROOF).accepted
    verdict = check(THEOREM, corrupt(PROOF))  # type: ignore[operator]
    assert not verdict.accepted
    assert reason in verdict.reason


def test_checker_rejects_a_proof_of_another_theorem() -> None:
    other = theorem("(y+0)*x = y*x")
    assert check(other, PROOF[:1]).accepted
    assert not check(THEOREM, PROOF[:1]).accepted
    assert not check(theorem("(y+0)*x = x*z"), PROOF).accepted  # false theorems have no proof to accept


def test_checker_and_engine_agree_on_randomly_corrupted_proofs() -> None:
    """A proof with one step replaced by a random one: whenever the checker accepts a step, the engine
    (written apart) produces the same term with that rule at that place; and most corruptions fail."""
    rng = random.Random(5)
    terms = Terms()
    rejected = 0
    for g in make_theorems(terms, 4, 30, seed=6):
        proof = terms.proof(list(reversed(g.walk)))
        i = rng.randrange(len(proof))
        rule, direction = rng.choice(RULES)
        corrupted = [*proof[:i], Step(rule, proof[i].position, direction), *proof[i + 1:]]
        expr = g.theorem.lhs
        for step in corrupted:
            try:
                after = apply_step(expr, step)
            except InvalidStep:
                break
            by_engine = {new for r, pos, new in terms.steps(terms.add(expr)) if RULES[r] == (step.axiom, step.direction)
                         and pos == step.position}
            assert terms.add(after) in by_engine or (step.axiom, step.direction) not in RULES
            expr = after
        rejected += not check(g.theorem, corrupted).accepted
    assert rejected >= 20
