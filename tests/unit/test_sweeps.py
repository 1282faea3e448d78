"""hunchlab.sweeps: reading sweeps back (the table's headers)."""

from __future__ import annotations

from hunchlab.sweeps import sweep_columns


def test_the_sweep_table_never_has_two_columns_with_one_header() -> None:
    assert sweep_columns(["lr", "model.width"], "acc") == ["#", "lr", "model.width", "n", "acc", "95% CI", "notes", "run"]
    # A swept param named like a fixed column or like the metric, and a metric named like a fixed column.
    columns = sweep_columns(["n", "run", "acc", "lr"], "acc")
    assert columns == ["#", "param n", "param run", "param acc", "lr", "n", "acc", "95% CI", "notes", "run"]
    assert len(set(columns)) == len(columns)
    named_n = sweep_columns(["lr"], "n")
    assert named_n == ["#", "lr", "n", "mean n", "95% CI", "notes", "run"] and len(set(named_n)) == len(named_n)
