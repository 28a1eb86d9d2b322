"""A deterministic demo area: a fictional coastal city with outlying villages, for `najda serve`."""

from __future__ import annotations

from dataclasses import dataclass

from najda.domain.application import Dispatch
from najda.domain.dispatch.stations_hospitals import station_id_for
from najda.domain.values import Position, UnitKind

K = UnitKind
ACTOR = "demo-seed"
#: Centre of the demo city of Sahil (fictional; the coordinates of a mid-size coastal city).
CITY_CENTRE = Position(36.75, 3.06)


@dataclass(frozen=True)
class DemoStation:
    """A station of the demo area; `rural` marks the village stations."""

    code: str
    name: str
    lat: float
    lon: float
    rural: bool = False


@dataclass(frozen=True)
class DemoHospital:
    """A receiving hospital of the demo area."""

    code: str
    name: str
    lat: float
    lon: float
    services: tuple[str, ...]


@dataclass(frozen=True)
class DemoUnit:
    """A unit of the demo roster, based at a station."""

    call_sign: str
    kind: UnitKind
    station: str
    capabilities: tuple[str, ...] = ()


STATIONS: tuple[DemoStation, ...] = (
    DemoStation("SAH-CEN", "Sahil Central", 36.7520, 3.0580),
    DemoStation("SAH-PRT", "Port", 36.7700, 3.0700),
    DemoStation("SAH-HTS", "Heights", 36.7350, 3.0350),
    DemoStation("SAH-EST", "East Gate", 36.7280, 3.1050),
    DemoStation("SAH-WST", "West Corniche", 36.7600, 3.0000),
    DemoStation("SAH-UNV", "University", 36.7120, 3.0750),
    # Villages 18–36 km inland, one station each: rural coverage is visibly thinner.
    DemoStation("AZT", "Aïn Zitouna", 36.5900, 3.0500, rural=True),
    DemoStation("TLN", "Tala Nour", 36.5600, 3.3300, rural=True),
    DemoStation("OGH", "Oued Ghaba", 36.5000, 2.8000, rural=True),
)

HOSPITALS: tuple[DemoHospital, ...] = (
    DemoHospital(
        "CHU-SAH",
        "Sahil University Hospital",
        36.7150,
        3.0800,
        ("cardiology", "stemi", "stroke", "trauma", "emergency"),
    ),
    DemoHospital(
        "GEN-CEN", "Central General Hospital", 36.7550, 3.0500, ("emergency", "maternity")
    ),
    DemoHospital("CHL-SAH", "Children's Hospital", 36.7400, 3.0900, ("emergency", "paediatrics")),
    DemoHospital("PSY-SLM", "Es-Salam Mental Health Centre", 36.7320, 3.0200, ("psychiatry",)),
)

_ALS = ("advanced-airway", "cardiac-monitor")
_BLS = ("oxygen",)
_CRISIS = ("mental-health",)

UNITS: tuple[DemoUnit, ...] = (
    DemoUnit("A10", K.ALS, "SAH-CEN", _ALS),
    DemoUnit("A13", K.ALS, "SAH-CEN", _ALS),
    DemoUnit("B11", K.BLS, "SAH-CEN", _BLS),
    DemoUnit("R12", K.RESPONDER, "SAH-CEN"),
    DemoUnit("C1", K.CRISIS, "SAH-CEN", _CRISIS),
    DemoUnit("S1", K.SUPERVISOR, "SAH-CEN"),
    DemoUnit("A20", K.ALS, "SAH-PRT", _ALS),
    DemoUnit("B21", K.BLS, "SAH-PRT", _BLS),
    DemoUnit("R22", K.RESPONDER, "SAH-PRT"),
    DemoUnit("A30", K.ALS, "SAH-HTS", _ALS),
    DemoUnit("B31", K.BLS, "SAH-HTS", _BLS),
    DemoUnit("C3", K.CRISIS, "SAH-HTS", _CRISIS),
    DemoUnit("A40", K.ALS, "SAH-EST", _ALS),
    DemoUnit("A44", K.ALS, "SAH-EST", _ALS),
    DemoUnit("B41", K.BLS, "SAH-EST", _BLS),
    DemoUnit("B42", K.BLS, "SAH-EST", _BLS),
    DemoUnit("R43", K.RESPONDER, "SAH-EST"),
    DemoUnit("A50", K.ALS, "SAH-WST", _ALS),
    DemoUnit("B51", K.BLS, "SAH-WST", _BLS),
    DemoUnit("R52", K.RESPONDER, "SAH-WST"),
    DemoUnit("A60", K.ALS, "SAH-UNV", (*_ALS, "neonatal")),
    DemoUnit("B61", K.BLS, "SAH-UNV", _BLS),
    DemoUnit("B62", K.BLS, "SAH-UNV", _BLS),
    DemoUnit("C6", K.CRISIS, "SAH-UNV", _CRISIS),
    DemoUnit("S2", K.SUPERVISOR, "SAH-UNV"),
    DemoUnit("B71", K.BLS, "AZT", _BLS),
    DemoUnit("R72", K.RESPONDER, "AZT"),
    DemoUnit("B81", K.BLS, "TLN", _BLS),
    DemoUnit("B91", K.BLS, "OGH", _BLS),
    DemoUnit("R92", K.RESPONDER, "OGH"),
)


@dataclass(frozen=True)
class DemoPatient:
    """A remotely monitored patient of the demo area (identifier mrn-…)."""

    identifier: str
    name: str
    lat: float
    lon: float
    address: str
    phone: str
    conditions: tuple[str, ...]
    notes: str = ""


PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient(
        "mrn-0042",
        "Fatima Belkacem",
        36.5930,
        3.0540,
        "4 Rue des Oliviers, Aïn Zitouna",
        "+213 555 01 42 42",
        ("copd",),
        "Lives alone; home oxygen 2 L/min; key with the neighbour at no. 6.",
    ),
    DemoPatient(
        "mrn-0107",
        "Rachid Mansouri",
        36.7460,
        3.0710,
        "12 Boulevard du Front de Mer, Sahil, 3rd floor",
        "+213 555 01 07 07",
        ("heart_failure", "diabetes"),
        "Lift often out of order: stairs only.",
    ),
)


@dataclass(frozen=True)
class DemoSummary:
    """What the seed registered."""

    stations: int
    hospitals: int
    units: int
    patients: int = 0


def seed_demo(dispatch: Dispatch) -> DemoSummary:
    """Register the demo stations, hospitals, units and monitored patients (call on an
    empty store)."""
    for s in STATIONS:
        dispatch.register_station(s.code, s.name, Position(s.lat, s.lon), ACTOR)
    for h in HOSPITALS:
        dispatch.register_hospital(h.code, h.name, Position(h.lat, h.lon), h.services, ACTOR)
    for u in UNITS:
        dispatch.register_unit(
            u.call_sign,
            u.kind,
            ACTOR,
            capabilities=u.capabilities,
            station_id=station_id_for(u.station),
        )
    for patient in PATIENTS:
        dispatch.enrol_patient(
            identifier=patient.identifier,
            name=patient.name,
            home=Position(patient.lat, patient.lon),
            address=patient.address,
            actor=ACTOR,
            phone=patient.phone,
            conditions=patient.conditions,
            notes=patient.notes,
            devices=["demo-device"],
        )
    return DemoSummary(len(STATIONS), len(HOSPITALS), len(UNITS), len(PATIENTS))
