from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from hunchlab.ids import RUN_ID, new_run_id, next_sequence, sequence_of
from hunchlab.project import Project


def test_ids_are_words_and_a_sequence_that_sorts_by_time(tmp_path):
    (tmp_path / ".hunch").mkdir()
    ids = [new_run_id(Project(tmp_path)) for _ in range(5)]
    assert all(RUN_ID.match(i) for i in ids)
    assert [sequence_of(i) for i in ids] == [1, 2, 3, 4, 5]


def test_sequence_is_unique_across_processes(tmp_path):
    with ProcessPoolExecutor(4) as pool:
        got = list(pool.map(next_sequence, [tmp_path] * 200))
    assert sorted(got) == list(range(1, 201))


def test_the_counter_file_is_rewritten_in_place_at_a_fixed_width(tmp_path):
    (tmp_path / "seq").write_text("9")  # the shorter format of older projects
    assert next_sequence(tmp_path) == 10
    assert next_sequence(tmp_path) == 11
    raw = (tmp_path / "seq").read_bytes()
    assert raw.strip() == b"11" and len(raw) == 21


def test_a_lost_counter_goes_on_after_the_newest_run_instead_of_reusing_numbers(tmp_path):
    for name in ("bold-otter-3", "calm-yak-41", "not-a-run"):
        (tmp_path / "runs" / name).mkdir(parents=True)
    (tmp_path / "seq").write_text("")  # what a kill between truncate and write used to leave
    assert next_sequence(tmp_path) == 42
