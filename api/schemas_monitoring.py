"""Request and response bodies of remote monitoring: patients, bounds, readings, alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field

from najda.api.schemas import Lat, Lon, _In, _lower_token, _optional_text, _text
from najda.domain.care.patient_identity import MAX_DEVICES
from najda.domain.care.vitals import Condition, Direction, Severity, Vital
from najda.domain.values import (
    MAX_ADDRESS,
    MAX_DEVICE,
    MAX_IDENTIFIER,
    MAX_NAME,
    MAX_REASON,
    MAX_REMARK,
    MAX_SHORT,
)

VitalIn = Annotated[Vital, BeforeValidator(_lower_token)]
ConditionIn = Annotated[Condition, BeforeValidator(_lower_token)]
BoundValue = Annotated[
    float | None,
    Field(ge=0, le=2000, allow_inf_nan=False, description="in the vital's unit; null: not watched"),
]


class BoundsIn(_In):
    """Some of a vital's bounds (those left out stay as they are). A value below a low
    bound or above a high bound breaches it."""

    critical_low: BoundValue = None
    warning_low: BoundValue = None
    warning_high: BoundValue = None
    critical_high: BoundValue = None

    def changes(self) -> dict[str, float | None]:
        """The bounds given, null included (a bound no longer watched)."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class ThresholdsIn(_In):
    """Bounds per vital: heart rate and respiratory rate in /min, SpO2 in %, blood
    pressures in mm[Hg], glucose in mg/dL."""

    heart_rate: BoundsIn | None = None
    spo2: BoundsIn | None = None
    systolic_bp: BoundsIn | None = None
    diastolic_bp: BoundsIn | None = None
    respiratory_rate: BoundsIn | None = None
    glucose: BoundsIn | None = None

    def changes(self) -> dict[Vital, dict[str, float | None]]:
        """Per vital, the bounds given."""
        out: dict[Vital, dict[str, float | None]] = {}
        for vital in Vital:
            bounds = getattr(self, vital.value)
            if bounds is not None:
                out[vital] = bounds.changes()
        return out


class PatientCreate(_In):
    """A patient to monitor at home."""

    identifier: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9\-.]{1,64}$",
            description="the programme's id for the patient; FHIR observations name them as"
            " Patient/<identifier>",
        ),
    ]
    name: Annotated[str, _text(MAX_NAME)]
    lat: Lat
    lon: Lon
    address: Annotated[str, _text(MAX_ADDRESS), Field(description="where crews will go")]
    phone: Annotated[str, _optional_text(MAX_SHORT)] = ""
    conditions: Annotated[list[ConditionIn], Field(max_length=10, default_factory=list)]
    thresholds: ThresholdsIn | None = Field(
        default=None, description="overrides of the defaults for the patient's conditions"
    )
    notes: Annotated[
        str, _optional_text(MAX_REMARK), Field(description="for crews: access, etc.")
    ] = ""
    identifier_system: Annotated[
        str | None,
        Field(
            max_length=MAX_IDENTIFIER,
            description="the system of the identifier (a URI); default NAJDA_PATIENT_SYSTEM,"
            " the system a short Patient/<identifier> reference names",
        ),
    ] = None
    devices: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=MAX_DEVICE)]],
        Field(
            max_length=MAX_DEVICES,
            default_factory=list,
            description="names of the device users (gateways) that may post this patient's"
            " vitals; other devices are refused",
        ),
    ]


class DevicesChange(_In):
    """The device users that may post a patient's vitals (replaces the list)."""

    devices: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=MAX_DEVICE)]],
        Field(max_length=MAX_DEVICES),
    ]


class ThresholdsChange(_In):
    """New bounds for some vitals; `reset` starts again from the conditions' defaults."""

    thresholds: ThresholdsIn = Field(default_factory=ThresholdsIn)
    reset: bool = False
    reason: Annotated[str, _optional_text(MAX_REASON)] = ""


class PatientDischarge(_In):
    """Why monitoring ends."""

    reason: Annotated[str, _text(MAX_REASON)]


class AlertAcknowledge(_In):
    """A nurse has seen the alert (and may say what was done)."""

    note: Annotated[str, _optional_text(MAX_REMARK)] = ""


class BoundsPublic(BaseModel):
    """A vital's bounds (null: not watched)."""

    critical_low: float | None
    warning_low: float | None
    warning_high: float | None
    critical_high: float | None


class ReadingPublic(BaseModel):
    """A reading, with how it stands against the patient's bounds now."""

    vital: Vital
    value: float
    unit: str = Field(description="UCUM code of the value")
    at: datetime = Field(description="when it was measured")
    severity: Severity
    direction: Direction | None
    reported: str = Field(description="the value as sent, when it was converted")
    source: str = Field(description="the FHIR Observation's id")
    device: str


class AlertPublic(BaseModel):
    """An alert on a patient's vital."""

    id: UUID
    patient_id: UUID
    patient_identifier: str
    patient_name: str
    address: str
    lat: float
    lon: float
    phone: str
    vital: Vital
    level: Severity
    direction: Direction
    open: bool
    raised_at: datetime
    updated_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str
    incident_id: UUID | None
    incident_status: str | None = Field(
        description="the incident's status while open ('pending', 'en_route', ...), else 'ended'"
    )
    readings: list[ReadingPublic]


class DeviceProblemPublic(BaseModel):
    """A device sending implausible values for the patient: a nurse should check on them."""

    problem: str = Field(description='"device sending implausible values"')
    device: str
    vital: Vital
    message: str = Field(description="why the last value was refused")
    field: str = Field("", description="the element that held the last refused value")
    value: str = Field("", description="the last refused value as sent, with its unit")
    refused: int = Field(description="values refused since the last good reading")
    first_at: datetime
    last_at: datetime


class PatientPublic(BaseModel):
    """A monitored patient: bounds, latest reading per vital, open alerts."""

    id: UUID
    identifier: str
    identifier_system: str
    devices: list[str]
    device_problem: DeviceProblemPublic | None = Field(
        description="set while a device sends values no patient can have"
    )
    name: str
    address: str
    lat: float
    lon: float
    phone: str
    conditions: list[Condition]
    notes: str
    discharged: bool
    enrolled_at: datetime
    updated_at: datetime
    thresholds: dict[Vital, BoundsPublic]
    latest: list[ReadingPublic]
    open_alerts: list[AlertPublic]
    incident_ids: list[UUID]


class BoardPublic(BaseModel):
    """The monitoring board: open alerts (critical, unacknowledged, oldest first), and every
    monitored patient with their latest readings."""

    alerts: list[AlertPublic]
    patients: list[PatientPublic]
    device_problems: list[PatientPublic] = Field(
        default_factory=list,
        description="patients whose device sends implausible values (latest first):"
        " a nurse should check on them",
    )


class AlertChangePublic(BaseModel):
    """What a batch of readings did to an alert."""

    alert_id: UUID
    vital: Vital
    change: str = Field(description="raised, reopened, escalated or cleared")
    level: Severity
    direction: Direction


class PatientOutcomePublic(BaseModel):
    """What the observations did for one patient."""

    patient_id: UUID
    identifier: str
    recorded: int
    duplicates: int = Field(description="readings already recorded (a retry), skipped")
    late: int = Field(description="older than the vital's latest: recorded, not alerted on")
    readings: list[ReadingPublic]
    alerts: list[AlertChangePublic]
    incident_id: UUID | None = Field(description="the incident these readings opened")
    noted_incident_id: UUID | None = Field(
        description="the open incident that got a note of new critical readings"
    )
    incident_suppressed: bool = Field(
        description="critical, but an incident was raised within the de-duplication window"
    )


class IgnoredPublic(BaseModel):
    """An Observation of something Najda does not monitor: accepted, not recorded."""

    entry: str = Field(description="'body', or the Bundle entry, e.g. 'entry[2]'")
    reason: str


class ObservationsRecorded(BaseModel):
    """The outcome of a POST of FHIR observations (Najda's summary; a `batch` Bundle is
    answered with a FHIR batch-response Bundle instead)."""

    recorded: int
    duplicates: int
    late: int
    patients: list[PatientOutcomePublic]
    ignored: list[IgnoredPublic] = Field(default_factory=list)


FhirDocument = dict[str, Any]
