"""The demo on a real area: its hospitals and stations from OpenStreetMap, units placed at them."""

from __future__ import annotations

from najda.api.demo import ACTOR, DemoSummary
from najda.domain.application import Dispatch
from najda.domain.dispatch.stations_hospitals import station_id_for
from najda.domain.values import Position, UnitKind
from najda.geo.area import Area, Facility
from najda.geo.planar import point_m

#: Demo assumption: an imported hospital's emergency department takes every kind of patient.
DEMO_HOSPITAL_SERVICES = (
    "emergency", "cardiology", "stemi", "stroke", "trauma", "maternity", "paediatrics",
    "psychiatry",
)  # fmt: skip
_ALS = ("advanced-airway", "cardiac-monitor")
K = UnitKind


def served(station: Facility, area: Area, radius_m: float = 3_000.0) -> int:
    """How many addresses lie within `radius_m` of a station (where the calls will come from)."""
    return sum(
        1 for a in area.addresses if point_m(station.lat, station.lon, a.lat, a.lon) <= radius_m
    )


def roster(area: Area) -> list[tuple[str, UnitKind, str, tuple[str, ...]]]:
    """Units for the area's stations: (call sign, kind, station code, capabilities). The
    ambulance station with the most addresses around it holds A10 (the demo crew's unit), A11,
    B12, C1 and S1; every other ambulance station an ALS and a BLS; every fire station a first
    responder."""
    units: list[tuple[str, UnitKind, str, tuple[str, ...]]] = []
    ambulance = sorted(
        (f for f in area.facilities if f.kind == "ambulance_station"),
        key=lambda f: (-served(f, area), f.code),
    )
    fire = [f for f in area.facilities if f.kind == "fire_station"]
    for i, station in enumerate(ambulance):
        if i == 0:
            units += [
                ("A10", K.ALS, station.code, _ALS),
                ("A11", K.ALS, station.code, _ALS),
                ("B12", K.BLS, station.code, ("oxygen",)),
                ("C1", K.CRISIS, station.code, ("mental-health",)),
                ("S1", K.SUPERVISOR, station.code, ()),
            ]
        else:
            units += [
                (f"A{10 * (i + 1)}", K.ALS, station.code, _ALS),
                (f"B{10 * (i + 1) + 1}", K.BLS, station.code, ("oxygen",)),
            ]
    for i, station in enumerate(fire):
        units.append((f"R{50 + i}", K.RESPONDER, station.code, ()))
    return units


def seed_area_demo(dispatch: Dispatch, area: Area) -> DemoSummary:
    """Register the area's hospitals and stations and the demo roster (on an empty store)."""
    hospitals = [f for f in area.facilities if f.kind == "hospital"]
    stations = [f for f in area.facilities if f.kind != "hospital"]
    for h in hospitals:
        dispatch.register_hospital(
            h.code, h.name, Position(h.lat, h.lon), DEMO_HOSPITAL_SERVICES, ACTOR
        )
    for s in stations:
        dispatch.register_station(s.code, s.name, Position(s.lat, s.lon), ACTOR)
    units = roster(area)
    for call_sign, kind, station, capabilities in units:
        dispatch.register_unit(
            call_sign,
            kind,
            ACTOR,
            capabilities=capabilities,
            station_id=station_id_for(station),
        )
    return DemoSummary(len(stations), len(hospitals), len(units), 0)
