"""The demo on a real area: its hospitals and stations from OpenStreetMap, units placed at them."""

from __future__ import annotations

from api.demo import ACTOR, DemoSummary
from domain.application import Dispatch
from domain.reference import station_id_for
from domain.values import Position, UnitKind
from geo.area import Area, Facility

#: Demo assumption: an imported hospital's emergency department takes every kind of patient.
DEMO_HOSPITAL_SERVICES = (
    "emergency", "cardiology", "stemi", "stroke", "trauma", "maternity", "paediatrics",
    "psychiatry",
)  # fmt: skip
_ALS = ("advanced-airway", "cardiac-monitor")
K = UnitKind


def roster(facilities: list[Facility]) -> list[tuple[str, UnitKind, str, tuple[str, ...]]]:
    """Units for the area's stations: (call sign, kind, station code, capabilities). The first
    ambulance station holds A10 (the demo crew's unit), A11, B12, C1 and S1; every other
    ambulance station an ALS and a BLS; every fire station a first responder."""
    units: list[tuple[str, UnitKind, str, tuple[str, ...]]] = []
    ambulance = [f for f in facilities if f.kind == "ambulance_station"]
    fire = [f for f in facilities if f.kind == "fire_station"]
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
    units = roster(area.facilities)
    for call_sign, kind, station, capabilities in units:
        dispatch.register_unit(
            call_sign,
            kind,
            ACTOR,
            capabilities=capabilities,
            station_id=station_id_for(station),
        )
    return DemoSummary(len(stations), len(hospitals), len(units), 0)
