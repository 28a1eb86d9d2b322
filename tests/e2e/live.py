"""A websocket client for the tests: reads in a thread, collects messages, waits on them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

Message = dict[str, Any]


class Listener:
    """One websocket connection whose messages are collected by a background thread."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        auth_by_message: bool = False,
        paused: bool = False,
    ) -> None:
        headers = {} if token is None or auth_by_message else {"Authorization": f"Bearer {token}"}
        sock = None
        if paused:  # a client that stops reading: tiny kernel buffer, one frame queued
            host, port = url.split("/")[2].split(":")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect((host, int(port)))
        self.connection: ClientConnection = connect(
            url,
            additional_headers=headers,
            open_timeout=10,
            legacy=True,
            sock=sock,
            max_queue=1 if paused else 16,
        )
        self._reading = threading.Event()
        if not paused:
            self._reading.set()
        if auth_by_message:
            self.connection.send(json.dumps({"type": "auth", "token": token}))
        self.messages: list[Message] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def resume(self) -> None:
        """Start reading (a paused client)."""
        self._reading.set()

    def _read(self) -> None:
        self._reading.wait()
        try:
            for text in self.connection:
                with self._changed:
                    self.messages.append(json.loads(text))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            received = self.connection.protocol.close_rcvd
            with self._changed:
                if received is not None:
                    self.close_code, self.close_reason = received.code, received.reason
                else:
                    self.close_code = -1
                self._changed.notify_all()

    def wait_for(self, check: Callable[[list[Message]], bool], timeout_s: float = 10.0) -> bool:
        """Wait until `check(messages)` holds (or the timeout passes); returns whether it did."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not check(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def wait_closed(self, timeout_s: float = 10.0) -> bool:
        """Wait until the server closed the connection."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.close_code is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def changes(self) -> list[Message]:
        """The change messages (one per event) received so far, in order."""
        with self._changed:
            return [m for m in self.messages if "event" in m]

    def first(self, kind: str) -> Message | None:
        """The first message of a type (hello, snapshot, positions, stale ...)."""
        with self._changed:
            return next((m for m in self.messages if m.get("type") == kind), None)

    def send(self, message: Message) -> None:
        """Send a JSON message."""
        self.connection.send(json.dumps(message))

    def close(self) -> None:
        """Close the connection and wait for the reader."""
        self.connection.close()
        self._thread.join(timeout=10)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def has_event(event: str, **fields: Any) -> Callable[[list[Message]], bool]:
    """A check: some change message is `event` and its payload has these fields."""

    def check(messages: list[Message]) -> bool:
        for m in messages:
            if m.get("event") != event:
                continue
            payload = m.get("incident") or m.get("unit") or {}
            if all(payload.get(k) == v for k, v in fields.items()):
                return True
        return False

    return check
