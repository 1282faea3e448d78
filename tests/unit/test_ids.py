from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from hunchlab.ids import RUN_ID, new_run_id, next_sequence, sequence_of


def test_ids_are_words_and_a_sequence_that_sorts_by_time(tmp_path):
    ids = [new_run_id(tmp_path) for _ in range(5)]
    assert all(RUN_ID.match(i) for i in ids)
    assert [sequence_of(i) for i in ids] == [1, 2, 3, 4, 5]


def test_sequence_is_unique_across_processes(tmp_path):
    with ProcessPoolExecutor(4) as pool:
        got = list(pool.map(next_sequence, [tmp_path] * 200))
    assert sorted(got) == list(range(1, 201))
