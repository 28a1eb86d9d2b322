"""One mapping of domain errors to status codes, for REST answers and socket replies."""

from __future__ import annotations

from najda.api.auth import Forbidden, Unauthenticated
from najda.api.errors import status_for
from najda.api.throttle import TooManyFailures
from najda.domain.access.user import LastAdministrator
from najda.domain.errors import DispatchError, IncidentNotOpen, InvalidValue, UnitNotFound


def test_the_most_specific_error_class_decides_the_status() -> None:
    assert status_for(InvalidValue("lat", "give a number")) == 422
    assert status_for(UnitNotFound("A1")) == 404
    assert status_for(LastAdministrator("admin")) == 409
    assert status_for(Unauthenticated("no token")) == 401
    assert status_for(Forbidden("not for crews")) == 403
    assert status_for(DispatchError("refused")) == 400


def test_a_conflict_on_an_ended_incident_is_409_and_throttling_429() -> None:
    assert status_for(IncidentNotOpen.__new__(IncidentNotOpen)) == 409
    assert status_for(TooManyFailures.__new__(TooManyFailures)) == 429
