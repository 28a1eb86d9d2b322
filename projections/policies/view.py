"""What a dispatch policy may read: the situation, calls, units and travel, as protocols.

The simulator's scenario, calls, units and travel satisfy them, and so does the live
server's picture of its stations and available units (`najda.projections.policies.live`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import Field
from typing import Any, ClassVar, Protocol
from uuid import UUID

import numpy as np

from najda.domain.values import Priority


class Site(Protocol):
    """A station: how many units it holds (0: no limit)."""

    @property
    def capacity(self) -> int: ...


class UnitSpec(Protocol):
    """A unit's home station (an index into the stations)."""

    @property
    def station(self) -> int: ...


class PriorityClass(Protocol):
    """A call priority: the Najda priority, its target, travel mode and coverage time."""

    @property
    def priority(self) -> Priority: ...

    @property
    def target_s(self) -> float: ...

    @property
    def travel_mode(self) -> int: ...

    @property
    def coverage_s(self) -> float: ...


class Demand(Protocol):
    """Where calls come from: the weight of each demand point."""

    @property
    def weights(self) -> np.ndarray: ...


class Scenario(Protocol):
    """The fixed part of the situation: stations, units, priorities and demand."""

    @property
    def stations(self) -> Sequence[Site]: ...

    @property
    def units(self) -> Sequence[UnitSpec]: ...

    @property
    def priorities(self) -> Mapping[str, PriorityClass]: ...

    @property
    def demand(self) -> Demand: ...

    @property
    def busy_fraction(self) -> float: ...

    def priority_order(self) -> list[str]:
        """Priority names, most urgent first."""
        ...


class Call(Protocol):
    """A call waiting for a unit: when it came (seconds on the situation's clock) and its
    priority (a key of the scenario's priorities)."""

    @property
    def at_s(self) -> float: ...

    @property
    def priority(self) -> str: ...


class SimUnit(Protocol):
    """A unit as a policy sees it (a dataclass): its roster index, id, call sign and the
    station it waits at."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def index(self) -> int: ...

    @property
    def unit_id(self) -> UUID: ...

    @property
    def call_sign(self) -> str: ...

    station: int


class Travel(Protocol):
    """Which demand points a unit idle at a station reaches in time."""

    def station_cover(self, station: int, mode: int, limit_s: float) -> np.ndarray:
        """Which demand points a unit idle at the station reaches within `limit_s`."""
        ...
