"""What the dispatch floor is held to: per-priority time targets, the alarm's priorities, and
the rules the pages apply (the same ones each socket's hello carries)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from najda.api.auth import READ, allow
from najda.api.errors import ERRORS
from najda.api.live.rules import client_rules
from najda.api.schemas_incidents import FloorSettingsPublic, TargetsPublic

router = APIRouter(tags=["incidents"], responses=ERRORS)


@router.get("/floor/settings", dependencies=[allow(READ, "read incidents")])
async def floor_settings(request: Request) -> FloorSettingsPublic:
    """The console's targets per priority (seconds) and which new calls sound the alarm."""
    settings = request.app.state.settings
    return FloorSettingsPublic(
        targets={p.value: TargetsPublic(**vars(t)) for p, t in request.app.state.targets.items()},
        alarm_priorities=sorted(p.value for p in settings.alarm_priorities),
    )


@router.get("/floor/rules", dependencies=[allow(READ, "read incidents")])
async def floor_rules() -> dict[str, Any]:
    """Unit status changes, releasable statuses, vocabularies and input length limits, for a
    page that has no socket (the auditor's); a socket's hello carries the same."""
    return client_rules()
