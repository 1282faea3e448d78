"""The claim grammar: every form parses, renders back, decides outcomes, and fails helpfully."""

from __future__ import annotations

import math

import pytest

from hunchlab.claims import GRAMMAR_HELP, Claim, ClaimError, parse_claim
from hunchlab.errors import HunchError

# --- parsing each form -------------------------------------------------------


@pytest.mark.parametrize("op", [">", ">=", "<", "<="])
def test_threshold_parses_every_operator(op: str) -> None:
    claim = parse_claim(f"acc {op} 0.8 @ 70%")
    assert claim == Claim(metric="acc", kind="threshold", op=op, value=0.8, probability=0.7)


def test_interval_parses_both_bounds() -> None:
    claim = parse_claim("loss in [0.30, 0.40] @ 80%")
    assert claim == Claim(metric="loss", kind="interval", lower=0.3, upper=0.4, probability=0.8)


def test_comparison_holds_reference_name_and_metric_unresolved() -> None:
    claim = parse_claim("acc > baseline.acc @ 60%")
    assert claim == Claim(metric="acc", kind="comparison", op=">", ref="baseline", ref_metric="acc", probability=0.6)


def test_comparison_splits_reference_at_first_dot_so_ref_metric_may_contain_dots() -> None:
    claim = parse_claim("eval/acc >= run-3f2a.eval/acc.top1 @ 55%")
    assert (claim.ref, claim.ref_metric) == ("run-3f2a", "eval/acc.top1")


def test_reference_may_start_with_digits_like_a_run_id() -> None:
    claim = parse_claim("acc > 3f2a.acc @ 60%")
    assert (claim.kind, claim.ref) == ("comparison", "3f2a")


@pytest.mark.parametrize("metric", ["eval/acc", "train.loss", "val-loss", "_private", "top1_acc", "a/b.c-d_e9"])
def test_metric_names_allow_letters_digits_and_separators(metric: str) -> None:
    assert parse_claim(f"{metric} < 1 @ 50%").metric == metric


@pytest.mark.parametrize(
    ("text", "probability"),
    [
        ("acc > 0.8 @ 70%", 0.7),
        ("acc > 0.8 @ 0.7", 0.7),
        ("acc > 0.8 @ .7", 0.7),
        ("acc > 0.8 @ 72.5%", 0.725),
        ("acc > 0.8 @ 0.5%", 0.005),
        ("acc > 0.8 @ 70 %", 0.7),
    ],
)
def test_probability_as_percent_or_fraction(text: str, probability: float) -> None:
    assert parse_claim(text).probability == pytest.approx(probability, abs=0)


@pytest.mark.parametrize(
    "text",
    ["acc>0.8@70%", "  acc   >   0.8   @   70%  ", "acc\t>\t0.8\t@\t70%", "acc >0.8@ 70 %", "\nacc > 0.8 @ 70%\n"],
)
def test_whitespace_is_optional_around_tokens(text: str) -> None:
    assert parse_claim(text) == parse_claim("acc > 0.8 @ 70%")


@pytest.mark.parametrize(
    "text", ["loss in[0.3,0.4]@80%", "loss  in  [ 0.3 ,  0.4 ]  @ 0.8", "loss\tin\t[0.3,\t0.4]@80%"]
)
def test_interval_whitespace_is_optional(text: str) -> None:
    assert parse_claim(text) == parse_claim("loss in [0.30, 0.40] @ 80%")


@pytest.mark.parametrize(
    ("text", "value"),
    [("d > -0.5 @ 50%", -0.5), ("lr < 1e-3 @ 50%", 0.001), ("n >= 12 @ 50%", 12.0), ("x > +2.5E+2 @ 50%", 250.0)],
)
def test_thresholds_accept_signs_integers_and_exponents(text: str, value: float) -> None:
    assert parse_claim(text).value == value


def test_interval_with_equal_bounds_is_a_valid_point_claim() -> None:
    assert parse_claim("k in [3, 3] @ 50%").holds(3.0)


def test_metric_named_like_the_keyword_prefix_is_not_mistaken_for_in() -> None:
    claim = parse_claim("index > 3 @ 50%")
    assert (claim.metric, claim.kind) == ("index", "threshold")


# --- render, round trip, storage ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("acc>0.8@0.7", "acc > 0.8 @ 70%"),
        ("loss in [0.30,0.40] @ 80%", "loss in [0.3, 0.4] @ 80%"),
        ("acc>baseline.acc@.6", "acc > baseline.acc @ 60%"),
        ("n >= 12.0 @ 72.5%", "n >= 12 @ 72.5%"),
        ("lr < 1e-3 @ 0.5%", "lr < 0.001 @ 0.5%"),
    ],
)
def test_render_gives_canonical_text(text: str, canonical: str) -> None:
    assert parse_claim(text).render() == canonical


@pytest.mark.parametrize(
    "text",
    [
        "acc > 0.8 @ 70%",
        "loss in [-1e-9, 3.25] @ 0.123456789",
        "eval/acc <= base_2.eval/acc @ 1%",
        "x >= 1e+300 @ 99.9%",
    ],
)
def test_render_then_parse_gives_the_same_claim(text: str) -> None:
    claim = parse_claim(text)
    assert parse_claim(claim.render()) == claim


def test_probability_that_is_not_a_round_percent_renders_as_exact_fraction() -> None:
    claim = Claim(metric="acc", kind="threshold", op=">", value=0.8, probability=0.1234567890123)
    assert claim.render() == "acc > 0.8 @ 0.1234567890123"
    assert parse_claim(claim.render()) == claim


@pytest.mark.parametrize("text", ["acc > 0.8 @ 70%", "loss in [0.3, 0.4] @ 80%", "acc > baseline.acc @ 60%"])
def test_to_dict_from_dict_round_trip_omits_unused_fields(text: str) -> None:
    claim = parse_claim(text)
    stored = claim.to_dict()
    assert None not in stored.values()
    assert Claim.from_dict(stored) == claim


def test_from_dict_normalises_json_integers_to_floats() -> None:
    claim = Claim.from_dict({"metric": "n", "kind": "threshold", "op": ">", "value": 1, "probability": 0.5})
    assert isinstance(claim.value, float)
    assert claim.render() == "n > 1 @ 50%"


@pytest.mark.parametrize(
    "data",
    [
        {"metric": "acc", "kind": "threshold", "op": ">", "value": 0.8, "probability": 1.0},
        {"metric": "acc", "kind": "threshold", "op": ">", "probability": 0.5},
        {"metric": "acc", "kind": "interval", "lower": 2.0, "upper": 1.0, "probability": 0.5},
        {"metric": "acc", "kind": "threshold", "op": "==", "value": 0.8, "probability": 0.5},
        {"metric": "acc", "kind": "guess", "probability": 0.5},
        {"metric": "acc", "kind": "threshold", "op": ">", "value": "0.8", "probability": 0.5},
        {"metric": "acc", "kind": "threshold", "op": ">", "value": math.inf, "probability": 0.5},
        {"metric": "acc", "kind": "threshold", "op": ">", "value": 0.8, "probability": 0.5, "colour": "red"},
    ],
)
def test_from_dict_rejects_corrupt_rows(data: dict) -> None:
    with pytest.raises(HunchError):
        Claim.from_dict(data)


def test_metrics_names_what_this_run_must_report() -> None:
    assert parse_claim("acc > baseline.f1 @ 60%").metrics() == ("acc",)
    assert parse_claim("loss in [0, 1] @ 60%").metrics() == ("loss",)


# --- holds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "actual", "expected"),
    [
        ("acc > 0.8 @ 70%", 0.8, False),  # strict: equality does not hold
        ("acc >= 0.8 @ 70%", 0.8, True),
        ("acc > 0.8 @ 70%", 0.8000001, True),
        ("acc < 0.8 @ 70%", 0.8, False),
        ("acc <= 0.8 @ 70%", 0.8, True),
        ("acc < 0.8 @ 70%", 0.7999999, True),
        ("acc >= 0.8 @ 70%", 0.7999999, False),
    ],
)
def test_threshold_holds_respects_strictness_at_equality(text: str, actual: float, expected: bool) -> None:
    assert parse_claim(text).holds(actual) is expected


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(0.30, True), (0.40, True), (0.35, True), (0.2999999, False), (0.4000001, False)],
)
def test_interval_endpoints_are_inclusive(actual: float, expected: bool) -> None:
    assert parse_claim("loss in [0.30, 0.40] @ 80%").holds(actual) is expected


@pytest.mark.parametrize(
    ("op", "actual", "ref_value", "expected"),
    [
        (">", 0.9, 0.8, True),
        (">", 0.8, 0.8, False),
        (">=", 0.8, 0.8, True),
        ("<", 0.7, 0.8, True),
        ("<=", 0.9, 0.8, False),
    ],
)
def test_comparison_holds_against_resolved_reference(op: str, actual: float, ref_value: float, expected: bool) -> None:
    assert parse_claim(f"acc {op} baseline.acc @ 60%").holds(actual, ref_value) is expected


def test_comparison_without_reference_value_is_an_error() -> None:
    with pytest.raises(HunchError, match=r"needs the value of baseline\.acc"):
        parse_claim("acc > baseline.acc @ 60%").holds(0.9)


def test_reference_value_for_a_plain_threshold_is_an_error() -> None:
    with pytest.raises(HunchError, match="has no reference"):
        parse_claim("acc > 0.8 @ 60%").holds(0.9, 0.5)


@pytest.mark.parametrize("text", ["loss < 0.5 @ 60%", "loss > 10 @ 60%", "loss in [0, 1] @ 60%"])
def test_nan_result_makes_every_claim_false(text: str) -> None:
    assert parse_claim(text).holds(math.nan) is False


# --- errors ------------------------------------------------------------------


def _caret_column(error: ClaimError) -> int:
    """The 1-based column the caret line points at, read from the rendered message."""
    lines = error.format_message().splitlines()
    caret_line = next(line for line in lines if line.strip() == "^")
    text_line = lines[lines.index(caret_line) - 1]
    indent = len(text_line) - len(text_line.lstrip(" ")) if text_line.strip() else 4
    return caret_line.index("^") - indent + 1


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("acc 0.8 @ 70%", 5, "expected >, >=, <, <= or 'in [LO, HI]' after 'acc'"),
        ("acc > 0.8", 10, "expected '@'"),
        ("acc > 0.8 70%", 11, "expected '@'"),
        ("acc > 0.8 @ 100%", 13, "certainty cannot be scored"),
        ("acc > 0.8 @ 0%", 13, "use 1%"),
        ("acc > 0.8 @ 1", 13, "use 99%"),
        ("acc > 0.8 @ 0", 13, "use 1%"),
        ("acc > 0.8 @ 70", 13, "write 70% or 0.7"),
        ("acc > 0.8 @ -5%", 13, "outside (0%, 100%)"),
        ("acc > 0.8 @ 150", 13, "outside (0, 1)"),
        ("acc > 0.8 @ high", 13, "expected a probability"),
        ("acc > 0.8 @ 70% sure", 17, "unexpected text after the probability"),
        ("loss in [0.40, 0.30] @ 80%", 10, "lower bound > upper bound"),
        ("loss in 0.3, 0.4 @ 80%", 9, "expected '['"),
        ("loss in [0.3 0.4] @ 80%", 14, "expected ','"),
        ("loss in [0.3, 0.4 @ 80%", 19, "expected ']'"),
        ("loss in [a, 0.4] @ 80%", 10, "expected the lower bound"),
        ("loss in [0.3,  4x] @ 80%", 16, "expected the upper bound"),
        ("acc > baseline @ 60%", 7, "write REF.METRIC, e.g. baseline.acc"),
        ("acc > @ 60%", 7, "expected a number or REF.METRIC"),
        ("9acc > 0.8 @ 70%", 1, "expected a metric name"),
        ("", 1, "empty claim"),
        ("   ", 1, "empty claim"),
        ("acc == 0.8 @ 70%", 5, "expected >, >=, <, <="),
        ("acc > 1e999 @ 70%", 7, "too large"),
        ("loss in [0, 1e999] @ 70%", 13, "too large"),
    ],
)
def test_errors_point_at_the_column_and_say_what_was_wrong(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ClaimError) as caught:
        parse_claim(text)
    error = caught.value
    assert error.column == column
    assert fragment in error.what
    assert error.where == f"claim, column {column}"
    assert _caret_column(error) == column


def test_error_message_shows_grammar_with_an_example_of_each_form() -> None:
    with pytest.raises(ClaimError) as caught:
        parse_claim("acc > 0.8 @ 100%")
    message = caught.value.format_message()
    for example in ("acc > 0.8 @ 70%", "loss in [0.30, 0.40] @ 80%", "acc > baseline.acc @ 60%"):
        assert example in message
    assert message.startswith("claim, column 13: probability 100% is not allowed")


def test_error_location_names_the_source_given_by_the_caller() -> None:
    with pytest.raises(ClaimError) as caught:
        parse_claim("acc > 0.8", source="spec.yaml predict[2]")
    assert caught.value.where == "spec.yaml predict[2], column 10"


def test_claim_error_is_a_hunch_error_with_exit_code_2() -> None:
    with pytest.raises(HunchError) as caught:
        parse_claim("nonsense")
    assert caught.value.exit_code == 2


def test_tabs_in_echoed_text_keep_the_caret_aligned() -> None:
    with pytest.raises(ClaimError) as caught:
        parse_claim("acc\t>\t0.8\t70%")
    lines = caught.value.format_message().splitlines()
    assert lines[1] == "    acc > 0.8 70%"
    assert lines[2] == "              ^"


def test_grammar_help_is_short_and_shows_each_form() -> None:
    assert len(GRAMMAR_HELP.splitlines()) <= 8
    for form in ("acc > 0.8 @ 70%", "loss in [0.30, 0.40] @ 80%", "acc > baseline.acc @ 60%"):
        assert parse_claim(form)  # the help's own examples are valid claims
        assert form in GRAMMAR_HELP
