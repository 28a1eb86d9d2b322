"""The one place where errors become HTTP answers: 422, 404, 409, and 503 for store outages."""

from __future__ import annotations

import json
import math
from typing import Any

from asyncpg import PostgresConnectionError
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from najda.api.auth import Forbidden, Unauthenticated
from najda.api.fhir_outcome import issue, operation_outcome, outcome_response
from najda.api.throttle import TooManyFailures
from najda.domain.errors import Conflict, DispatchError, InvalidValue, NotFound

#: The one mapping of the domain's errors to status codes, most specific first: REST answers
#: and socket replies alike.
STATUSES: tuple[tuple[type[DispatchError], int], ...] = (
    (InvalidValue, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (TooManyFailures, 429),
    (DispatchError, 400),
)


def status_for(exc: DispatchError) -> int:
    """The status code of a domain error (the first class in STATUSES it is an instance of)."""
    return next(code for cls, code in STATUSES if isinstance(exc, cls))


def query_error(name: str, exc: InvalidValue) -> RequestValidationError:
    """A 422 naming the query parameter."""
    return RequestValidationError(
        [{"loc": ("query", name), "msg": exc.message, "type": "value_error"}]
    )


class ErrorPublic(BaseModel):
    """The body of a 404, 409 or 503 answer."""

    detail: str


#: Error answers shared by the routes, for the OpenAPI description.
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorPublic, "description": "No such incident, unit, station or hospital"}
}
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {
        "model": ErrorPublic,
        "description": "Refused by the current state (names current and requested status)",
    }
}
ERRORS = {**NOT_FOUND, **CONFLICT}
#: Answers any operation may give, whatever its parameters.
COMMON: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorPublic, "description": "The body is not valid JSON"},
    401: {"model": ErrorPublic, "description": "No bearer token, or an unknown or revoked one"},
    403: {"model": ErrorPublic, "description": "The token's role may not do this"},
    413: {"model": ErrorPublic, "description": "The body is larger than the server accepts"},
    429: {
        "model": ErrorPublic,
        "description": "Too many failed sign-ins from this client; retry after Retry-After",
    },
    503: {
        "model": ErrorPublic,
        "description": "The event store is unreachable for now; retry after Retry-After",
    },
}

#: How many validation errors one 422 answer lists at most.
MAX_ERRORS_SHOWN = 20

#: Store failures that pass: a lost connection, a lock or pool timeout.
UNAVAILABLE = (OperationalError, InterfaceError, PostgresConnectionError)


def field_path(field: str) -> list[str | int]:
    """'positions[1].unit' → ['positions', 1, 'unit'] (FastAPI's location shape)."""
    path: list[str | int] = []
    for part in field.split("."):
        name, _, rest = part.partition("[")
        if name:
            path.append(name)
        for index in rest.rstrip("]").split("]["):
            if index.isdigit():
                path.append(int(index))
    return path


def invalid_value_response(exc: InvalidValue, location: str = "body") -> JSONResponse:
    """422 in the shape of FastAPI's validation errors, naming the field."""
    return JSONResponse(
        status_code=status_for(exc),
        content={
            "detail": [
                {
                    "loc": [location, *field_path(exc.field)],
                    "msg": exc.message,
                    "type": "value_error",
                }
            ]
        },
    )


async def _invalid_value(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, InvalidValue):  # pragma: no cover - registered for InvalidValue only
        raise exc
    return invalid_value_response(exc)


def _finite(value: Any) -> Any:
    """JSON-safe copy: non-finite floats (echoed inputs such as NaN) become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        return False
    return True


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover - registered for it only
        raise exc
    # A body with thousands of bad keys would otherwise make thousands of errors, encoded on
    # the event loop; the first few say what is wrong.
    # The echoed input is left out before anything walks it: it may be nested thousands
    # deep (a recursion error, once a 500) or not even encodable (a lone surrogate); the
    # field's location and the message say what is wrong without it.
    shown = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()[:MAX_ERRORS_SHOWN]]
    errors = _finite(jsonable_encoder(shown))
    for error in errors:
        if not _encodable(error.get("ctx")):
            error.pop("ctx", None)
    return JSONResponse(status_code=422, content={"detail": errors})


def _status(exc: Exception) -> int:
    """The status of an error a handler was registered for (all are DispatchErrors)."""
    return status_for(exc) if isinstance(exc, DispatchError) else 500


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    """Not found, conflict, or any other refusal: the status from STATUSES, the message."""
    return JSONResponse(status_code=_status(exc), content={"detail": str(exc)})


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={"detail": f"the store is unavailable, retry shortly ({type(exc).__name__})"},
        headers={"Retry-After": "2"},
    )


async def _unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"}
    if _is_fhir(request):
        return outcome_response(_status(exc), _security_outcome(str(exc), "login"), headers)
    return JSONResponse(status_code=_status(exc), content={"detail": str(exc)}, headers=headers)


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    if _is_fhir(request):
        return outcome_response(_status(exc), _security_outcome(str(exc), "forbidden"))
    return JSONResponse(status_code=_status(exc), content={"detail": str(exc)})


def _is_fhir(request: Request) -> bool:
    """True on the FHIR endpoints, whose errors are OperationOutcomes."""
    return request.url.path == "/fhir" or request.url.path.startswith("/fhir/")


def _security_outcome(message: str, code: str) -> dict[str, Any]:
    return operation_outcome([issue(message, code=code)])


async def _throttled(_request: Request, exc: Exception) -> JSONResponse:
    wait = exc.retry_after_s if isinstance(exc, TooManyFailures) else 60
    headers = {"Retry-After": str(wait)}
    return JSONResponse(status_code=_status(exc), content={"detail": str(exc)}, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map the domain's error tree to status codes (the most specific class wins)."""
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(InvalidValue, _invalid_value)
    app.add_exception_handler(NotFound, _refused)
    app.add_exception_handler(Conflict, _refused)
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(TooManyFailures, _throttled)
    app.add_exception_handler(DispatchError, _refused)
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)
