"""Use cases of reference data: stations, receiving hospitals and the units on the roster."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from najda.domain.dispatch.stations_hospitals import (
    Hospital,
    Station,
    hospital_id_for,
    station_id_for,
)
from najda.domain.dispatch.unit import Unit, unit_id_for
from najda.domain.errors import (
    InvalidValue,
)
from najda.domain.persistence.atomic_store import DispatchStore
from najda.domain.values import (
    MAX_NAME,
    MAX_SHORT,
    Position,
    UnitKind,
    require_call_sign,
    require_text,
)


class ReferenceCommands(DispatchStore):
    """Stations, hospitals and units, each keyed by its natural key."""

    def register_station(self, code: str, name: str, location: Position, actor: str) -> UUID:
        """Add a station; its code is its natural key."""
        code = require_text("code", code, MAX_SHORT)
        station = Station(
            id=station_id_for(code),
            code=code,
            name=require_text("name", name, MAX_NAME),
            location=location,
            actor=actor,
            at=self._now(),
        )
        self._store(station, creating=f"station {code}")
        return station.id

    def register_hospital(
        self, code: str, name: str, location: Position, services: Iterable[str], actor: str
    ) -> UUID:
        """Add a receiving hospital; its code is its natural key."""
        code = require_text("code", code, MAX_SHORT)
        hospital = Hospital(
            id=hospital_id_for(code),
            code=code,
            name=require_text("name", name, MAX_NAME),
            location=location,
            services=sorted({s.strip().lower() for s in services if s.strip()}),
            actor=actor,
            at=self._now(),
        )
        self._store(hospital, creating=f"hospital {code}")
        return hospital.id

    def register_unit(
        self,
        call_sign: str,
        kind: UnitKind,
        actor: str,
        *,
        capabilities: Iterable[str] = (),
        station_id: UUID | None = None,
        home: Position | None = None,
    ) -> UUID:
        """Put a response team on the roster, available at its station (or home point)."""
        call_sign = require_call_sign(call_sign)
        if station_id is not None:
            station = self.get_station(station_id)
            home = home or station.location
        if home is None:
            raise InvalidValue("home", "a unit needs a station or a home position")
        unit = Unit(
            id=unit_id_for(call_sign),
            call_sign=call_sign,
            kind=UnitKind(kind),
            capabilities=sorted({c.strip().lower() for c in capabilities if c.strip()}),
            station_id=station_id,
            home=home,
            actor=actor,
            at=self._now(),
        )
        self._store(unit, creating=f"unit {call_sign}")
        return unit.id
