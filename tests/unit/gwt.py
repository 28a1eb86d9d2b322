"""Given-when-then helpers: past events in, one command, new events or an error out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eventsourcing.domain import Aggregate, CanMutateAggregate

from najda.domain.errors import DispatchError

A = TypeVar("A", bound=Aggregate)
E = TypeVar("E", bound=DispatchError)

Event = CanMutateAggregate[Any]


def history(create: Callable[[], A], *commands: Callable[[A], object]) -> list[Event]:
    """Create a fresh aggregate, run commands on it and return every event it produced."""
    aggregate = create()
    for command in commands:
        command(aggregate)
    return list(aggregate.collect_events())


def replay(events: Sequence[Event], cls: type[A]) -> A:
    """Rebuild an aggregate of type `cls` by applying past events in order."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    if not isinstance(aggregate, cls):
        raise TypeError(f"events rebuild {type(aggregate).__name__}, not {cls.__name__}")
    return aggregate


def event_names(events: Sequence[object]) -> list[str]:
    """The class names of events, e.g. ['Registered', 'Dispatched']."""
    return [type(e).__name__ for e in events]


def declared_events(cls: type[Aggregate]) -> set[str]:
    """Names of the stored event classes an aggregate class declares (not its bases)."""
    return {
        name
        for name, value in vars(cls).items()
        if isinstance(value, type)
        and issubclass(value, Aggregate.Event)
        and name not in ("Created", "Event")
    }


@dataclass(frozen=True)
class Expected:
    """An expected new event: its type name and the attributes that matter."""

    name: str
    attrs: Mapping[str, object] = field(default_factory=dict)


def ev(name: str, **attrs: object) -> Expected:
    """Shorthand for an expected event: `ev("StatusChanged", status=UnitStatus.EN_ROUTE)`."""
    return Expected(name, attrs)


@dataclass
class Outcome(Generic[A]):
    """What one command did to an aggregate rebuilt from the given events."""

    aggregate: A
    new_events: list[Event]
    error: DispatchError | None

    def then(self, *expected: Expected) -> list[Event]:
        """Assert the command succeeded and produced exactly these new events, in order."""
        if self.error is not None:
            raise AssertionError(
                f"expected events {[x.name for x in expected]}, got {self.error!r}"
            )
        assert event_names(self.new_events) == [x.name for x in expected]
        for event, want in zip(self.new_events, expected, strict=True):
            for attr, value in want.attrs.items():
                actual = getattr(event, attr)
                assert actual == value, f"{want.name}.{attr}: expected {value!r}, got {actual!r}"
        return self.new_events

    def then_raises(self, error_type: type[E], *mentions: str) -> E:
        """Assert the command was refused with `error_type` naming `mentions`, and no event."""
        if self.error is None:
            raise AssertionError(
                f"expected {error_type.__name__}, got events {event_names(self.new_events)}"
            )
        if not isinstance(self.error, error_type):
            raise AssertionError(f"expected {error_type.__name__}, got {self.error!r}")
        for text in mentions:
            assert text in str(self.error), f"{text!r} not named in {str(self.error)!r}"
        assert self.new_events == [], f"refused command left {event_names(self.new_events)}"
        return self.error


@dataclass(frozen=True)
class Given(Generic[A]):
    """An aggregate's past, ready to receive one command."""

    events: Sequence[Event]
    cls: type[A]

    def when(self, command: Callable[[A], object]) -> Outcome[A]:
        """Rebuild the aggregate from the past events and run one command on it."""
        aggregate = replay(self.events, self.cls)
        try:
            command(aggregate)
        except DispatchError as error:
            return Outcome(aggregate, list(aggregate.collect_events()), error)
        return Outcome(aggregate, list(aggregate.collect_events()), None)


def given(events: Sequence[Event], cls: type[A]) -> Given[A]:
    """Start a scenario from past events of an aggregate of type `cls`."""
    return Given(events, cls)
