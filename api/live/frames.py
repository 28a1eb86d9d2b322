"""Websocket frame limits: a small one until the client is authenticated, a larger one after.

uvicorn's websocket protocol reads a whole message before the application sees it, so a limit
checked by the application comes too late: an unauthenticated client could make the server
read (and decode, on the event loop) a message of `ws_max_size` bytes. This protocol starts
each connection at `PRE_AUTH_MAX_BYTES`, refusing a larger frame from its header (close 1009)
without reading it; the application lifts the limit to `ws_max_size` once the token is good.
"""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

#: The largest message read before authentication (an auth message is about 100 bytes).
PRE_AUTH_MAX_BYTES = 4 * 1024
#: The largest message read from an authenticated client (crew requests are under 1 KiB).
MAX_FRAME_BYTES = 64 * 1024
EXTENSION = "najda.frame_limit"


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol with a pre-authentication frame limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.max_message_size = min(PRE_AUTH_MAX_BYTES, self.config.ws_max_size)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # the application runs: let it lift the limit
            self.scope["extensions"][EXTENSION] = {"lift": self._lift, "drop": self._drop}

    def _lift(self) -> None:
        self.conn.max_message_size = self.config.ws_max_size

    def _drop(self) -> None:
        """Close the connection at once, unsent data discarded (a client that stopped
        reading would otherwise hold it open until its buffers drain)."""
        self.close_sent = True
        self.transport.abort()


def lift_frame_limit(websocket: WebSocket) -> None:
    """After authentication: accept messages up to the server's frame limit."""
    extension = (websocket.scope.get("extensions") or {}).get(EXTENSION)
    if extension is not None:
        extension["lift"]()


def drop_connection(websocket: WebSocket) -> bool:
    """Abort the connection (True), when the server's protocol allows it."""
    extension = (websocket.scope.get("extensions") or {}).get(EXTENSION)
    if extension is None:
        return False
    extension["drop"]()
    return True
