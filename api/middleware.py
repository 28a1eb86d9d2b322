"""Every answer's edges: an access log line naming the user, and no caching of API answers."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
