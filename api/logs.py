"""One logging configuration for Najda, uvicorn and the libraries: JSON or text lines with
the time, level, logger, message, request id, user and, where there is one, the log position."""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from najda.domain.audit.correlation import current_request_id, reset_request_id, set_request_id

LOG_FORMATS = ("text", "json")

#: The request's `scope["state"]` while it is served: api/auth.py puts the user there once
#: authenticated (`request.state.user`), so log lines say who, whatever thread they come from.
_request_state: ContextVar[dict[str, Any] | None] = ContextVar("najda_state", default=None)


def current_user() -> str | None:
    """The authenticated user of the request being served (None before or outside one)."""
    state = _request_state.get()
    user = None if state is None else state.get("user")
    return user if isinstance(user, str) else None

#: A request id a client may give (X-Request-ID): short, and nothing a log line could choke on.
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

#: Secrets never reach a log line, whatever a library or a message puts there.
_SECRETS = re.compile(
    r"(?i)(bearer\s+|token[\"']?\s*[=:]\s*[\"']?|password[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]+"
)


def redact(text: str) -> str:
    """The text with bearer tokens, token=… and password=… values masked."""
    return _SECRETS.sub(lambda m: m.group(1) + "***", text)


class ContextFilter(logging.Filter):
    """Adds the current request id and user to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "user"):
            record.user = current_user()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, user,
    and `position`/`command` when the record carries them (logger.info(..., extra={...}))."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "user": getattr(record, "user", None),
        }
        for key in ("position", "command"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request user] message`, for a terminal."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s %(user)s] %(message)s"
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        for key in ("request_id", "user"):
            if getattr(record, key, None) is None:
                setattr(record, key, "-")
        return redact(super().format(record))


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A dictConfig for the root logger, Najda's, uvicorn's and the libraries' (one handler,
    on stderr, in one format); uvicorn takes it as its `log_config`."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    formatter = f"{__name__}.{'JsonFormatter' if log_format == 'json' else 'TextFormatter'}"
    level = level.upper()
    quiet = "WARNING" if level in ("INFO", "DEBUG") else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.ContextFilter"}},
        "formatters": {"najda": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "najda",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # Everything propagates to the root's one handler.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            # Chatty libraries: their warnings, not their info.
            "eventsourcing": {"level": quiet},
            "asyncpg": {"level": quiet},
            "psycopg": {"level": quiet},
            "psycopg.pool": {"level": quiet},
            "websockets": {"level": quiet},
            "matplotlib": {"level": "WARNING"},
        },
    }


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is a reasonable one, else a new random id."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            given = value.decode("latin-1").strip()
            if _GIVEN_ID.match(given):
                return given
            break
    return secrets.token_hex(8)


class RequestId:
    """ASGI middleware: each request (and websocket) gets a request id, from X-Request-ID or
    made here; it is current while the request is served (log lines, and the events its
    commands record carry it) and is returned in the answer's X-Request-ID header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        token = set_request_id(request_id)
        state_token = _request_state.set(state)
        try:
            await self.app(scope, receive, sending)
        finally:
            _request_state.reset(state_token)
            reset_request_id(token)
