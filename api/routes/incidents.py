"""Incidents: report, the board, details, notes, re-triage, location, close and cancel."""

from __future__ import annotations

from typing import Annotated, cast
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime

from najda.api.auth import OPERATE, READ, PrincipalDep, allow
from najda.api.deps import ActorDep, BoardDep, ServicesDep, unit_ref_id
from najda.api.dispatching import auto_dispatch
from najda.api.errors import ERRORS, query_error
from najda.api.input_limits import MAX_SEARCH_WORDS, MAX_UNIT_REF
from najda.api.queries import AsOfQuery, incident_as_of_view, incident_view
from najda.api.read_audit import record_incident_read, record_reads
from najda.api.redaction import REDACTED, board_row_for, redacts
from najda.api.schemas_incidents import (
    IncidentCancel,
    IncidentClose,
    IncidentCreate,
    IncidentPublic,
    IncidentSummaryPublic,
    LocationCorrection,
    NoteCreate,
    PriorityChange,
)
from najda.api.views import board_public
from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.errors import InvalidValue
from najda.domain.values import IncidentSource, Position
from najda.projections.dispatch.incident_history import (
    HistoryIndex,
    HistoryQuery,
    HistoryState,
    search,
)
from najda.projections.dispatch.read_model_changes import BoardRow
from najda.projections.dispatch.recommendations import short_on_board
from najda.projections.store.event_rows import EventLog

WRITE = allow(OPERATE, "change incidents")
READS = allow(READ, "read incidents")
router = APIRouter(prefix="/incidents", tags=["incidents"], responses=ERRORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[WRITE])
async def report_incident(
    body: IncidentCreate, services: ServicesDep, actor: ActorDep, response: Response
) -> IncidentPublic:
    """Open an incident for a call; the answer carries its recommended units."""
    location = Position(body.lat, body.lon)
    fix = body.location_fix
    location_fix = (
        None if fix is None else LocationFix.checked(fix.typed, fix.label, fix.precision, location)
    )
    incident_id = await services.command(
        lambda: services.dispatch.report_incident(
            location=location,
            address=body.address,
            nature=body.nature,
            priority=body.priority,
            actor=actor,
            determinant=body.determinant,
            callback=body.callback,
            source=body.source,
            call_received_at=body.call_received_at,
            location_fix=location_fix,
        )
    )
    response.headers["Location"] = f"/incidents/{incident_id}"
    view = await incident_view(services, incident_id, recommend=True)
    if (
        body.priority in services.settings.auto_dispatch
        and view.recommendation is not None
        and await auto_dispatch(services, incident_id, view.recommendation, actor)
    ):
        view = await incident_view(services, incident_id, recommend=True)
    return view


@router.get("", dependencies=[READS])
async def list_incidents(
    request: Request,
    board: BoardDep,
    services: ServicesDep,
    response: Response,
    user: PrincipalDep,
    state: Annotated[
        HistoryState | None, Query(description="open, closed (or cancelled) or all")
    ] = None,
    q: Annotated[
        str, Query(max_length=MAX_SEARCH_WORDS, description="words in nature, address, …")
    ] = "",
    since: Annotated[
        AwareDatetime | None, Query(alias="from", description="calls received from (ISO 8601)")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(alias="to", description="calls received until (ISO 8601)")
    ] = None,
    unit: Annotated[
        str, Query(max_length=MAX_UNIT_REF, description="a unit's call sign or id")
    ] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[IncidentSummaryPublic]:
    """With no parameter, the board: open incidents, most urgent first, then oldest first.

    With any of state, q, from, to or unit, a history search over every incident (open and
    ended), newest call first, `limit` from `offset`; X-Total-Count holds the number found.
    """
    now = services.now()
    capabilities = {u.unit_id: u.capabilities for u in await services.locator.all_units()}
    open_rows = {row.incident_id: row for row in await board.open_incidents()}

    def live(row: BoardRow, call_signs: list[str] | None = None) -> IncidentSummaryPublic:
        shown = board_public(row, now, short_on_board(row, services.plan, capabilities))
        return IncidentSummaryPublic(**dict(shown), call_signs=call_signs or [])

    def shown(rows: list[IncidentSummaryPublic]) -> list[IncidentSummaryPublic]:
        """Redacted for auditors without clinical access; reads of patient data recorded."""
        if not redacts(user):
            return rows
        return [
            cast(IncidentSummaryPublic, board_row_for(user, r)).model_copy(
                update={"disposition": REDACTED if r.disposition else r.disposition}
            )
            if r.source == IncidentSource.MONITORING.value
            else r
            for r in rows
        ]

    async def recorded(rows: list[IncidentSummaryPublic]) -> list[IncidentSummaryPublic]:
        monitoring = [r.id for r in rows if r.source == IncidentSource.MONITORING.value]
        if monitoring and not redacts(user):
            await record_reads(services, user, "GET /incidents", incidents=monitoring)
        return shown(rows)

    if state is None and not (q or since or until or unit):
        return await recorded([live(row) for row in open_rows.values()])
    if since and until and since > until:
        raise query_error("from", InvalidValue("from", "must not be after 'to'"))
    query = HistoryQuery(
        state=state or HistoryState.ALL,
        q=q,
        since=since,
        until=until,
        unit_id=unit_ref_id(unit) if unit else None,
        call_sign=unit,
    )
    history: HistoryIndex = request.app.state.history
    found = search(
        await services.query(lambda: history.refresh(EventLog(services.dispatch))), query
    )
    response.headers["X-Total-Count"] = str(len(found))
    page = found[offset : offset + limit]
    return await recorded(
        [
            live(open_rows[r.incident_id], r.call_signs)
            if r.incident_id in open_rows
            else IncidentSummaryPublic(
                **{
                    **dict(board_public(r.board, r.ended_at or now)),
                    "status": r.status.value,
                    "ended_at": r.ended_at,
                    "disposition": r.disposition,
                    "call_signs": r.call_signs,
                }
            )
            for r in page
        ]
    )


@router.get("/{incident_id}", dependencies=[READS])
async def get_incident(
    incident_id: UUID, services: ServicesDep, user: PrincipalDep, as_of: AsOfQuery = None
) -> IncidentPublic:
    """One incident (open or ended) with its assignments and notes; `as_of`: as it was then."""
    if as_of is not None:
        view = await incident_as_of_view(services, incident_id, as_of, user)
    else:
        view = await incident_view(services, incident_id, viewer=user)
    action = "GET /incidents/{incident_id}"
    await record_incident_read(services, user, action, incident_id, view.source)
    return view


@router.post("/{incident_id}/notes", dependencies=[WRITE])
async def add_note(
    incident_id: UUID, body: NoteCreate, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Append a note (also allowed once the incident has ended)."""
    await services.command(lambda: services.dispatch.add_note(incident_id, body.text, actor))
    return await incident_view(services, incident_id)


@router.post("/{incident_id}/priority", dependencies=[WRITE])
async def change_priority(
    incident_id: UUID, body: PriorityChange, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Re-triage an open incident."""
    await services.command(
        lambda: services.dispatch.change_priority(
            incident_id, body.priority, actor, body.determinant
        )
    )
    return await incident_view(services, incident_id)


@router.post("/{incident_id}/location", dependencies=[WRITE])
async def correct_location(
    incident_id: UUID, body: LocationCorrection, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Move an open incident to its corrected location."""
    location = Position(body.lat, body.lon)
    await services.command(
        lambda: services.dispatch.correct_location(incident_id, location, body.address, actor)
    )
    return await incident_view(services, incident_id)


@router.post("/{incident_id}/close", dependencies=[WRITE])
async def close_incident(
    incident_id: UUID, body: IncidentClose, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Close an incident whose units have all cleared (409 while units are still on it)."""
    await services.command(
        lambda: services.dispatch.close_incident(incident_id, body.disposition, actor)
    )
    return await incident_view(services, incident_id)


@router.post("/{incident_id}/cancel", dependencies=[WRITE])
async def cancel_incident(
    incident_id: UUID, body: IncidentCancel, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Cancel an incident, releasing its units in the same save."""
    await services.command(
        lambda: services.dispatch.cancel_incident(incident_id, body.reason, actor)
    )
    return await incident_view(services, incident_id)
