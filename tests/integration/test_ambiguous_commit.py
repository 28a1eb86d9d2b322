"""A save retried after its commit went through (answer lost with the connection) succeeds;
a different save under the same key still conflicts. Both stores."""

from __future__ import annotations

import copy

import pytest

from najda.domain.application import Dispatch
from najda.domain.dispatch.unit import Unit, unit_id_for
from najda.domain.errors import AlreadyExists
from najda.domain.values import Position, UnitKind


def _unit(call_sign: str, home: Position, app: Dispatch) -> Unit:
    return Unit(
        id=unit_id_for(call_sign),
        call_sign=call_sign,
        kind=UnitKind.ALS,
        capabilities=[],
        station_id=None,
        home=home,
        actor="roster",
        at=app.clock(),
    )


@pytest.mark.parametrize(
    "store", ["sqlite_app", pytest.param("postgres_app", marks=pytest.mark.postgres)]
)
def test_a_repeated_save_of_the_same_events_is_taken_as_done(
    store: str, request: pytest.FixtureRequest
) -> None:
    app: Dispatch = request.getfixturevalue(store)
    unit = _unit("M-1", Position(36.7, 3.0), app)
    retried = copy.deepcopy(unit)  # the same events, as a driver retry would send them
    first = app._store(unit, creating="unit M-1")
    head = app._store(retried, creating="unit M-1")
    assert head >= first
    assert app.get_unit(unit.id).version == 1

    other = _unit("M-1", Position(36.8, 3.1), app)  # same key, different facts
    with pytest.raises(AlreadyExists):
        app._store(other, creating="unit M-1")
    assert app.get_unit(unit.id).home == Position(36.7, 3.0)
