"""Text limits are written once, in the domain; the API's schemas take the same ones."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

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
