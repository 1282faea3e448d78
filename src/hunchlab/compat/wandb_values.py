"""What a ``wandb.log`` row holds, turned into hunchlab's kinds: numbers, examples, or nothing.

Kept apart from the stand-in module so the tee (which sees the real wandb's objects)
and the stand-in share one set of rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# Column names W&B users give the parts of an example, mapped onto run.example's fields.
ROLES = {
    "id": "id", "example_id": "id", "uid": "id",
    "input": "input", "inputs": "input", "prompt": "input", "question": "input", "text": "input",
    "output": "output", "prediction": "output", "pred": "output", "completion": "output", "response": "output",
    "target": "target", "label": "target", "answer": "target", "ground_truth": "target", "expected": "target",
    "correct": "correct", "is_correct": "correct",
    "score": "score",
}


class Table:
    """``wandb.Table(columns=[...], data=[[...], ...])``; logged, its rows become per-example records."""

    def __init__(self, columns: Sequence[str] | None = None, data: Sequence[Sequence[Any]] | None = None,
                 rows: Sequence[Sequence[Any]] | None = None, dataframe: Any = None, **kwargs: Any) -> None:
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.values.tolist()
        self.columns = list(columns or [])
        self.data: list[list[Any]] = [list(r) for r in (data if data is not None else rows or [])]

    def add_data(self, *values: Any) -> None:
        self.data.append(list(values))

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        self.columns.append(name)
        if not self.data:
            self.data = [[v] for v in data]
        else:
            for row, value in zip(self.data, data):
                row.append(value)


def _is_table(value: Any) -> bool:
    """Ours, or the real wandb's (the tee sees those): anything with columns and data rows."""
    return type(value).__name__ == "Table" and hasattr(value, "columns") and hasattr(value, "data")


def flatten_row(data: Mapping[str, Any], prefix: str = "") -> tuple[dict[str, float], list[tuple[str, Any]], list[str]]:
    """Split a logged row into numbers (nested keys joined with '.'), tables, and what was skipped."""
    numbers: dict[str, float] = {}
    tables: list[tuple[str, Any]] = []
    skipped: list[str] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            n, t, s = flatten_row(value, name + ".")
            numbers.update(n)
            tables.extend(t)
            skipped.extend(s)
        elif _is_table(value):
            tables.append((name, value))
        else:
            number = _number(value)
            if number is None:
                skipped.append(f"logging a {type(value).__name__} (key '{name}'); hunchlab keeps numbers and Tables")
            else:
                numbers[name] = number
    return numbers, tables, skipped


def _number(value: Any) -> float | None:
    if isinstance(value, str) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):  # RuntimeError: a tensor of more than one element
        return None


def table_examples(key: str, table: Any) -> Iterator[dict[str, Any]]:
    """``run.example`` keyword arguments, one per row: known column names fill the roles, the rest are fields.

    Rows without an ``id`` column are numbered within the table (``key/0``, ``key/1``…), so
    the same table logged by two runs lines up row by row for per-example comparisons.
    """
    columns = [str(c) for c in table.columns]
    for i, row in enumerate(table.data):
        example: dict[str, Any] = {"id": f"{key}/{i}"}
        fields: dict[str, Any] = {}
        for column, value in zip(columns, row):
            role = ROLES.get(column.lower())
            value = _plain(value)
            if role and role not in example or role == "id":
                example[role] = value
            else:
                fields[column] = value
        if "correct" in example and example["correct"] is not None:
            example["correct"] = bool(example["correct"])
        if "score" in example and _number(example["score"]) is None:
            fields["score"] = example.pop("score")
        yield {**example, **{k: v for k, v in fields.items() if k not in example}, "table": key}


def _plain(value: Any) -> Any:
    """numpy and torch scalars as Python values, so the event file holds plain JSON."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 1) == 0:
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value
