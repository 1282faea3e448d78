"""Failure triage, the pure parts: allocation, sampling, share estimates, diffs, and the view's keys."""

from __future__ import annotations

import random
from typing import Any

import pytest

from hunchlab.cli.failures_view import MIN_HEIGHT, MIN_WIDTH, View
from hunchlab.triage import text_diff
from hunchlab.triage.stratified import allocate, draw_positions, estimate_share


# -- allocation and drawing ----------------------------------------------------------------
def test_allocation_is_proportional_and_sums_to_n():
    assert allocate({"a": 600, "b": 300, "c": 100}, 10) == {"a": 6, "b": 3, "c": 1}
    alloc = allocate({"a": 5, "b": 7, "c": 11}, 9)
    assert sum(alloc.values()) == 9 and all(alloc[h] <= n for h, n in {"a": 5, "b": 7, "c": 11}.items())


def test_allocation_gives_every_stratum_one_when_it_can():
    alloc = allocate({"big": 10_000, "rare": 3, "rarer": 1}, 5)
    assert alloc["rare"] >= 1 and alloc["rarer"] == 1 and sum(alloc.values()) == 5


def test_allocation_takes_everything_when_the_sample_covers_it():
    assert allocate({"a": 2, "b": 3}, 100) == {"a": 2, "b": 3}


def test_draw_is_reproducible_distinct_and_not_the_first_ones():
    a = draw_positions({None: 1000}, 100, seed=0)[None]
    assert a == draw_positions({None: 1000}, 100, seed=0)[None]
    assert a != draw_positions({None: 1000}, 100, seed=1)[None]
    assert len(set(a)) == 100 and all(0 <= p < 1000 for p in a)
    assert sorted(a) != list(range(100))


def test_a_larger_sample_with_the_same_seed_starts_with_the_smaller_one_for_every_n():
    every = draw_positions({None: 40}, 40, seed=3)[None]
    assert sorted(every) == list(range(40))
    for n in (1, 20, 39, 40, 100):  # up to and past the number there are: the same order, cut at n
        assert draw_positions({None: 40}, n, seed=3)[None] == every[:n]


def test_each_stratum_keeps_its_own_draws_when_the_sample_grows():
    sizes = {"a": 300, "b": 50, "c": 10}
    small, large = draw_positions(sizes, 30, seed=1), draw_positions(sizes, 90, seed=1)
    assert all(large[h][:len(small[h])] == small[h] for h in sizes)


def test_draw_order_is_random_so_a_prefix_is_a_random_subsample():
    order = draw_positions({None: 10_000}, 200, seed=0)[None]
    assert order != sorted(order)


# -- estimates -----------------------------------------------------------------------------
def test_unstratified_estimate_is_the_sample_share_with_a_wilson_interval():
    est, low, high = estimate_share({None: 30}, {None: 100}, {None: 100_000})
    assert est == pytest.approx(0.30)
    assert low == pytest.approx(0.2189, abs=2e-3) and high == pytest.approx(0.3958, abs=2e-3)


def test_reading_every_failure_leaves_no_uncertainty():
    assert estimate_share({None: 7}, {None: 20}, {None: 20}) == (0.35, 0.35, 0.35)


def test_a_sample_that_is_most_of_the_population_gives_a_narrower_interval():
    _, lo_small, hi_small = estimate_share({None: 50}, {None: 100}, {None: 120})
    _, lo_big, hi_big = estimate_share({None: 50}, {None: 100}, {None: 1_000_000})
    assert hi_small - lo_small < (hi_big - lo_big) / 2


def test_stratified_estimate_weights_strata_by_their_size():
    # 10 read in each stratum, but stratum "a" holds 90% of the failures.
    est, _, _ = estimate_share({"a": 10, "b": 0}, {"a": 10, "b": 10}, {"a": 900, "b": 100})
    assert est == pytest.approx(0.9)


def test_strata_with_nothing_read_yet_are_left_out():
    est, _, _ = estimate_share({"a": 2}, {"a": 4}, {"a": 50, "b": 50})
    assert est == pytest.approx(0.5)
    assert estimate_share({}, {}, {"a": 5})[1:] == (0.0, 1.0)


def test_interval_covers_the_true_share_about_95_percent_of_the_time():
    rng = random.Random(0)
    population = [rng.random() < 0.2 for _ in range(5000)]  # 20% "units" failures
    truth = sum(population) / len(population)
    covered = 0
    for _ in range(400):
        hits = sum(rng.sample(population, 80))
        _, low, high = estimate_share({None: hits}, {None: 80}, {None: len(population)})
        covered += low <= truth <= high
    assert 0.92 <= covered / 400 <= 0.99


def test_disproportionate_stratified_sample_is_unbiased():
    rng = random.Random(1)
    strata = {"a": [rng.random() < 0.1 for _ in range(4000)], "b": [rng.random() < 0.6 for _ in range(1000)]}
    truth = sum(sum(v) for v in strata.values()) / 5000
    estimates = []
    for _ in range(300):  # equal allocation: "b" is oversampled four-fold
        hits = {h: sum(rng.sample(v, 30)) for h, v in strata.items()}
        estimates.append(estimate_share(hits, {"a": 30, "b": 30}, {"a": 4000, "b": 1000})[0])
    naive = sum(sum(rng.sample(strata["a"], 30)) + sum(rng.sample(strata["b"], 30)) for _ in range(50)) / (50 * 60)
    assert sum(estimates) / len(estimates) == pytest.approx(truth, abs=0.01)
    assert abs(naive - truth) > 0.1  # what an unweighted share would have claimed


# -- diffs ---------------------------------------------------------------------------------
def test_single_line_diff_works_word_by_word():
    assert text_diff("The answer is 42 apples", "The answer is 24 apples") == [
        [("same", "The answer is "), ("del", "42"), ("add", "24"), ("same", " apples")]]


def test_multi_line_diff_is_unified():
    lines = text_diff("a\nb\nc", "a\nB\nc")
    kinds = [line[0][0] for line in lines]
    assert kinds[:3] == ["head", "head", "head"]
    assert [("del", "-b")] in lines and [("add", "+B")] in lines


def test_identical_texts_have_no_changes():
    assert text_diff("same", "same") == [[("same", "same")]]


# -- the full-screen view, without a terminal ----------------------------------------------
class FakeSession:
    """The part of triage.Triage the view uses, in memory."""

    run_id = "calm-otter-1"

    def __init__(self, n: int = 5, categories: list[str] | None = None, earlier: str | None = None) -> None:
        self.items = [{"category": None, "note": None, "seen": False} for _ in range(n)]
        self.categories = list(categories or [])
        self.earlier = earlier

    def __len__(self) -> int:
        return len(self.items)

    def example(self, position: int) -> dict[str, Any]:
        earlier = [{"run_id": "old-run-1", "category": self.earlier, "note": None}] if self.earlier else []
        return {"id": f"q{position}", "input": "What is 6 x 7?\nShow your work.", "output": "The answer is 24",
                "target": "The answer is 42", "fields": {"topic": "algebra"}, "score": 0.1, "stratum": None,
                "position": position, "earlier": earlier, **{k: self.items[position][k] for k in ("category", "note")}}

    def tag(self, position: int, category: str) -> None:
        self.items[position].update(category=category, seen=True)
        if category not in self.categories:
            self.categories.append(category)

    def untag(self, position: int) -> None:
        self.items[position]["category"] = None

    def note(self, position: int, text: str) -> None:
        self.items[position]["note"] = text or None

    def skip(self, position: int) -> None:
        self.items[position]["seen"] = True

    def progress(self) -> dict[str, int]:
        return {"read": sum(1 for i in self.items if i["seen"]), "total": len(self.items),
                "categories": len({i["category"] for i in self.items if i["category"]})}


def press(view: View, *keys: str) -> View:
    for key in keys:
        view.press(key)
    return view


def screen_text(view: View, width: int = 100, height: int = 30) -> str:
    return "\n".join("".join(text for _, text in line) for line in view.render(width, height))


def test_digit_tags_with_that_category_and_moves_on():
    s = FakeSession(categories=["units", "sign"])
    view = press(View(s), "2")
    assert s.items[0]["category"] == "sign" and view.pos == 1


def test_n_makes_a_new_category_from_what_is_typed():
    s = FakeSession()
    view = press(View(s), "n", *"wrong units", "enter")
    assert s.items[0]["category"] == "wrong units" and s.categories == ["wrong units"] and view.pos == 1
    assert " 1 wrong units" in screen_text(view)


def test_typing_an_existing_name_or_tab_reuses_the_category():
    s = FakeSession(categories=["Wrong units"])
    press(View(s), "n", *"wrong UNITS", "enter", "n", *"wro", "tab", "enter")
    assert [i["category"] for i in s.items[:2]] == ["Wrong units", "Wrong units"] and s.categories == ["Wrong units"]


def test_esc_cancels_typing_and_saves_nothing():
    s = FakeSession()
    view = press(View(s), "n", *"oops", "esc")
    assert s.items[0]["category"] is None and view.pos == 0 and view.mode == "walk"


def test_skip_back_note_untag():
    s = FakeSession(categories=["units"])
    view = press(View(s), " ", "left", "e", *"check the key", "enter", "1", "left", "u")
    assert s.items[0] == {"category": None, "note": "check the key", "seen": True}
    assert view.pos == 0


def test_a_category_key_without_a_category_says_so():
    view = press(View(FakeSession()), "7")
    assert "no category 7" in screen_text(view)


def test_dot_reuses_how_an_earlier_run_tagged_the_example():
    s = FakeSession(earlier="units")
    view = View(s)
    assert "before: units (run old-run-1)" in screen_text(view)
    press(view, ".")
    assert s.items[0]["category"] == "units"


def test_the_screen_shows_the_example_whole_with_progress_and_diff():
    s = FakeSession(categories=["units"])
    view = press(View(s), "1", "left")
    text = screen_text(view)
    assert "example 1/5: q0 · 1/5 read, 1 categories" in text
    for part in ("── input", "What is 6 x 7?", "Show your work.", "── output", "── target", "topic=algebra", "● units"):
        assert part in text
    assert "The answer is [-42-]{+24+}" in text


def test_every_rendered_line_fits_the_terminal():
    view = View(FakeSession())
    for width, height in ((MIN_WIDTH, MIN_HEIGHT), (80, 24), (200, 60)):
        lines = view.render(width, height)
        assert len(lines) == height
        assert all(sum(len(t) for _, t in line) <= width for line in lines)


def test_a_terminal_too_small_gets_one_line_saying_so():
    lines = View(FakeSession()).render(30, 8)
    assert "terminal too small (30×8)" in "".join(t for _, t in lines[0])
    assert all(not line for line in lines[1:])


def test_long_records_scroll():
    s = FakeSession()
    s.example = lambda p: {**FakeSession.example(s, p), "input": "\n".join(f"line {i}" for i in range(500))}  # type: ignore[method-assign]
    view = View(s)
    assert "line 0" in screen_text(view) and "line 499" not in screen_text(view)
    press(view, "end")
    assert "line 499" in screen_text(view) or "── target" in screen_text(view)
    press(view, "home")
    assert "line 0" in screen_text(view)


def test_an_output_equal_to_its_target_says_so_instead_of_a_diff():
    s = FakeSession()
    s.example = lambda p: {**FakeSession.example(s, p), "output": "42", "target": "42"}  # type: ignore[method-assign]
    text = screen_text(View(s))
    assert "(the output equals the target)" in text and "{+" not in text and "[-" not in text
