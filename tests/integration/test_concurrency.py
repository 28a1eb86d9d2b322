"""Concurrent assignments of one unit on real stores: exactly one wins, nothing half-written."""

from __future__ import annotations

import threading
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.errors import ConcurrentChange, UnitNotAvailable
from najda.domain.values import Position, Priority, UnitKind

THREADS = 20
ROUNDS = 3
ACTOR = "dispatcher-1"
CITY = Position(36.75, 3.06)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Outcome:
    """What one racing thread got: the notification position, or the exception raised."""

    incident_id: UUID
    position: int | None = None
    error: BaseException | None = None
    trace: str = ""


def _race(calls: list[Callable[[], int]], incidents: list[UUID]) -> list[Outcome]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=30)
    outcomes = [Outcome(incident_id) for incident_id in incidents]

    def run(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i].position = calls[i]()
        except BaseException as exc:  # recorded and judged by the test, never swallowed
            outcomes[i].error = exc
            outcomes[i].trace = traceback.format_exc()

    threads = [
        threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(len(calls))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        pytest.fail(f"threads still running after 60 s: {stuck}")
    return outcomes


def _events_of(app: Dispatch, originator_id: UUID, topic: str) -> list[Any]:
    """The stored events of one aggregate whose pinned topic is `topic`."""
    return [e for e in app.events.get(originator_id) if getattr(type(e), "TOPIC", "") == topic]


def _logged_topics(app: Dispatch, after: int) -> Counter[str]:
    """How many notifications of each topic the log holds after position `after`."""
    notifications = app.recorder.select_notifications(
        start=after, limit=10_000, inclusive_of_start=False
    )
    return Counter(n.topic for n in notifications)


def _play_round(app: Dispatch, round_no: int) -> Counter[str]:
    before = app.recorder.max_notification_id() or 0
    unit_id = app.register_unit(f"RACE{round_no}", UnitKind.ALS, ACTOR, home=CITY)
    incidents = [
        app.report_incident(
            location=Position(CITY.lat + 0.001 * i, CITY.lon),
            address=f"{i} Rue du Test",
            nature="chest pain",
            priority=Priority.D,
            actor=ACTOR,
        )
        for i in range(THREADS)
    ]

    def assign(incident_id: UUID) -> Callable[[], int]:
        return lambda: app.assign_units(incident_id, [UnitChoice(unit_id)], ACTOR)

    outcomes = _race([assign(i) for i in incidents], incidents)

    unexpected = [
        o
        for o in outcomes
        if o.error is not None and not isinstance(o.error, (ConcurrentChange, UnitNotAvailable))
    ]
    if unexpected:
        pytest.fail(
            f"{len(unexpected)} assignment(s) raised something other than a Conflict; "
            f"first traceback:\n{unexpected[0].trace}"
        )
    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1, f"expected exactly one winner, got {len(winners)}"
    assert len(losers) == THREADS - 1
    winner = winners[0].incident_id

    dispatched = _events_of(app, unit_id, "najda:Unit.Dispatched")
    assert len(dispatched) == 1, f"unit stream holds {len(dispatched)} Dispatched events"
    assert dispatched[0].incident_id == winner
    unit = app.get_unit(unit_id)
    assert unit.incident_id == winner

    for incident_id in incidents:
        assigned = _events_of(app, incident_id, "najda:Incident.UnitAssigned")
        expected = 1 if incident_id == winner else 0
        assert len(assigned) == expected, f"incident {incident_id}: {len(assigned)} UnitAssigned"
        if incident_id != winner:
            stream = list(app.events.get(incident_id))
            assert len(stream) == 1, f"losing incident {incident_id} has {len(stream)} events"
            assert app.get_incident(incident_id).active_unit_ids == []
    assert app.get_incident(winner).active_unit_ids == [unit_id]
    assert len(list(app.events.get(unit_id))) == 2  # Registered, Dispatched
    assert len(list(app.events.get(winner))) == 2  # Reported, UnitAssigned

    # The whole log of the round: the losers left no trace anywhere.
    assert _logged_topics(app, before) == Counter(
        {
            "najda:Unit.Registered": 1,
            "najda:Incident.Reported": THREADS,
            "najda:Unit.Dispatched": 1,
            "najda:Incident.UnitAssigned": 1,
        }
    )

    return Counter(type(o.error).__name__ for o in losers)


@pytest.mark.parametrize("store", STORES)
def test_only_one_of_twenty_concurrent_assignments_of_a_unit_wins(
    store: str,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> None:
    app: Dispatch = request.getfixturevalue(f"{store}_app")
    split: Counter[str] = Counter()
    for round_no in range(ROUNDS):
        lost = _play_round(app, round_no)
        split += lost
        print(f"[{store}] round {round_no}: losers by error {dict(lost)}")
    record_property("losers_by_error", dict(split))
    print(f"[{store}] {ROUNDS} rounds of {THREADS} racers: losers by error {dict(split)}")
