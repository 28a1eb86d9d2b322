"""Text limits are written once, in the domain; the API's schemas take the same ones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import najda.api
from najda.api.app import create_app
from najda.api.input_limits import MAX_AS_OF, MAX_SEARCH_WORDS, MAX_UNIT_REF
from najda.api.live.rules import client_rules
from najda.api.schemas_care import ConsultCreate, ConsultEnd, DestinationChoice
from najda.api.schemas_incidents import IncidentClose, IncidentCreate, NoteCreate
from najda.api.schemas_reference import StationCreate
from najda.api.schemas_units import UnitCreate, UnitStatusChange
from najda.api.schemas_users import UserCreate
from najda.domain.access.user import MAX_USER_NAME
from najda.domain.errors import InvalidValue
from najda.domain.persistence.client_command import MAX_COMMAND_ID
from najda.domain.values import (
    MAX_ADDRESS,
    MAX_CALL_SIGN,
    MAX_NAME,
    MAX_NOTE,
    MAX_REASON,
    MAX_REMARK,
    MAX_SHORT,
    require_text,
)


def _max_length(schema: type[BaseModel], field: str) -> int:
    found = schema.model_json_schema()["properties"][field]
    options = found.get("anyOf", [found])
    return int(next(o["maxLength"] for o in options if "maxLength" in o))


@pytest.mark.parametrize(
    ("schema", "field", "limit"),
    [
        (IncidentCreate, "nature", MAX_NAME),
        (IncidentCreate, "address", MAX_ADDRESS),
        (IncidentCreate, "determinant", MAX_SHORT),
        (IncidentCreate, "callback", MAX_SHORT),
        (NoteCreate, "text", MAX_NOTE),
        (IncidentClose, "disposition", MAX_REASON),
        (StationCreate, "code", MAX_SHORT),
        (StationCreate, "name", MAX_NAME),
        (UnitCreate, "call_sign", MAX_CALL_SIGN),
        (ConsultCreate, "reason", MAX_REMARK),
        (ConsultEnd, "recommendation", MAX_NOTE),
        (DestinationChoice, "hospital", MAX_SHORT),
        (DestinationChoice, "command_id", MAX_COMMAND_ID),
        (UnitStatusChange, "command_id", MAX_COMMAND_ID),
        (UserCreate, "name", MAX_USER_NAME),
    ],
)
def test_a_schema_refuses_what_the_domain_refuses(
    schema: type[BaseModel], field: str, limit: int
) -> None:
    assert _max_length(schema, field) == limit
    assert require_text(field, "x" * limit, limit) == "x" * limit
    with pytest.raises(InvalidValue):
        require_text(field, "x" * (limit + 1), limit)


def test_the_pages_write_no_length_of_their_own() -> None:
    """Every text input's limit comes from the server's rules (`data-limit`), never a literal
    `maxlength` in a page or script (a literal drifts from what the API accepts)."""
    static = Path(najda.api.__file__).resolve().parent / "static"
    pages = [p for p in sorted(static.glob("*.*")) if p.suffix in {".html", ".js"}]
    assert len(pages) > 10
    literal = re.compile(r"max[lL]ength\s*[=:]\s*[\"']?\d", re.IGNORECASE)
    found = {p.name: literal.findall(p.read_text()) for p in pages}
    assert {name: hits for name, hits in found.items() if hits} == {}


def _max_of(schema: dict[str, Any]) -> int | None:
    options = schema.get("anyOf", [schema])
    return next((int(o["maxLength"]) for o in options if "maxLength" in o), None)


def _openapi() -> dict[str, Any]:
    spec: dict[str, Any] = create_app().openapi()
    return spec


def test_the_rules_the_pages_receive_are_the_limits_the_api_enforces() -> None:
    limits = client_rules()["limits"]
    params = {
        (path, p["name"]): _max_of(p["schema"])
        for path, item in _openapi()["paths"].items()
        for operation in item.values()
        for p in operation.get("parameters", [])
    }
    assert params[("/incidents", "q")] == limits["search"] == MAX_SEARCH_WORDS
    assert params[("/incidents", "unit")] == limits["unit_ref"] == MAX_UNIT_REF
    assert params[("/incidents/{incident_id}", "as_of")] == limits["as_of"] == MAX_AS_OF
    assert limits["note"] == MAX_NOTE and limits["reason"] == MAX_REASON
