"""The incident board interface: open incidents with priority, status, units and age."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from najda.projections.base import Projection
from najda.projections.dispatch.read_model_changes import BoardRow


class IncidentBoard(Projection, Protocol):
    """A projection of the open incidents."""

    async def open_incidents(self) -> list[BoardRow]:
        """Open incidents, most urgent first, then oldest first."""
        ...

    async def get(self, incident_id: UUID) -> BoardRow | None:
        """One open incident's row, or None when closed, cancelled or unknown."""
        ...
