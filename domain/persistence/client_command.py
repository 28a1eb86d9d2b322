"""Client commands recorded once by their client-made id, so a replay answers the first result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from najda.domain.errors import CommandIdReused, InvalidValue, RefusedBefore

CLIENT_COMMAND_NAMESPACE = UUID("0d6f3a52-1a0b-4c3e-8f0e-9a5c2b7d4e61")
#: The longest client command id accepted (a UUID is 36 characters).
MAX_COMMAND_ID = 100

#: A command's content: the fields that decide what it does (plain JSON values).
Content = dict[str, str | int | float | bool | None]


def require_command_id(value: object) -> str:
    """A client command id: 1 to 100 printable characters without spaces."""
    if not isinstance(value, str) or not value or len(value) > MAX_COMMAND_ID:
        raise InvalidValue("command_id", f"give 1 to {MAX_COMMAND_ID} characters (a UUID)")
    if not value.isprintable() or any(c.isspace() for c in value):
        raise InvalidValue("command_id", "give printable characters without spaces")
    return value


def client_command_id(scope: str, command_id: str) -> UUID:
    """The record's id: one per command id within its scope (e.g. one unit's crew)."""
    return uuid5(CLIENT_COMMAND_NAMESPACE, f"{scope}\n{command_id}")


def describe(content: Content) -> str:
    """`status en_route incident_id 5f…`: the command's type and values, for a refusal."""
    shown = [(k, v) for k, v in content.items() if k != "type" and v not in ("", None)]
    values = [str(v) if i == 0 else f"{k} {v}" for i, (k, v) in enumerate(shown)]
    return " ".join([str(content.get("type", "command")), *values])


@dataclass(frozen=True)
class Once:
    """Run a command once for this client command id within the scope (e.g. `unit:<id>`)."""

    scope: str
    command_id: str
    content: Content


class ClientCommand(Aggregate):
    """One command a client sent with its own id: what it asked, and what it was answered."""

    TOPIC = "najda:ClientCommand"

    class Created(Aggregate.Created):
        """Base of the record's creation event (never stored itself)."""

        TOPIC = "najda:ClientCommand.Created"

    @event("Recorded", topic="najda:ClientCommand.Recorded")
    def __init__(
        self,
        *,
        id: UUID,
        scope: str,
        command_id: str,
        content: Content,
        result: dict[str, Any],
        refused: str | None,
        actor: str,
        at: datetime,
    ) -> None:
        self.scope = scope
        self.command_id = command_id
        self.content = dict(content)
        self.result = dict(result)
        self.refused = refused
        self.actor = actor
        self.at = at

    def replay(self, content: Content) -> dict[str, Any]:
        """The first answer again, if `content` is what was sent the first time."""
        if dict(content) != self.content:
            raise CommandIdReused(
                self.command_id,
                describe(self.content),
                describe(content),
            )
        if self.refused is not None:
            raise RefusedBefore(self.refused)
        return {**self.result, "replayed": True}
