"""The fast reader's JSON: what the standard encoder writes reads back the same, the values
orjson refuses included."""

from __future__ import annotations

import json
import math

import pytest

from najda.projections.store.fast_log_reader import parse_state


@pytest.mark.parametrize(
    "state",
    [
        {"actor": "crew", "at": {"_type_": "datetime_iso", "_data_": "2024-03-07T19:49:45+00:00"}},
        {"lat": 36.7538123456789, "lon": -3.0588, "count": 3, "none": None, "ok": True},
        {"big": 2**70, "text": "caf\u00e9 \u2014 \U0001f691"},
        {"lone": "\ud800", "nested": [{"a": []}, {}]},
    ],
)
def test_reads_what_the_standard_encoder_wrote(state: dict[str, object]) -> None:
    assert parse_state(json.dumps(state).encode()) == state


def test_reads_a_nan_the_standard_encoder_allows() -> None:
    parsed = parse_state(json.dumps({"reading": float("nan")}).encode())
    assert math.isnan(parsed["reading"])
