"""Patients as their devices reach them: finding a reported patient by identifier system and
value for a sender bound to them, the devices enrolled to a patient, and the record of
physiologically implausible values refused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from najda.domain.care.patient import Patient, PatientNotFound, patient_id_for
from najda.domain.care.patient_identity import NOT_REPORTABLE, Sender, require_devices
from najda.domain.care.vitals import Vital
from najda.domain.errors import InvalidValue
from najda.domain.persistence.atomic_store import DispatchStore, retried


class Reported(Protocol):
    """What names a patient in a report: identifier value, system, and the field naming it."""

    @property
    def patient(self) -> str: ...
    @property
    def system(self) -> str | None: ...
    @property
    def subject_field(self) -> str: ...


@dataclass(frozen=True)
class ImplausibleReport:
    """A value refused as physiologically implausible, to record against its patient."""

    patient: str
    vital: Vital
    value: float
    reported: str
    field: str
    message: str
    device: str
    subject_field: str = "subject"
    system: str | None = None


def patient_ref(ref: str) -> UUID:
    """The patient id for a reference: the id itself, or the identifier it derives from."""
    cleaned = ref.strip()
    if len(cleaned) == 36:
        try:
            return UUID(cleaned)
        except ValueError:
            pass
    return patient_id_for(cleaned)


class PatientLookup(DispatchStore):
    """Finding patients for commands and for the senders of readings."""

    @retried
    def change_devices(self, patient_id: UUID, devices: Iterable[str], actor: str) -> None:
        """Replace the devices (device users' names) that may post a patient's vitals."""
        enrolled = require_devices(devices)
        patient = self._patient(patient_id)
        patient.change_devices(enrolled, actor, self._now())
        self._store(patient)

    @retried
    def record_implausible(
        self, reports: Sequence[ImplausibleReport], actor: str, sender: Sender | None = None
    ) -> int:
        """Record refused implausible values against their patients (those the sender may
        report for and still monitored; others are dropped, as the refusal was answered).
        How many were recorded."""
        sender = sender or Sender(actor, is_device=False)
        now = self._now()
        patients: dict[UUID, Patient] = {}
        for report in reports:
            pid = patient_ref(report.patient)
            try:
                patient = patients.get(pid) or self._patient_named(pid, report, sender)
            except InvalidValue:
                continue
            if patient.discharged:
                continue
            patient.refuse_implausible(
                vital=report.vital,
                value=report.value,
                reported=report.reported,
                field=report.field,
                message=report.message,
                device=report.device or sender.name,
                actor=actor,
                at=now,
            )
            patients[pid] = patient
        recorded = sum(len(p.pending_events) for p in patients.values())
        if patients:
            self._store(*patients.values())
        return recorded

    def _patient(self, patient_id: UUID) -> Patient:
        return self._load(Patient, patient_id, PatientNotFound)

    def _patient_named(self, patient_id: UUID, entry: Reported, sender: Sender) -> Patient:
        """The patient a reading names, when its identifier system matches and the sender
        may report for them; one uniform refusal naming the subject field otherwise."""
        try:
            patient = self._patient(patient_id)
        except PatientNotFound:
            raise InvalidValue(entry.subject_field, NOT_REPORTABLE) from None
        system = sender.default_system if entry.system is None else entry.system
        named = patient.identifier == entry.patient.strip() and patient.is_named_by(
            system, sender.default_system
        )
        if not named or (sender.is_device and not patient.reports_from(sender.name)):
            raise InvalidValue(entry.subject_field, NOT_REPORTABLE)
        return patient
