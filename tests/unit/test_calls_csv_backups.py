"""A call list keeps the further ambulances a call needed (the optional `backups` column)."""

from __future__ import annotations

from pathlib import Path

import pytest

from najda.simulations.calls_csv import CallListError, read_calls, write_calls
from najda.simulations.scenario import Call, FurtherUnit

ONE = Call(10.0, 40.7, -74.0, "high", 60.0, 300.0, True, 600.0)
TWO = Call(20.0, 40.71, -74.01, "low", 90.0, 200.0, False, 0.0,
           backups=(FurtherUnit(0.0, 420.0), FurtherUnit(240.0, 35.5)))


def test_further_ambulances_are_written_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    write_calls([ONE, TWO], path)
    header, first, second = path.read_text().splitlines()[:3]
    assert header.endswith(",hospital,backups")
    assert first.endswith(",") and second.endswith(",0.000:420.000;240.000:35.500")
    assert read_calls(path, ["high", "low"]) == [ONE, TWO]


def test_a_list_of_single_ambulance_calls_has_no_backups_column(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    write_calls([ONE], path)
    assert path.read_text().splitlines()[0].endswith(",handover_s,hospital")
    assert read_calls(path, ["high"]) == [ONE]


@pytest.mark.parametrize("bad", ["soon", "420", "0:-5", "nan:1", "0:420;x", "1:2:3"])
def test_a_bad_backups_cell_is_refused_naming_line_and_column(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "calls.csv"
    write_calls([TWO], path)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + f",{bad}"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CallListError, match=rf"{path.name}:2: backups must be"):
        read_calls(path, ["low"])
