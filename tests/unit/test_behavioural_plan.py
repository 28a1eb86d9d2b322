"""The response plan's behavioural part: which calls read as behavioural, and what they get."""

from __future__ import annotations

import pytest

from najda.domain.dispatch.response_plan import ResponsePlan, default_response_plan
from najda.domain.errors import InvalidValue
from najda.domain.values import Priority, UnitKind

AMBULANCE_KINDS = {UnitKind.ALS, UnitKind.BLS}
LOW = [Priority.OMEGA, Priority.A, Priority.B]
HIGH = [Priority.C, Priority.D, Priority.E]


def _kinds(priority: Priority, nature: str, determinant: str = "") -> list[set[UnitKind]]:
    plan = default_response_plan()
    return [set(r.kinds) for r in plan.requirements_for(priority, nature, determinant)]


@pytest.mark.parametrize(
    "nature",
    ["psychiatric crisis", "Suicidal ideation", "self-harm", "hallucinating", "panic attack"],
)
@pytest.mark.parametrize("priority", LOW)
def test_a_low_priority_behavioural_call_gets_a_crisis_team_and_no_ambulance(
    priority: Priority, nature: str
) -> None:
    assert _kinds(priority, nature) == [{UnitKind.CRISIS}]


@pytest.mark.parametrize("priority", HIGH)
def test_a_higher_priority_behavioural_call_gets_an_ambulance_and_a_crisis_team(
    priority: Priority,
) -> None:
    kinds = _kinds(priority, "suicide attempt")

    assert {UnitKind.CRISIS} in kinds
    assert {UnitKind.ALS} in kinds


@pytest.mark.parametrize(
    "nature",
    [
        "sickle cell crisis",
        "hypertensive crisis",
        "asthma crisis",
        "altered mental status",
        "Altered level of consciousness",
        "chest pain",
        "fall",
    ],
)
@pytest.mark.parametrize("priority", list(Priority))
def test_a_medical_call_never_gets_a_crisis_team(priority: Priority, nature: str) -> None:
    assert not default_response_plan().is_behavioural(nature)
    assert all(UnitKind.CRISIS not in kinds for kinds in _kinds(priority, nature))


def test_an_mpds_protocol_25_determinant_makes_the_call_behavioural() -> None:
    plan = default_response_plan()

    assert plan.is_behavioural("man acting strangely", "25-A-1")
    assert plan.is_behavioural("unknown problem", "25B1")
    assert not plan.is_behavioural("unknown problem", "32-B-1")
    assert not plan.is_behavioural("unknown problem", "125-A-1")
    assert _kinds(Priority.A, "man acting strangely", "25-A-1") == [{UnitKind.CRISIS}]


def test_a_behavioural_word_beside_a_medical_lookalike_still_counts() -> None:
    assert default_response_plan().is_behavioural("suicidal, altered mental status")


def test_the_medical_pattern_can_be_configured_and_must_be_a_regex() -> None:
    plan = ResponsePlan.from_mapping({"medical_pattern": "panic attack"})
    assert not plan.is_behavioural("panic attack")
    with pytest.raises(InvalidValue) as refused:
        ResponsePlan.from_mapping({"medical_pattern": "("})
    assert refused.value.field == "medical_pattern"
