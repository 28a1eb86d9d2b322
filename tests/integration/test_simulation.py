"""Simulation through the real application: deterministic; every incident in the store."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from najda.domain.application import Dispatch
from najda.domain.values import IncidentStatus, UnitStatus
from najda.projections.base import NotificationSource
from najda.projections.rebuild import REBUILD_GC_THRESHOLDS
from najda.projections.store.environment import sqlite_env
from najda.simulations.engine import START, RunResult, Simulator
from najda.simulations.jemss import load_jemss
from najda.simulations.run import run_policy
from najda.simulations.scenario import Scenario
from najda.simulations.synthetic import synthetic_city
from tests.fakes import new_dispatch
from tests.unit.jemss_fixture import write_scenario

POLICIES = ("closest-straight", "closest-road", "coverage")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_jemss(write_scenario(tmp_path_factory.mktemp("jemss")))


def _store(path: Path) -> Iterator[Dispatch]:
    app = new_dispatch(sqlite_env(path))
    try:
        yield app
    finally:
        app.close()


def _log(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every event's topic and fields, less the library's wall-clock recording `timestamp`
    (the domain's own time, `at`, comes from the simulated clock and is compared)."""
    out = []
    for app in _store(path):
        for t in NotificationSource(app).read(0, 100_000):
            fields = {k: v for k, v in t.event.__dict__.items() if k != "timestamp"}
            out.append((t.topic, fields))
    return out


def _outcome(result: RunResult) -> list[tuple[Any, ...]]:
    return [(r.incident_id, r.unit, r.dispatched_s, r.arrived_s, r.closed_s) for r in result.calls]


@pytest.mark.parametrize("policy", POLICIES)
def test_the_same_seed_gives_the_same_run_and_the_same_event_log(
    tiny: Scenario, tmp_path: Path, policy: str
) -> None:
    a = run_policy(tiny, policy, days=0.5, seed=4, store=tmp_path / "a.sqlite")
    b = run_policy(tiny, policy, days=0.5, seed=4, store=tmp_path / "b.sqlite")
    c = run_policy(tiny, policy, days=0.5, seed=5, store=tmp_path / "c.sqlite")
    assert len(a.calls) > 20
    assert _outcome(a) == _outcome(b)
    assert _log(tmp_path / "a.sqlite") == _log(tmp_path / "b.sqlite")
    assert _outcome(a) != _outcome(c)


@pytest.mark.parametrize("policy", POLICIES)
def test_every_simulated_incident_is_in_the_store_with_a_consistent_lifecycle(
    tiny: Scenario, tmp_path: Path, policy: str
) -> None:
    result = run_policy(tiny, policy, days=0.5, seed=2, store=tmp_path / "events.sqlite")
    at = lambda s: START + timedelta(seconds=s)  # noqa: E731
    for app in _store(tmp_path / "events.sqlite"):
        statuses: dict[Any, list[tuple[str, Any, Any]]] = {}
        for unit in result.units:
            for e in app.events.get(unit.unit_id):
                name = type(e).__name__
                if name == "Dispatched":
                    statuses.setdefault(e.incident_id, []).append(("dispatched", e.at, unit))
                    current = e.incident_id
                elif name == "StatusChanged":
                    statuses[current].append((UnitStatus(e.status).value, e.at, unit))
        assert len(statuses) == len(result.calls)
        for record in result.calls:
            incident = app.get_incident(record.incident_id)
            assert incident.status is IncidentStatus.CLOSED
            assert incident.call_received_at == at(record.call.at_s)
            (assignment,) = incident.assignment_history
            assert assignment.assigned_at == at(record.dispatched_s)
            assert assignment.end_reason == "cleared" and not assignment.active
            assert incident.ended_at == at(record.closed_s)
            steps = statuses[record.incident_id]
            expected = ["dispatched", "en_route", "on_scene"]
            expected += ["transporting", "at_hospital"] if record.call.transport else []
            assert [s for s, _, _ in steps] == [*expected, "available"]
            times = [t for _, t, _ in steps]
            assert times == sorted(times)
            assert {u.unit_id for _, _, u in steps} == {assignment.unit_id}
            on_scene = steps[2][1]
            assert (on_scene - incident.call_received_at).total_seconds() == pytest.approx(
                record.response_s
            )
            assert incident.call_received_at <= assignment.assigned_at <= on_scene


def test_a_synthetic_city_runs_without_a_road_network() -> None:
    city = synthetic_city(3)
    result = run_policy(city, "coverage-straight", days=0.25, seed=3)
    assert result.calls and all(r.response_s is not None for r in result.calls)
    with pytest.raises(ValueError, match="road network"):
        run_policy(city, "closest-road", days=0.1, seed=3)


def test_a_run_collects_cycles_rarely_and_restores_the_gc_thresholds_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, ...]] = []
    real_run = Simulator.run

    async def run(self: Simulator, *args: Any, **kwargs: Any) -> RunResult:
        seen.append(gc.get_threshold())
        return await real_run(self, *args, **kwargs)

    monkeypatch.setattr(Simulator, "run", run)
    before = gc.get_threshold()
    run_policy(synthetic_city(3), "closest-straight", days=0.05, seed=3)
    assert seen == [REBUILD_GC_THRESHOLDS] != [before]
    assert gc.get_threshold() == before


@pytest.mark.parametrize("policy", POLICIES)
def test_the_in_memory_store_gives_the_same_run_and_report_as_sqlite(
    tiny: Scenario, policy: str
) -> None:
    from najda.simulations.replicated import RunInfo, markdown
    from najda.simulations.report import summarise

    on_disk = run_policy(tiny, policy, days=0.5, seed=6, backend="sqlite")
    in_memory = run_policy(tiny, policy, days=0.5, seed=6, backend="memory")
    assert len(on_disk.calls) > 10
    assert _outcome(in_memory) == _outcome(on_disk)
    assert in_memory.extra == on_disk.extra  # the same number of events stored, too
    info = RunInfo(tiny.name, (policy,), 6, (6,), 0.5, 0.0, "test")
    assert markdown(info, {policy: [summarise(tiny, in_memory)]}) == markdown(
        info, {policy: [summarise(tiny, on_disk)]}
    )
    with pytest.raises(ValueError, match="backend"):
        run_policy(tiny, policy, days=0.1, seed=6, backend="tape")


def test_every_move_up_is_recorded_as_the_units_relocated_event(
    tiny: Scenario, tmp_path: Path
) -> None:
    """A move-up is given as a dispatcher gives it: the unit's Relocated event (its crew is
    told), to a registered station, while the unit is available; as many as the run counts."""
    result = run_policy(tiny, "coverage", days=0.5, seed=2, store=tmp_path / "events.sqlite")
    moved = [
        fields
        for topic, fields in _log(tmp_path / "events.sqlite")
        if topic == "najda:Unit.Relocated"
    ]
    assert result.extra["relocations"] == len(moved) > 0
    codes = {s.code for s in tiny.stations}
    assert {m["station_code"] for m in moved} <= codes
    closest = run_policy(tiny, "closest-road", days=0.5, seed=2)
    assert closest.extra["relocations"] == 0
