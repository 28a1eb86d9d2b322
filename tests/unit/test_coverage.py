"""Which committed units fill which requirement: a matching, not first come first served."""

from __future__ import annotations

from uuid import uuid4

from najda.domain.dispatch.coverage import Committed, fill, short_of
from najda.domain.dispatch.response_plan import Requirement
from najda.domain.values import UnitKind

K = UnitKind
ALS = Requirement("ALS", frozenset({K.ALS}))
ANY_AMBULANCE = Requirement("ambulance", frozenset({K.ALS, K.BLS}))
OTHER = Requirement("other", frozenset({K.ALS, K.BLS, K.RESPONDER}))
TWO_BLS = Requirement("BLS", frozenset({K.BLS}), count=2)
VENT = Requirement("ventilator", frozenset({K.ALS}), capabilities=frozenset({"ventilator"}))


def _unit(call_sign: str, kind: UnitKind, *capabilities: str) -> Committed:
    return Committed(uuid4(), call_sign, kind, capabilities)


def _signs(filled: list[list[Committed]]) -> list[list[str]]:
    return [[u.call_sign for u in got] for got in filled]


def test_an_als_fills_the_als_requirement_and_not_the_next_one() -> None:
    assert _signs(fill([ALS, OTHER], [_unit("A-1", K.ALS)])) == [["A-1"], []]
    assert short_of([ALS, OTHER], [_unit("A-1", K.ALS)]) == ["other"]


def test_two_als_fill_als_and_other() -> None:
    units = [_unit("A-1", K.ALS), _unit("A-2", K.ALS)]
    assert _signs(fill([ALS, OTHER], units)) == [["A-1"], ["A-2"]]
    assert short_of([ALS, OTHER], units) == []


def test_a_flexible_requirement_yields_its_unit_to_a_stricter_later_one() -> None:
    # The ALS came first and would sit on "ambulance"; the BLS can only fill "ambulance".
    units = [_unit("A-1", K.ALS), _unit("B-1", K.BLS)]
    assert _signs(fill([ANY_AMBULANCE, ALS], units)) == [["B-1"], ["A-1"]]


def test_a_responder_alone_leaves_the_als_short() -> None:
    assert short_of([ALS, OTHER], [_unit("R-1", K.RESPONDER)]) == ["ALS"]


def test_counts_and_capabilities_are_respected() -> None:
    assert short_of([TWO_BLS], [_unit("B-1", K.BLS)]) == ["BLS"]
    assert short_of([TWO_BLS], [_unit("B-1", K.BLS), _unit("B-2", K.BLS)]) == []
    assert short_of([VENT], [_unit("A-1", K.ALS)]) == ["ventilator"]
    assert short_of([VENT], [_unit("A-1", K.ALS, "ventilator")]) == []


def test_nothing_committed_leaves_every_requirement_short() -> None:
    assert short_of([ALS, OTHER], []) == ["ALS", "other"]
