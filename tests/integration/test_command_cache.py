"""Two Dispatch instances on one store (as two API processes): a stale command cache never
decides a command wrongly, it only costs a re-run on fresh state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.errors import UnitNotAvailable
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.store.environment import postgres_env, sqlite_env
from tests.fakes import new_dispatch

HOME = Position(36.75, 3.06)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_apps(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Dispatch, Dispatch]]:
    if request.param == "sqlite":
        env = sqlite_env(tmp_path / "events.sqlite")
    else:
        env = postgres_env(request.getfixturevalue("pg_url"))
    first, second = new_dispatch(env=env), new_dispatch(env=env)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def _incident(app: Dispatch) -> object:
    return app.report_incident(
        location=HOME, address="1 Rue A", nature="fall", priority=Priority.C, actor="d.one"
    )


def test_release_succeeds_when_another_process_assigned_the_unit(
    two_apps: tuple[Dispatch, Dispatch],
) -> None:
    a, b = two_apps
    unit = a.register_unit("M-1", UnitKind.ALS, "admin", home=HOME)
    incident = _incident(b)
    a.update_unit_status(unit, UnitStatus.OUT_OF_SERVICE, "crew")  # a caches the unit
    a.update_unit_status(unit, UnitStatus.AVAILABLE, "crew")
    b.assign_units(incident, [UnitChoice(unit)], "d.two")  # type: ignore[arg-type]

    # a's cached copy says "available, on no incident": the refusal must not stand.
    a.release_unit(incident, unit, "re-assigned", "d.one")  # type: ignore[arg-type]

    assert b.get_unit(unit).status is UnitStatus.AVAILABLE
    assert not b.get_incident(incident).active_unit_ids  # type: ignore[arg-type]


def test_assigning_a_unit_another_process_dispatched_is_refused_not_doubled(
    two_apps: tuple[Dispatch, Dispatch],
) -> None:
    a, b = two_apps
    unit = a.register_unit("M-2", UnitKind.ALS, "admin", home=HOME)
    first, second = _incident(a), _incident(a)
    a.update_unit_status(unit, UnitStatus.OUT_OF_SERVICE, "crew")
    a.update_unit_status(unit, UnitStatus.AVAILABLE, "crew")  # cached as available in a
    b.assign_units(first, [UnitChoice(unit)], "d.two")  # type: ignore[arg-type]

    with pytest.raises(UnitNotAvailable):
        a.assign_units(second, [UnitChoice(unit)], "d.one")  # type: ignore[arg-type]

    dispatched = [e for e in b.events.get(unit) if type(e).__name__ == "Dispatched"]
    assert len(dispatched) == 1
    assert not b.get_incident(second).assignments  # type: ignore[arg-type]


def test_status_change_after_another_process_moved_the_unit_on(
    two_apps: tuple[Dispatch, Dispatch],
) -> None:
    a, b = two_apps
    unit = a.register_unit("M-3", UnitKind.ALS, "admin", home=HOME)
    incident = _incident(a)
    a.assign_units(incident, [UnitChoice(unit)], "d.one")  # type: ignore[arg-type]
    b.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew")

    # a still holds "dispatched"; on scene follows en route, so it must be accepted.
    a.update_unit_status(unit, UnitStatus.ON_SCENE, "crew")

    assert b.get_unit(unit).status is UnitStatus.ON_SCENE
