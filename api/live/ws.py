"""Websocket channels: /ws/console for dispatchers, /ws/crew for one unit's crew,
/ws/specialist for the teleconsults in a specialist's specialties, /ws/monitoring for
remote-monitoring nurses (patients, readings, alerts).

Protocol: the server accepts, then authenticates from the Authorization header or a first
message {"type": "auth", "token": "..."}; it answers {"type": "hello", ...} (with the domain's
rules the pages apply, api/live/rules.py), then either the
missed messages after `?since=` or a snapshot, then live messages. Every change message
carries the notification position (`pos`) it reflects. Close codes: 4400 bad parameters,
4401 no valid token (also when it is revoked, replaced or expires while the socket is open),
4403 wrong role, 4429 too far behind or too slow to read (resume with since), 1009 a message
too large (4 KiB before authentication, 64 KiB after).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from najda.api.auth import (
    CONSOLE,
    MONITORING_SOCKET,
    Forbidden,
    Unauthenticated,
    check_role,
    principal_for,
)
from najda.api.errors import status_for
from najda.api.live.frames import PRE_AUTH_MAX_BYTES, drop_connection, lift_frame_limit
from najda.api.live.messages import encode
from najda.api.live.requests import crew_request
from najda.api.live.rules import client_rules
from najda.api.live.subscribers import BBox, Interest, Subscriber, TooFarBehind
from najda.api.read_audit import record_feed_read
from najda.api.services import Services
from najda.api.throttle import TooManyFailures
from najda.domain.access.user import Role, token_hash
from najda.domain.errors import DispatchError, InvalidValue
from najda.projections.access.user_directory import Principal

log = logging.getLogger(__name__)
router = APIRouter()

AUTH_TIMEOUT_S = 10.0
BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, TOO_SLOW = 4400, 4401, 4403, 4429
MESSAGE_TOO_BIG = 1009


class Refused(Exception):
    """Ends a websocket with a close code and a reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@router.websocket("/ws/console")
async def console(websocket: WebSocket) -> None:
    """Every incident, unit and assignment change; optional `bbox`, resume with `since`."""
    await _serve(websocket, CONSOLE_CHANNEL)


@router.websocket("/ws/crew")
async def crew(websocket: WebSocket) -> None:
    """The crew's own unit and its assignment; the crew acknowledges and reports here."""
    await _serve(websocket, CREW_CHANNEL)


@router.websocket("/ws/specialist")
async def specialist(websocket: WebSocket) -> None:
    """Teleconsults in the specialist's specialties: requests as they come, then each step."""
    await _serve(websocket, SPECIALIST_CHANNEL)


@router.websocket("/ws/monitoring")
async def monitoring(websocket: WebSocket) -> None:
    """Monitored patients, their readings and alerts; optional `bbox`, resume with `since`."""
    await _serve(websocket, MONITORING_CHANNEL)


CONSOLE_CHANNEL, CREW_CHANNEL, SPECIALIST_CHANNEL = "console", "crew", "specialist"
MONITORING_CHANNEL = "monitoring"


async def _serve(websocket: WebSocket, channel: str) -> None:
    services: Services = websocket.app.state.services
    await websocket.accept()
    try:
        since, bbox = _parameters(websocket)
        user, digest = await _authenticate(websocket, services)
        interest = _interest(user, channel, bbox)
        lift_frame_limit(websocket)  # only now may the client send larger messages
    except Refused as refused:
        await _close(websocket, refused.code, refused.reason)
        return
    if since is not None:
        head = await services.query(services.source.head)
        if since > head:
            await _close(websocket, BAD_REQUEST, f"since: beyond the newest change ({head})")
            return
    if channel in (CONSOLE_CHANNEL, MONITORING_CHANNEL):  # they carry patient data
        await record_feed_read(services, user, f"WS /ws/{channel}")
    feed = services.feed
    subscriber, backlog = feed.subscribe(interest, since, services.settings.client_queue)
    snapshot = feed.snapshot(interest) if backlog is None else None
    try:
        hello = {
            "type": "hello",
            "pos": subscriber.after if backlog is None else since,
            "user": user.name,
            "role": user.role.value,
            "resumed": backlog is not None,
            "rules": client_rules(),
        }
        await websocket.send_text(encode(hello))
        timeout_s = services.settings.ws_send_timeout_s
        for text in [snapshot] if snapshot is not None else backlog or []:
            await _send(websocket, text, timeout_s)
        await _pump(websocket, services, subscriber, user, digest)
    except TooFarBehind:
        await _close(
            websocket, TOO_SLOW, "too far behind: reconnect with ?since=<last pos received>"
        )
    except Refused as refused:  # the token stopped working while the socket was open
        await _close(websocket, refused.code, refused.reason)
    except TimeoutError:  # the client stopped reading: drop it, it resumes with ?since=
        log.info("dropped a websocket client (%s) that stopped reading", user.name)
        await _abort(websocket)
    except WebSocketDisconnect:
        pass
    finally:
        feed.unsubscribe(subscriber)


def _parameters(websocket: WebSocket) -> tuple[int | None, BBox | None]:
    query = websocket.query_params
    since: int | None = None
    if "since" in query:
        text = query["since"]
        if not text.isdigit() or len(text) > 18:
            raise Refused(BAD_REQUEST, "since: give a notification position (0 or more)")
        since = int(text)
    bbox = None
    if "bbox" in query:
        try:
            bbox = BBox.parse(query["bbox"])
        except ValueError as exc:
            raise Refused(BAD_REQUEST, str(exc)) from None
    unknown = set(query) - {"since", "bbox"}  # never a token in a URL: logs keep URLs
    if unknown:
        raise Refused(BAD_REQUEST, f"unknown parameter {sorted(unknown)[0]!r}")
    return since, bbox


async def _authenticate(websocket: WebSocket, services: Services) -> tuple[Principal, str]:
    """The user and its token's hash, from the header or a small first message."""
    client = websocket.client.host if websocket.client else "-"
    try:
        services.throttle.check(client)
    except TooManyFailures as exc:
        raise Refused(TOO_SLOW, str(exc)) from None
    header = websocket.headers.get("authorization", "")
    token: str | None = None
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    else:
        try:
            async with asyncio.timeout(AUTH_TIMEOUT_S):
                first = await websocket.receive_text()
        except (TimeoutError, WebSocketDisconnect, KeyError):
            raise Refused(UNAUTHORIZED, "send {'type': 'auth', 'token': ...} first") from None
        if len(first) > PRE_AUTH_MAX_BYTES:  # another server's protocol may let it through
            raise Refused(MESSAGE_TOO_BIG, f"authenticate first, in {PRE_AUTH_MAX_BYTES} bytes")
        try:
            data = json.loads(first)
            token = str(data["token"]) if data.get("type") == "auth" else None
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            token = None
    try:
        user = principal_for(services.users, token, services.now())
    except Unauthenticated as exc:
        if token:
            services.throttle.failed(client)
        raise Refused(UNAUTHORIZED, str(exc)) from None
    websocket.state.user = user.name  # for the access log
    return user, token_hash((token or "").strip())


def _interest(user: Principal, channel: str, bbox: BBox | None) -> Interest:
    try:
        if channel == MONITORING_CHANNEL:
            check_role(user, MONITORING_SOCKET, "open the monitoring feed")
            return Interest(bbox=bbox, monitoring=True)
        if channel == CREW_CHANNEL:
            if user.role is not Role.CREW or user.unit_id is None:
                raise Forbidden("only a crew token opens /ws/crew")
            return Interest(unit_id=user.unit_id)
        if channel == SPECIALIST_CHANNEL:
            if user.role is not Role.SPECIALIST:
                raise Forbidden("only a specialist's token opens /ws/specialist")
            return Interest(specialties=user.specialties)
        check_role(user, CONSOLE, "open the console feed")
    except Forbidden as exc:
        raise Refused(FORBIDDEN, str(exc)) from None
    return Interest(bbox=bbox)


async def _pump(
    websocket: WebSocket,
    services: Services,
    subscriber: Subscriber,
    user: Principal,
    digest: str,
) -> None:
    """Send queued messages and read the client's, until either side ends or the token
    stops working (revoked, replaced or expired: Refused with 4401)."""
    tokens = services.tokens
    timeout_s = services.settings.ws_send_timeout_s

    async def send() -> None:
        while True:
            for text in await subscriber.next():
                await _send(websocket, text, timeout_s)

    async def receive() -> None:
        while True:
            text = await websocket.receive_text()
            if not tokens.still_valid(digest, user):  # never act on a token that stopped
                raise Refused(UNAUTHORIZED, tokens.why_invalid(digest))
            subscriber.push(encode(await _handle(services, user, text)))

    async def guard() -> None:
        raise Refused(UNAUTHORIZED, await tokens.until_invalid(digest, user))

    tasks = {asyncio.create_task(work()) for work in (send, receive, guard)}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # re-raise TooFarBehind, Refused, a send timeout or a disconnect
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def _send(websocket: WebSocket, text: str, timeout_s: float) -> None:
    """Send one message; TimeoutError when the client does not take it in time."""
    async with asyncio.timeout(timeout_s):
        await websocket.send_text(text)


async def _handle(services: Services, user: Principal, text: str) -> dict[str, Any]:
    """One client request: {"type": "ack" | "status" | "position", "id": ..., ...}."""
    try:
        data = json.loads(text)
    except ValueError:
        return {"type": "error", "status": 400, "detail": "not JSON"}
    except RecursionError:
        return {"type": "error", "status": 400, "detail": "JSON nested too deeply"}
    if not isinstance(data, dict):
        return {"type": "error", "status": 400, "detail": "send a JSON object"}
    ref = data.get("id")
    ref = ref if isinstance(ref, (str, int)) and not isinstance(ref, bool) else None
    try:
        result = await _crew_request(services, user, data)
    except DispatchError as exc:  # the status as REST answers it (api/errors.STATUSES)
        error: dict[str, Any] = {"type": "error", "id": ref, "status": status_for(exc)}
        if isinstance(exc, InvalidValue):
            error["field"] = exc.field
        return {**error, "detail": str(exc)}
    return {"type": "result", "id": ref, **result}


async def _crew_request(
    services: Services, user: Principal, data: dict[str, Any]
) -> dict[str, Any]:
    if user.role is not Role.CREW or user.unit_id is None:
        raise Forbidden("only a crew sends requests on its socket")
    unit_id: UUID = user.unit_id
    return await crew_request(services, unit_id, user.name, data)


async def _abort(websocket: WebSocket) -> None:
    """Drop a connection whose client stopped reading (a close frame could not get through)."""
    if drop_connection(websocket):
        return
    with contextlib.suppress(Exception):
        async with asyncio.timeout(0.5):
            await websocket.close(TOO_SLOW, "too slow")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.client_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await websocket.close(code, reason[:120])
