"""strict_json: output any strict parser reads, non-finite numbers as null."""

from __future__ import annotations

import json
import math

from hunchlab import strict_json


def _refuse(constant: str) -> None:
    raise ValueError(constant)


def test_non_finite_numbers_anywhere_become_null_and_the_rest_is_untouched():
    data = {"a": [1.5, math.nan, {"b": (math.inf, -math.inf, "NaN")}], "c": None, "d": True, "é": "ü"}
    text = strict_json.dumps(data, ensure_ascii=False)
    assert json.loads(text, parse_constant=_refuse) == {"a": [1.5, None, {"b": [None, None, "NaN"]}], "c": None,
                                                        "d": True, "é": "ü"}


def test_output_without_non_finite_numbers_is_what_json_dumps_writes():
    data = {"x": [1, 2.5, "three"], "y": {"z": None}}
    assert strict_json.dumps(data, indent=1) == json.dumps(data, indent=1)
    assert strict_json.dumps(object()).startswith('"<object object')  # what json cannot encode: its str
