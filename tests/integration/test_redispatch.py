"""JEMSS redispatch: a unit on its way to a lower-priority call is diverted to a more urgent one
through the Dispatch application's re-assign command, and the call it leaves is served later."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from najda.geo.jemss_tables import TableError
from najda.projections.policies.dispatch import POLICIES
from najda.simulations.engine import RunResult, SimClock, Simulator, seeded_ids
from najda.simulations.jemss import load_jemss
from najda.simulations.memory_store import MemoryDispatch
from najda.simulations.run import MEMORY_ENV, run_policy
from tests.fakes import new_app
from tests.integration.test_jemss_model import DAY_S, with_calls_file

#: One ambulance at station 1 (40.700, -74.000). A low-priority call two arcs north (a slow
#: mode-2 drive of 600 s), then, 43 s later, a high-priority call one arc north while the
#: unit is still on its way to the first.
CALLS = """miscData,,
startTime,
0,
,,
calls,2,,,,,,,,
index,priority,x,y,arrivalTime,dispatchDelay,onSceneDuration,transport,handoverDuration,hospitalIndex
1,3,-74.000,40.702,0.1,0.001,0.004,0,0,-1
2,1,-74.000,40.701,0.1005,0.001,0.004,0,0,-1
"""

LOW_TO_HIGH = """miscData,,
allowRedispatch,,
{allow},,
,,
redispatchConditions,,
fromCallPriority,toCallPriority,allowRedispatch
lowPriority,highPriority,1
"""


def one_unit_model(base: Path, *, allow: int) -> Path:
    root = with_calls_file(base, CALLS)
    (root / "ambulances" / "ambulances_1.csv").write_text(
        "ambulances,,,\nindex,stationIndex,class\n1,1,1\n"
    )
    (root / "misc" / "redispatch" / "off.csv").write_text(LOW_TO_HIGH.format(allow=allow))
    return root


def simulate(root: Path, policy: str) -> tuple[RunResult, MemoryDispatch]:
    scenario = load_jemss(root)
    clock = SimClock()
    app = new_app(
        MemoryDispatch, MEMORY_ENV, clock=clock, new_id=seeded_ids(np.random.default_rng(1))
    )
    sim = Simulator(scenario, POLICIES[policy](), app, clock, seed=1)
    return asyncio.run(sim.run(DAY_S)), app


@pytest.mark.parametrize("policy", ["closest-road", "coverage-nohold"])
def test_a_unit_en_route_to_a_low_priority_call_is_diverted_to_a_high_one(
    tmp_path: Path, policy: str
) -> None:
    result, app = simulate(one_unit_model(tmp_path, allow=1), policy)
    low, high = sorted(result.calls, key=lambda r: r.call.at_s)
    assert (low.call.priority, high.call.priority) == ("lowPriority", "highPriority")
    assert result.extra["redispatches"] == 1
    assert low.redispatched == 1 and high.redispatched == 0
    # The high call is reached by the diverted unit before the low one, which is served after.
    assert high.arrived_s is not None and low.arrived_s is not None and high.closed_s is not None
    assert high.arrived_s < low.arrived_s
    assert low.dispatched_s is not None and low.dispatched_s >= high.closed_s
    # One re-assign in the application: the low call's first assignment ended by it, then a
    # second assignment (of the same, only unit) served the call.
    history = app.get_incident(low.incident_id).assignment_history
    assert [a.end_reason for a in history][:1] == ["redispatched to a more urgent call"]
    assert len(history) == 2 and history[1].assigned_at > history[0].assigned_at
    high_units = app.get_incident(high.incident_id).assignment_history
    assert [a.unit_id for a in high_units] == [history[0].unit_id]
    app.close()


def test_with_redispatch_off_the_high_call_waits_for_the_unit(tmp_path: Path) -> None:
    result, app = simulate(one_unit_model(tmp_path, allow=0), "closest-road")
    low, high = sorted(result.calls, key=lambda r: r.call.at_s)
    assert result.extra["redispatches"] == 0
    assert low.redispatched == 0
    assert len(app.get_incident(low.incident_id).assignment_history) == 1
    assert high.dispatched_s is not None and low.closed_s is not None
    assert high.dispatched_s >= low.closed_s  # the only unit finished the low call first
    app.close()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("lowPriority,urgentPriority,1", r"toCallPriority 'urgentPriority' is not a priority"),
        ("highPriority,lowPriority,1", r"from highPriority to lowPriority is not to a more"),
    ],
)
def test_a_redispatch_pair_it_cannot_take_is_refused_naming_the_file_and_row(
    tmp_path: Path, row: str, message: str
) -> None:
    root = one_unit_model(tmp_path, allow=1)
    path = root / "misc" / "redispatch" / "off.csv"
    path.write_text(path.read_text().replace("lowPriority,highPriority,1", row))
    with pytest.raises(TableError, match=r"off\.csv: redispatchConditions row 1: .*" + message):
        load_jemss(root)


def test_the_report_counts_redispatches_only_where_the_model_allows_them(tmp_path: Path) -> None:
    from najda.cli import main

    def report(allow: int) -> str:
        root = one_unit_model(tmp_path / f"allow{allow}", allow=allow)
        out = tmp_path / f"out{allow}"
        args = [
            "simulate",
            str(root),
            "--policy",
            "closest-road",
            "--days",
            "1",
            "--reps",
            "2",
            "--no-plots",
            "--out",
            str(out),
            "--no-progress",
        ]
        assert main(args) == 0
        return (out / "report.md").read_text()

    # The same two calls in every replication (calls.csv): one diversion each time.
    assert "| closest-road | redispatches | 1.0 ± 0.0 |" in report(1)
    assert "redispatches" not in report(0)


def test_a_busy_day_with_redispatch_serves_every_call_once(tmp_path: Path) -> None:
    from tests.integration.test_jemss_model import write_model

    root = write_model(tmp_path)
    (root / "sim_config.xml").write_text(
        "<simConfig><inputPath>.</inputPath><simFiles>"
        "<redispatch>misc/redispatch/on.csv</redispatch></simFiles></simConfig>"
    )
    (root / "misc" / "redispatch").mkdir(parents=True)
    (root / "misc" / "redispatch" / "on.csv").write_text(
        LOW_TO_HIGH.format(allow=1).replace("lowPriority,", "medPriority,")
    )
    # Diverted calls are dispatched again, often to another unit: a stale arrival of the
    # unit that left must not count (it once did when unit trip counters coincided).
    result = run_policy(load_jemss(root), "closest-road", days=3.0, seed=1)
    diverted = [r for r in result.calls if r.redispatched]
    assert result.extra["redispatches"] == sum(r.redispatched for r in diverted) > 0
    assert all(r.arrived_s is not None and r.closed_s is not None for r in result.calls)
    assert all(r.call.priority == "medPriority" for r in diverted)
