"""Counterfactual replay: a store recorded by the real application, re-run under two
policies beside its own response times (`najda simulate --from-store`)."""

from __future__ import annotations

import csv
import re
import shutil
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import numpy as np
import pytest
from eventsourcing.persistence import StoredEvent

from najda.cli import main
from najda.domain.values import Priority, UnitStatus
from najda.projections.base import NotificationSource
from najda.projections.store.environment import postgres_env, sqlite_env
from najda.simulations.calls_csv import write_calls
from najda.simulations.from_store import read_history, replay_calls
from najda.simulations.jemss import load_jemss
from najda.simulations.scenario import FurtherUnit
from tests.fakes import new_dispatch
from tests.unit.jemss_fixture import write_scenario

FIGURES = ("calls", "mean_min", "p50_min", "p90_min", "within_target", "over_target")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A JEMSS scenario and an event store its calls were dispatched into (closest-road)."""
    root = tmp_path_factory.mktemp("recorded")
    scenario = write_scenario(root / "jemss")
    out = root / "day"
    args = ["simulate", str(scenario), "--policy", "closest-road", "--days", "0.4"]
    assert main([*args, "--seed", "5", "--no-plots", "--out", str(out), "--no-progress"]) == 0
    return scenario, out / "events-closest-road.sqlite"


def _direct(store: Path, scenario: Path, start: datetime | None = None) -> dict[str, list[float]]:
    """Response times per priority class straight from the store's events: call received
    (Incident.Reported) to the first on_scene of a unit assigned to the incident."""
    names = {c.priority: name for name, c in reversed(load_jemss(scenario).priorities.items())}
    called: dict[UUID, tuple[datetime, Priority]] = {}
    working: dict[UUID, UUID] = {}  # unit -> incident it was last assigned to
    arrived: dict[UUID, datetime] = {}
    app = new_dispatch(sqlite_env(store))
    try:
        source = NotificationSource(app)
        after = 0
        while batch := source.read(after, 500):
            for item in batch:
                e = item.event
                if item.topic == "najda:Incident.Reported":
                    called[item.originator_id] = (e.call_received_at, Priority(e.priority))
                elif item.topic == "najda:Incident.UnitAssigned":
                    working[e.unit_id] = item.originator_id
                elif item.topic == "najda:Unit.StatusChanged" and (
                    UnitStatus(e.status) is UnitStatus.ON_SCENE
                ):
                    incident = working[item.originator_id]
                    arrived.setdefault(incident, e.at)
            after = batch[-1].position
    finally:
        app.close()
    out: dict[str, list[float]] = defaultdict(list)
    for incident, (at, priority) in called.items():
        if incident in arrived and (start is None or at >= start):
            out[names[priority]].append((arrived[incident] - at).total_seconds())
    return out


def _rows(report: Path, policy: str) -> dict[str, dict[str, str]]:
    with report.open(newline="") as f:
        return {r["priority"]: r for r in csv.DictReader(f) if r["policy"] == policy}


def _formatted(times: list[float], target_s: float) -> dict[str, str]:
    """The figures as the report formats them."""
    t = np.array(times)
    within = float(np.mean(t <= target_s))
    return {
        "calls": str(t.size),
        "mean_min": f"{t.mean() / 60:.2f}",
        "p50_min": f"{np.percentile(t, 50) / 60:.2f}",
        "p90_min": f"{np.percentile(t, 90) / 60:.2f}",
        "within_target": f"{within:.3f}",
        "over_target": f"{1 - within:.3f}",
    }


def test_a_recorded_store_is_re_run_under_two_policies_beside_what_happened(
    recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, store = recorded
    out = tmp_path / "replay"
    args = ["simulate", str(scenario), "--from-store", str(store), "--policy", "closest-road"]
    assert main([*args, "--policy", "coverage", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| as happened | highPriority |" in printed and "| coverage | highPriority |" in printed
    waited = re.search(r"(\d+) waited for a free ambulance", printed)
    assert waited and int(waited.group(1)) > 0  # the day had a queue: its waits are re-decided
    report = out / "report.csv"
    happened = _rows(report, "as happened")
    direct = _direct(store, scenario)
    classes = load_jemss(scenario).priorities
    assert set(happened) == {*direct, "all"} and len(direct) >= 2
    for name, times in direct.items():
        expected = _formatted(times, classes[name].target_s)
        assert {k: happened[name][k] for k in FIGURES} == expected
    every = [t for times in direct.values() for t in times]
    assert happened["all"]["calls"] == str(len(every))
    # The same calls under the policy that dispatched them: the same figures again (the calls
    # that waited for an ambulance wait again, as long, because none is free sooner).
    same = _rows(report, "closest-road")
    for name in happened:
        assert {k: same[name][k] for k in FIGURES} == {k: happened[name][k] for k in FIGURES}
    # Under coverage: every recorded call re-run, each one in its own event store.
    other = _rows(report, "coverage")
    assert {n: other[n]["calls"] for n in other} == {n: happened[n]["calls"] for n in happened}
    for policy in ("closest-road", "coverage"):
        assert (out / f"events-{policy}.sqlite").stat().st_size > 0
    replayed = list(csv.DictReader((out / "calls.csv").read_text().splitlines()))
    assert len(replayed) == len(every)
    for name in ("response_cdf.png", "within_target.png"):  # what happened beside the policies
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_data_directory_is_read_as_its_embedded_store(
    recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, store = recorded
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(store, data / "najda.sqlite")
    args = ["simulate", str(scenario), "--from-store", str(data), "--policy", "closest-road"]
    assert main([*args, "--no-plots", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    capsys.readouterr()
    rows = _rows(tmp_path / "out" / "report.csv", "as happened")
    assert rows["all"]["calls"] == str(sum(len(t) for t in _direct(store, scenario).values()))


def test_a_window_replays_only_the_calls_received_in_it(
    recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, store = recorded
    whole = _direct(store, scenario)
    first = min(_first_calls(store))
    start = first + timedelta(hours=4)
    out = tmp_path / "window"
    args = ["simulate", str(scenario), "--from-store", str(store), "--policy", "coverage"]
    window = ["--from", start.isoformat(), "--no-plots", "--out", str(out), "--no-progress"]
    assert main([*args, *window]) == 0
    capsys.readouterr()
    part = _direct(store, scenario, start)
    counts = {n: r["calls"] for n, r in _rows(out / "report.csv", "as happened").items()}
    assert counts["all"] == str(sum(len(t) for t in part.values()))
    assert 0 < sum(len(t) for t in part.values()) < sum(len(t) for t in whole.values())


def _first_calls(store: Path) -> list[datetime]:
    app = new_dispatch(sqlite_env(store))
    try:
        return [
            item.event.call_received_at
            for item in NotificationSource(app).read(0, 100_000)
            if item.topic == "najda:Incident.Reported"
        ]
    finally:
        app.close()


def test_bad_replay_arguments_are_refused_naming_the_option(
    recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, store = recorded
    base = ["simulate", str(scenario), "--policy", "coverage", "--no-progress"]
    assert main([*base, "--from-store", str(tmp_path / "none.sqlite")]) == 2
    assert "--from-store" in capsys.readouterr().err
    assert main([*base, "--from-store", str(tmp_path)]) == 2  # a data directory with no store
    assert "najda.sqlite" in capsys.readouterr().err
    assert main([*base, "--from-store", str(store), "--from", "2026-01-05T04:00"]) == 2
    err = capsys.readouterr().err
    assert "--from" in err and "offset" in err
    assert main([*base, "--from-store", str(store), "--to", "yesterday"]) == 2
    assert "--to" in capsys.readouterr().err
    assert main([*base, "--from", "2026-01-05T04:00:00+00:00"]) == 2
    assert "--from-store" in capsys.readouterr().err
    assert main([*base, "--from-store", str(store), "--calls", str(store)]) == 2
    assert "not both" in capsys.readouterr().err
    late = "2030-01-01T00:00:00+00:00"
    assert main([*base, "--from-store", str(store), "--from", late]) == 2
    assert "no call" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def _copy_to_postgres(store: Path, url: str) -> int:
    """Every event of the SQLite store, in log order, appended to a PostgreSQL store (as a
    server on PostgreSQL would have recorded them); how many."""
    source = new_dispatch(sqlite_env(store))
    target = new_dispatch(postgres_env(url))
    copied = 0
    try:
        after = 0
        while rows := source.recorder.select_notifications(after + 1, 2_000):
            target.recorder.insert_events(
                [StoredEvent(r.originator_id, r.originator_version, r.topic, r.state) for r in rows]
            )
            after, copied = rows[-1].id, copied + len(rows)
    finally:
        source.close()
        target.close()
    return copied


@pytest.mark.postgres
def test_a_postgresql_store_is_replayed_as_its_sqlite_copy(
    recorded: tuple[Path, Path], pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--from-store postgresql://...`: the same calls, the same figures as happened, and
    the original policy reproduces them exactly, as from the SQLite store."""
    scenario, store = recorded
    assert _copy_to_postgres(store, pg_url) > 0
    reports = {}
    for name, source in (("sqlite", str(store)), ("postgres", pg_url)):
        out = tmp_path / name
        args = ["simulate", str(scenario), "--from-store", source, "--policy", "closest-road"]
        assert main([*args, "--no-plots", "--out", str(out), "--no-progress"]) == 0
        reports[name] = out / "report.csv"
    printed = capsys.readouterr().out
    assert f"store {pg_url}:" in printed
    happened = _rows(reports["postgres"], "as happened")
    assert happened == _rows(reports["sqlite"], "as happened")
    direct = _direct(store, scenario)
    assert happened["all"]["calls"] == str(sum(len(t) for t in direct.values()))
    same = _rows(reports["postgres"], "closest-road")
    for name in happened:
        assert {k: same[name][k] for k in FIGURES} == {k: happened[name][k] for k in FIGURES}
    assert (tmp_path / "postgres" / "calls.csv").read_bytes() == (
        tmp_path / "sqlite" / "calls.csv"
    ).read_bytes()


@pytest.mark.postgres
def test_a_postgresql_database_without_a_store_is_refused_naming_the_option(
    recorded: tuple[Path, Path], pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, _store = recorded
    base = ["simulate", str(scenario), "--policy", "coverage", "--no-progress"]
    assert main([*base, "--from-store", pg_url]) == 2
    err = capsys.readouterr().err
    assert "--from-store" in err and "not a Najda event store" in err
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_database_i14"
    assert main([*base, "--from-store", missing]) == 2
    err = capsys.readouterr().err  # at once, naming the reason (not the pool's time-out)
    assert "cannot open the PostgreSQL store" in err and "does not exist" in err
    nameless = pg_url.rsplit("/", 1)[0] + "/"
    assert main([*base, "--from-store", nameless]) == 2
    assert "names no database" in capsys.readouterr().err


def _assignments(store: Path) -> dict[UUID, list[datetime]]:
    """When each incident of a store was assigned each of its units, in order."""
    times: dict[UUID, list[datetime]] = defaultdict(list)
    app = new_dispatch(sqlite_env(store))
    try:
        for item in NotificationSource(app).read(0, 1_000_000):
            if item.topic == "najda:Incident.UnitAssigned":
                times[item.originator_id].append(item.event.at)
    finally:
        app.close()
    return dict(times)


def _gaps(store: Path) -> dict[UUID, float]:
    """Seconds from each two-unit incident's first assignment to its second."""
    return {
        i: round((t[1] - t[0]).total_seconds(), 3)
        for i, t in _assignments(store).items()
        if len(t) == 2
    }


def test_a_multi_unit_call_is_re_run_with_as_many_ambulances(
    recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A day where some calls needed two ambulances, the second sent with the first or
    asked for 4 minutes later (recorded so by the real application): the replay sends two
    again, as long apart, and under the original policy reproduces the day exactly."""
    scenario, store = recorded
    calls = replay_calls(read_history(store, load_jemss(scenario)))
    further = {0: (FurtherUnit(0.0, 420.0),), 2: (FurtherUnit(240.0, 300.0),)}
    doubled = [replace(c, backups=further.get(n % 4, ())) for n, c in enumerate(calls)]
    write_calls(doubled, tmp_path / "calls.csv")
    day = tmp_path / "day"
    base = ["simulate", str(scenario), "--policy", "closest-road", "--no-progress"]
    days = str(max(c.at_s for c in calls) / 86_400 + 0.01)
    assert (
        main([*base, "--calls", str(tmp_path / "calls.csv"), "--days", days, "--no-plots",
              "--out", str(day)])
        == 0
    )
    recorded_store = day / "events-closest-road.sqlite"
    capsys.readouterr()
    history = read_history(recorded_store, load_jemss(scenario))
    multi = [c.call for c in history.calls if c.call.backups]
    # Calls whose second ambulance went out (one asked for after the first was done was
    # not), each read back with that one further ambulance, asked for as long after the
    # first as it was sent, or earlier when it had to wait for a free ambulance.
    gaps = _gaps(recorded_store)
    assert 0 < len(multi) == len(gaps) <= len(doubled[::2])
    assert all(len(c.backups) == 1 for c in multi)
    after = {
        c.incident_id: round(c.call.backups[0].after_s, 3) for c in history.calls if c.call.backups
    }
    assert set(after) == set(gaps) and all(0 <= after[i] <= gaps[i] for i in gaps)
    assert 0.0 in after.values() and max(after.values()) >= 240.0
    assert sum(after[i] == gaps[i] for i in gaps) >= len(gaps) / 2
    stayed = {round(c.backups[0].on_scene_s, 2) for c in multi}
    assert stayed <= {420.0, 300.0} and len(stayed) == 2
    out = tmp_path / "replay"
    args = [*base, "--from-store", str(recorded_store), "--policy", "coverage"]
    assert main([*args, "--no-plots", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{len(multi)} needed more than one ambulance" in printed
    happened = _rows(out / "report.csv", "as happened")
    same = _rows(out / "report.csv", "closest-road")
    for name in happened:
        assert {k: same[name][k] for k in FIGURES} == {k: happened[name][k] for k in FIGURES}
    # The original policy sends the same units per incident, as long apart; another sends
    # the second ambulance too, unless none was free before the first one was done.
    original = sorted(len(t) for t in _assignments(recorded_store).values())
    again = out / "events-closest-road.sqlite"
    assert sorted(len(t) for t in _assignments(again).values()) == original
    assert sorted(_gaps(again).values()) == sorted(gaps.values())
    other = sorted(len(t) for t in _assignments(out / "events-coverage.sqlite").values())
    assert len(other) == len(original) and max(other) == 2
    assert len(multi) / 2 <= other.count(2) <= len(multi)
    replayed = list(csv.DictReader((out / "calls.csv").read_text().splitlines()))
    assert sum(1 for r in replayed if r["backups"]) == len(multi)
