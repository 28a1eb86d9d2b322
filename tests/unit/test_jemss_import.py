"""The JEMSS importer reads a small JEMSS-format scenario written for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from najda.domain.values import Priority
from najda.geo.jemss_model import load_network
from najda.geo.jemss_tables import TableError
from najda.simulations.distributions import DistributionError, parse_distribution
from najda.simulations.jemss import load_jemss
from tests.unit.jemss_fixture import write_scenario


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("jemss"))


def test_reads_units_stations_hospitals_and_priorities(scenario_dir: Path) -> None:
    s = load_jemss(scenario_dir)
    assert [(u.call_sign, u.station) for u in s.units] == [("AMB 1", 0), ("AMB 2", 1)]
    assert [(x.code, x.lat, x.lon, x.capacity) for x in s.stations] == [
        ("S1", 40.700, -74.000, 2),
        ("S2", 40.703, -74.001, 2),
    ]
    assert [(h.code, h.name) for h in s.hospitals] == [("H1", "Test General")]
    high, low = s.priorities["highPriority"], s.priorities["lowPriority"]
    assert high.priority is Priority.D and low.priority is Priority.A
    assert high.target_s == pytest.approx(480.0, abs=0.01)
    assert low.target_s == pytest.approx(630.0, abs=0.01)
    assert (high.travel_mode, low.travel_mode) == (1, 2)
    assert high.coverage_s == pytest.approx(330.0, abs=0.01)
    assert s.return_mode == 2


def test_reads_the_road_network_with_off_road_speeds_per_mode(scenario_dir: Path) -> None:
    network = load_jemss(scenario_dir).network
    assert network is not None
    assert network.node_count == 5
    assert network.off_road_speed_mps == pytest.approx({1: 352_000 / 86_400, 2: 264_000 / 86_400})
    assert network.travel_s((40.700, -74.000), (40.702, -74.000), 1) == pytest.approx(120.0)


def test_the_live_server_reads_the_same_roads_and_the_most_urgent_travel_mode(
    scenario_dir: Path, tmp_path: Path
) -> None:
    """geo/jemss_model.py (what `najda serve --road-network` loads, no simulations import)."""
    network, mode = load_network(scenario_dir)
    assert mode == 1  # highPriority's travel set is listed first
    assert network.node_count == 5
    assert network.off_road_speed_mps == pytest.approx({1: 352_000 / 86_400, 2: 264_000 / 86_400})
    assert network.travel_s((40.700, -74.000), (40.702, -74.000), 1) == pytest.approx(120.0)
    with pytest.raises(TableError, match="not a JEMSS scenario directory"):
        load_network(tmp_path / "nowhere")


def test_calls_follow_the_configured_distributions_and_the_raster(scenario_dir: Path) -> None:
    s = load_jemss(scenario_dir)
    calls = s.calls.calls(20 * 86_400, np.random.default_rng(3))
    assert abs(len(calls) / 20 - 96) < 96 * 0.1  # Exponential(1/(4*24)) days between calls
    assert [c.at_s for c in calls] == sorted(c.at_s for c in calls)
    assert {c.priority for c in calls} == {"highPriority", "lowPriority"}  # medium has p = 0
    assert all(c.dispatch_delay_s == pytest.approx(60.0) for c in calls)  # Normal(1 min, 0)
    assert np.mean([c.on_scene_s for c in calls]) == pytest.approx(300, rel=0.15)
    assert all(c.handover_s == 0 for c in calls if not c.transport)
    # Only the two cells with density: row 1 col 1 (weight 3) and row 2 col 2 (weight 1).
    in_first = [40.7015 <= c.lat <= 40.7025 and -74.0005 <= c.lon <= -73.9995 for c in calls]
    in_second = [40.7005 <= c.lat <= 40.7015 and -73.9995 <= c.lon <= -73.9985 for c in calls]
    assert all(a or b for a, b in zip(in_first, in_second, strict=True))
    assert np.mean(in_first) == pytest.approx(0.75, abs=0.06)


def test_demand_points_carry_the_raster_weights(scenario_dir: Path) -> None:
    demand = load_jemss(scenario_dir, demand_block=1).demand
    assert sorted(demand.weights.tolist()) == pytest.approx([0.25, 0.75])


def test_the_same_seed_gives_the_same_calls(scenario_dir: Path) -> None:
    s = load_jemss(scenario_dir)
    first = s.calls.calls(86_400, np.random.default_rng(9))
    assert first == s.calls.calls(86_400, np.random.default_rng(9))
    assert first != s.calls.calls(86_400, np.random.default_rng(10))


@pytest.mark.parametrize(
    ("text", "mean"),
    [
        ("Exponential(1/(18.8*24))", 1 / (18.8 * 24)),
        ("Normal(2.5/60/24, 0)", 2.5 / 60 / 24),
        ("Bernoulli(0.85)", 0.85),
        ("Categorical([0.42, 0, 0.58])", 0.42 * 1 + 0.58 * 3),
        ("Uniform(2, 4)", 3.0),
    ],
)
def test_julia_distribution_expressions_sample_with_their_means(text: str, mean: float) -> None:
    draws = parse_distribution(text).sample(np.random.default_rng(0), 50_000)
    assert draws.mean() == pytest.approx(mean, rel=0.03)


@pytest.mark.parametrize("text", ["Exponential(__import__('os'))", "Poisson(3)", "Normal(1)", "1+"])
def test_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(DistributionError):
        parse_distribution(text)
