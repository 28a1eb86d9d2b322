"""Stored event topics are pinned: renaming a module or class must not orphan stored events."""

from __future__ import annotations

from eventsourcing.utils import get_topic, resolve_topic

from najda.domain.access.user import User
from najda.domain.care.patient import Patient
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.stations_hospitals import Hospital, Station
from najda.domain.dispatch.unit import Unit
from najda.domain.persistence.client_command import ClientCommand

PINNED = {
    Incident: [
        "Reported",
        "PriorityChanged",
        "LocationCorrected",
        "NoteAdded",
        "UnitAssigned",
        "UnitReleased",
        "UnitCleared",
        "Closed",
        "Cancelled",
        "ConsultRequested",
        "ConsultAccepted",
        "ConsultEnded",
        "ConsultDeclined",
        "ConsultCancelled",
        "DestinationChosen",
        "DuplicateLinked",
        "DuplicateDismissed",
    ],
    Unit: [
        "Registered",
        "Dispatched",
        "StatusChanged",
        "Released",
        "Acknowledged",
        "PositionReported",
        "Relocated",
    ],
    User: ["Registered", "TokenIssued", "Revoked", "SpecialtiesSet", "ClinicalAccessSet"],
    Station: ["Registered"],
    ClientCommand: ["Recorded"],
    Hospital: ["Registered", "StatusUpdated"],
    Patient: [
        "Enrolled",
        "ThresholdsChanged",
        "Discharged",
        "ReadingsRecorded",
        "AlertRaised",
        "AlertReopened",
        "AlertEscalated",
        "AlertCleared",
        "AlertAcknowledged",
        "IncidentRaised",
        "DevicesChanged",
        "ImplausibleRefused",
    ],
}


def test_every_event_class_is_stored_under_a_pinned_topic() -> None:
    for aggregate, names in PINNED.items():
        assert get_topic(aggregate) == f"najda:{aggregate.__name__}"
        for name in names:
            event_class = getattr(aggregate, name)
            topic = f"najda:{aggregate.__name__}.{name}"
            assert get_topic(event_class) == topic
            assert resolve_topic(topic) is event_class


def test_no_event_class_is_left_unpinned() -> None:
    for aggregate, names in PINNED.items():
        declared = {
            key
            for key, value in vars(aggregate).items()
            if isinstance(value, type) and issubclass(value, aggregate.Event)
        } - {"Event", "Created"}
        assert declared == set(names), aggregate.__name__


def test_application_name_is_pinned() -> None:
    from najda.domain.application import Dispatch

    assert Dispatch.name == "Dispatch"
