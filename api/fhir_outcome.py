"""FHIR answers: OperationOutcome for every error (with `expression` FHIRPaths), and the
batch-response entries of a `batch` Bundle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

FHIR_JSON = "application/fhir+json"
#: HTTP status lines used in batch-response entries.
STATUS_LINES = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    409: "409 Conflict",
    415: "415 Unsupported Media Type",
    422: "422 Unprocessable Entity",
}


def expression(path: str, root: str) -> str:
    """A problem's path as FHIRPath from the resource posted: 'valueQuantity.value' in an
    Observation → 'Observation.valueQuantity.value'; 'body' → the resource itself."""
    if path in ("", "body"):
        return root
    return f"{root}.{path}"


def issue_code(message: str) -> str:
    """The FHIR issue type a problem's message describes."""
    if message.startswith("missing"):
        return "required"
    if message.startswith("unknown element") or message.startswith("only one of"):
        return "structure"
    if "is not a plausible" in message:
        return "value"
    return "invalid"


def issue(
    message: str,
    *,
    path: str | None = None,
    root: str = "",
    severity: str = "error",
    code: str | None = None,
) -> dict[str, Any]:
    """One OperationOutcome issue (with an expression when a path is known)."""
    found: dict[str, Any] = {
        "severity": severity,
        "code": code or issue_code(message),
        "details": {"text": message},
        "diagnostics": message,
    }
    if path is not None:
        found["expression"] = [expression(path, root)]
    return found


def operation_outcome(issues: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """An OperationOutcome resource."""
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def problems_outcome(problems: Sequence[tuple[str, str]], root: str) -> dict[str, Any]:
    """Every problem as an error issue at its FHIRPath."""
    return operation_outcome([issue(m, path=p, root=root) for p, m in problems])


def outcome_response(
    status: int, outcome: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    """An OperationOutcome answer as application/fhir+json."""
    return JSONResponse(outcome, status_code=status, media_type=FHIR_JSON, headers=headers)


def refusal_response(
    status: int, problems: Sequence[tuple[str, str]], root: str, code: str | None = None
) -> JSONResponse:
    """An error answer listing the problems (`code` forces the issue type)."""
    issues = [issue(m, path=p, root=root, code=code) for p, m in problems]
    return outcome_response(status, operation_outcome(issues))


def batch_entry(status: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """One entry of a batch-response Bundle: the status and what happened."""
    return {"response": {"status": STATUS_LINES.get(status, str(status)), "outcome": outcome}}
