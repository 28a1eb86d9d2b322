"""Recording what the FHIR reader read: readings (all or nothing, or entry by entry for a
`batch`), the implausible values refused, and the answers in Najda's or FHIR's shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from najda.api.dispatching import auto_dispatch
from najda.api.fhir import BundleRead, EntryRead
from najda.api.fhir_outcome import batch_entry, issue, operation_outcome, problems_outcome
from najda.api.queries import incident_view
from najda.api.schemas_monitoring import IgnoredPublic, ObservationsRecorded, PatientOutcomePublic
from najda.api.services import Services
from najda.api.views_monitoring import outcome_public
from najda.domain.care.monitoring_use_cases import ImplausibleReport, PatientReading, Sender
from najda.domain.care.patient import Recorded
from najda.domain.errors import Conflict, DispatchError, InvalidValue


async def record_implausible(
    services: Services, reports: Sequence[ImplausibleReport], actor: str, sender: Sender
) -> None:
    """Record refused implausible values against their patients (the board flags them)."""
    if reports:
        await services.command(
            lambda: services.dispatch.record_implausible(list(reports), actor, sender)
        )


async def record(
    services: Services, readings: Sequence[PatientReading], actor: str, sender: Sender
) -> list[PatientOutcomePublic]:
    """Record readings in one atomic save (auto-dispatching as configured); raises the
    domain's refusal."""
    outcomes: list[Recorded] = await services.command(
        lambda: services.dispatch.record_readings(list(readings), actor, sender)
    )
    for outcome in outcomes:  # NAJDA_AUTO_DISPATCH holds for monitoring incidents too
        request = outcome.incident
        if request is not None and request.priority in services.settings.auto_dispatch:
            view = await incident_view(services, request.incident_id, recommend=True)
            if view.recommendation is not None:
                await auto_dispatch(services, view.id, view.recommendation, actor)
    return [outcome_public(o) for o in outcomes]


def summary(
    public: Sequence[PatientOutcomePublic], entries: Sequence[EntryRead]
) -> ObservationsRecorded:
    """Najda's summary of what was recorded, and which entries were ignored and why."""
    return ObservationsRecorded(
        recorded=sum(p.recorded for p in public),
        duplicates=sum(p.duplicates for p in public),
        late=sum(p.late for p in public),
        patients=list(public),
        ignored=[
            IgnoredPublic(entry=e.at or "body", reason=e.ignored) for e in entries if e.ignored
        ],
    )


async def record_batch(
    services: Services, bundle: BundleRead, actor: str, sender: Sender
) -> dict[str, Any]:
    """A `batch`: each entry judged alone, answered as a batch-response Bundle. The good
    entries are saved together; when the domain refuses that, entry by entry."""
    await record_implausible(
        services, [r for e in bundle.entries for r in e.implausible], actor, sender
    )
    answers: dict[int, dict[str, Any]] = {}
    good: list[int] = []
    for i, entry in enumerate(bundle.entries):
        if entry.refused:
            answers[i] = batch_entry(422, problems_outcome(entry.problems, "Bundle"))
        elif entry.ignored:
            answers[i] = _note(200, f"ignored: {entry.ignored}", code="informational")
        else:
            good.append(i)
    if good:
        try:
            together = await record(
                services, [r for i in good for r in bundle.entries[i].readings], actor, sender
            )
            for i in good:
                answers[i] = _recorded(bundle.entries[i], together)
        except (InvalidValue, Conflict):
            for i in good:
                answers[i] = await _alone(services, bundle.entries[i], actor, sender)
    return {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [answers[i] for i in range(len(bundle.entries))],
    }


async def _alone(
    services: Services, entry: EntryRead, actor: str, sender: Sender
) -> dict[str, Any]:
    try:
        public = await record(services, entry.readings, actor, sender)
    except InvalidValue as exc:
        return batch_entry(422, problems_outcome([(exc.field, exc.message)], "Bundle"))
    except Conflict as exc:
        return _note(409, str(exc), code="conflict", severity="error")
    except DispatchError as exc:
        return _note(400, str(exc), code="invalid", severity="error")
    return _recorded(entry, public)


def _recorded(entry: EntryRead, public: Sequence[PatientOutcomePublic]) -> dict[str, Any]:
    """201 with what the entry's readings did (alerts raised, incident opened)."""
    patients = {r.patient for r in entry.readings}
    parts: list[str] = []
    for outcome in public:
        if outcome.identifier not in patients:
            continue
        parts.extend(f"{a.vital.value} alert {a.change} ({a.level.value})" for a in outcome.alerts)
        if outcome.incident_id is not None:
            parts.append(f"incident {outcome.incident_id} opened")
    vitals = ", ".join(r.reading.vital.value for r in entry.readings)
    text = f"recorded {vitals}" + (f"; {'; '.join(parts)}" if parts else "")
    return _note(201, text, code="informational")


def _note(status: int, text: str, *, code: str, severity: str = "information") -> dict[str, Any]:
    return batch_entry(status, operation_outcome([issue(text, code=code, severity=severity)]))
