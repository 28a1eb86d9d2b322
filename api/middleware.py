"""Every answer's edges: an access log line naming the user, no caching of API answers, and
no large body read from a client that is not signed in."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from najda.api.auth import Unauthenticated, principal_for
from najda.api.throttle import TooManyFailures

access_log = logging.getLogger("najda.access")

#: Paths whose answers hold no personal data and may be cached: the pages' files, the docs.
CACHEABLE_PREFIXES = ("/ui/", "/docs", "/openapi.json")


class AccessLog:
    """Log one line per request (and per websocket, when it ends): client, method, path,
    status, the authenticated user (`-` when none) and the time taken. Never the query
    string: tokens do not go in URLs, but nothing else personal should be logged either."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "websocket.accept":
                status = 101
            elif message["type"] == "websocket.close" and status in (0, 101):
                status = int(message.get("code", 1000))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            user = (scope.get("state") or {}).get("user") or "-"
            method = scope.get("method", "WS")
            access_log.info(
                '%s - "%s %s" %d user=%s %.1fms',
                client[0] if client else "-",
                method,
                scope.get("path", ""),
                status,
                user,
                (time.perf_counter() - started) * 1000,
            )


class NoStore:
    """`Cache-Control: no-store` on every API answer (incidents, patients, users and the
    like hold personal data): no browser, proxy or disk cache keeps a copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CACHEABLE_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if path not in ("/", "/crew"):  # the pages say no-cache themselves
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
            await send(message)

        await self.app(scope, receive, sending)


#: A body up to this size is read as usual before the route checks the token.
SMALL_BODY_BYTES = 4096


class AuthBeforeBody:
    """Answer 401 (or 429) before reading a large request body whose bearer token is
    missing or not valid: an anonymous client cannot make the server read and parse up to
    the body limit. Small bodies go on to the route, which checks the token as always."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _large_body(scope):
            await self.app(scope, receive, send)
            return
        services = scope["app"].state.services
        headers = dict(scope["headers"])
        header = headers.get(b"authorization", b"").decode("latin-1")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        client = scope["client"][0] if scope.get("client") else "-"
        try:
            services.throttle.check(client)
            principal_for(services.users, token, services.now())
        except TooManyFailures as exc:
            answer = JSONResponse(
                {"detail": str(exc)}, 429, headers={"Retry-After": str(exc.retry_after_s)}
            )
        except Unauthenticated as exc:
            if token:
                services.throttle.failed(client)
            answer = JSONResponse({"detail": str(exc)}, 401, {"WWW-Authenticate": "Bearer"})
        else:
            await self.app(scope, receive, send)
            return
        answer.headers["Connection"] = "close"  # the unread body cannot be skipped over
        await answer(scope, receive, send)


def _large_body(scope: Scope) -> bool:
    """True when the request declares a body over SMALL_BODY_BYTES, or streams one."""
    headers = dict(scope["headers"])
    length = headers.get(b"content-length")
    if length is not None:
        return not length.isdigit() or int(length) > SMALL_BODY_BYTES
    return b"chunked" in headers.get(b"transfer-encoding", b"").lower()
