"""Audit routes: an incident's timeline and store verification."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from najda.api.audit_trust import trust
from najda.api.auth import AUDIT, READ, PrincipalDep, allow
from najda.api.deps import ServicesDep
from najda.api.errors import ERRORS
from najda.api.read_audit import record_incident_read
from najda.api.redaction import timeline_for
from najda.api.schemas_audit import (
    FindingPublic,
    TimelineEntryPublic,
    TimelinePublic,
    VerificationPublic,
)
from najda.projections.audit.timeline import incident_timeline
from najda.projections.audit.verify import Verification, verify
from najda.projections.store.event_rows import EventLog

router = APIRouter(tags=["audit"], responses=ERRORS)


@router.get("/incidents/{incident_id}/timeline", dependencies=[allow(READ, "read timelines")])
async def timeline(incident_id: UUID, services: ServicesDep, user: PrincipalDep) -> TimelinePublic:
    """Every event of the incident and its units' status events while they worked it (a
    monitoring incident's patient data withheld from auditors without clinical access)."""
    entries = await services.query(
        lambda: incident_timeline(EventLog(services.dispatch), incident_id)
    )
    reported = next((e for e in entries if e.kind == "Incident.Reported"), None)
    if reported is not None:
        action = "GET /incidents/{incident_id}/timeline"
        await record_incident_read(services, user, action, incident_id, reported.event.source)
    entries = timeline_for(user, entries)
    return TimelinePublic(
        incident_id=incident_id,
        entries=[
            TimelineEntryPublic(
                position=e.position,
                at=e.at,
                actor=e.actor,
                subject=e.subject,
                event=e.kind,
                stream_id=e.originator_id,
                version=e.version,
                text=e.text,
                line=e.line(),
                request_id=e.request_id,
            )
            for e in entries
        ],
    )


def verification_public(result: Verification) -> VerificationPublic:
    """The API body of a verification."""
    return VerificationPublic(
        ok=result.ok,
        rows=result.rows,
        sealed=result.sealed,
        unsealed=result.unsealed,
        chain_head=result.chain_head,
        checkpoint_position=result.checkpoint.position if result.checkpoint else None,
        checkpoint_signed_at=result.checkpoint.signed_at if result.checkpoint else None,
        findings=[
            FindingPublic(
                kind=f.kind,
                position=f.position,
                stream_id=f.originator_id,
                version=f.version,
                detail=f.detail,
                text=f.text(),
            )
            for f in result.findings
        ],
    )


@router.get("/audit/verify", dependencies=[allow(AUDIT, "verify the store")])
async def verify_store(services: ServicesDep) -> VerificationPublic:
    """Walk the whole store against its hash chain, the signed checkpoints and the
    application's witnesses (slow on a large store)."""
    held_to = await services.query(lambda: trust(services.settings))
    result = await services.query(lambda: verify(EventLog(services.dispatch), held_to))
    return verification_public(result)
