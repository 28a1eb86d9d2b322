"""Mental-health crisis teams through a real server: the response plan's behavioural part."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.harness import build_world, ok, proposed, report

AMBULANCES = {"als", "bls"}


def _kinds(recommendation: dict[str, Any]) -> list[str]:
    """Kinds of every proposed unit."""
    return [c["kind"] for c in recommendation["proposed"]]


@pytest.fixture
def world(empty: httpx.Client) -> httpx.Client:
    build_world(empty)
    return empty


def test_crisis_teams_instead_of_ambulances_for_low_priority_behavioural_calls(
    world: httpx.Client,
) -> None:
    for priority in ("OMEGA", "A", "B"):
        created = report(world, priority, nature="agitated, threatening self-harm")
        assert proposed(created["recommendation"]) == [["C-1"]], priority
        rec = ok(world.get(f"/incidents/{created['id']}/recommendations"))
        assert _kinds(rec) == ["crisis"], priority
        assert not AMBULANCES & {
            c["kind"] for line in rec["requirements"] for c in line["alternatives"]
        }


def test_crisis_teams_co_respond_with_an_ambulance_for_higher_priorities(
    world: httpx.Client,
) -> None:
    expected = {
        "C": [["C-1"], ["A-NEAR"]],
        "D": [["A-NEAR"], ["C-1"]],
        "E": [["A-NEAR"], ["B-MID"], ["C-1"]],
    }
    for priority, lines in expected.items():
        created = report(world, priority, nature="suicide attempt")
        assert proposed(created["recommendation"]) == lines, priority


def test_a_medical_call_is_never_recommended_a_crisis_team(world: httpx.Client) -> None:
    for priority in ("OMEGA", "A", "B", "C", "D", "E"):
        for nature in ("chest pain", "sickle cell crisis", "altered mental status"):
            created = report(world, priority, nature=nature)
            rec = created["recommendation"]
            every = [
                c for line in rec["requirements"] for c in line["proposed"] + line["alternatives"]
            ]
            assert every, (priority, nature)
            assert "crisis" not in {c["kind"] for c in every}, (priority, nature)


def test_a_protocol_25_determinant_gets_the_crisis_team(world: httpx.Client) -> None:
    created = report(world, "A", nature="man acting strangely", determinant="25-A-1")
    assert proposed(created["recommendation"]) == [["C-1"]]


def test_the_demo_city_fields_crisis_teams_and_sends_the_nearest(demo: httpx.Client) -> None:
    teams = ok(demo.get("/units", params={"kind": "crisis"}))
    assert {u["call_sign"] for u in teams} == {"C1", "C3", "C6"}
    # Next to the Heights station, where C3 is based.
    created = report(demo, "B", nature="psychiatric crisis", lat=36.7352, lon=3.0352)
    assert proposed(created["recommendation"]) == [["C3"]]
    created = report(demo, "D", nature="psychiatric crisis", lat=36.7352, lon=3.0352)
    assert proposed(created["recommendation"]) == [["A30"], ["C3"]]
