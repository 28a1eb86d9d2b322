"""Road travel times on a tiny hand-made network equal hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from najda.geo.distance import chord_to_m, unit_vectors
from najda.geo.jemss_tables import TableError
from najda.geo.roads import RoadNetwork, Snap, load_jemss_roads
from tests.unit.jemss_fixture import NODES, OFF_ROAD_KM_PER_DAY, write_roads

SPEEDS = {m: v * 1000 / 86_400 for m, v in OFF_ROAD_KM_PER_DAY.items()}
EARTH_RADIUS_M = 6_371_008.8


@pytest.fixture
def network(tmp_path: Path) -> RoadNetwork:
    write_roads(tmp_path / "roads")
    return load_jemss_roads(tmp_path / "roads", SPEEDS)


def node(i: int) -> tuple[float, float]:
    lat, lon, _ = NODES[i]
    return (lat, lon)


@pytest.mark.parametrize(
    ("start", "end", "mode", "expected_s"),
    [
        (1, 3, 1, 60 + 60),  # via node 2 beats the direct 200 s arc
        (3, 2, 1, 100 + 60),  # no 3→2 arc: back to 1, then on to 2
        (1, 2, 1, 60),  # the quicker of two parallel arcs
        (5, 2, 1, 40 + 100 + 60),
        (1, 3, 2, 90 + 90),  # regular mode has its own times
        (3, 2, 2, 150 + 90),
        (2, 2, 1, 0),
    ],
)
def test_node_to_node_travel_equals_the_hand_computed_shortest_path(
    network: RoadNetwork, start: int, end: int, mode: int, expected_s: float
) -> None:
    assert network.travel_s(node(start), node(end), mode) == pytest.approx(expected_s, abs=1e-6)


def test_an_off_network_point_adds_its_off_road_leg_at_the_modes_off_road_speed(
    network: RoadNetwork,
) -> None:
    # 0.0005 degrees of latitude north of node 3 (nearer to it than to node 5).
    off_m = EARTH_RADIUS_M * math.radians(0.0005)
    expected = 120 + off_m / (352_000 / 86_400)
    assert network.travel_s(node(1), (40.7025, -74.000), 1) == pytest.approx(expected, abs=1e-3)
    expected_2 = 180 + off_m / (264_000 / 86_400)
    assert network.travel_s(node(1), (40.7025, -74.000), 2) == pytest.approx(expected_2, abs=1e-3)


def test_points_never_snap_to_a_node_without_off_road_access(network: RoadNetwork) -> None:
    snap = network.snap(*node(4))
    assert snap.node == 0  # node 1 (index 0), not node 4 on the motorway
    assert snap.off_road_m == pytest.approx(
        EARTH_RADIUS_M * math.radians(0.002) * math.cos(math.radians(40.7)), rel=1e-4
    )


def test_snapping_many_points_at_once_gives_what_snapping_each_gives(
    network: RoadNetwork, tmp_path: Path
) -> None:
    points = [node(4), (node(1)[0] + 0.001, node(1)[1]), node(2), node(4), node(3)]
    first = network.snap_points(points[:2])  # some remembered before, some not
    assert first == [network.snap(*p) for p in points[:2]]
    fresh = load_jemss_roads(tmp_path / "roads", SPEEDS)
    expected = [fresh.snap(*p) for p in points]
    assert network.snap_points(points) == expected
    assert expected[0].node == 0 and expected[0] == expected[3]
    assert network.snap_points([]) == []


def test_route_lists_the_nodes_of_the_shortest_path_with_arrival_times(
    network: RoadNetwork,
) -> None:
    nodes, times = network.route(0, 2, 1)  # node 1 to node 3
    assert nodes.tolist() == [0, 1, 2]
    assert times.tolist() == pytest.approx([0, 60, 120])


def test_reverse_trees_and_trees_from_agree(network: RoadNetwork) -> None:
    for mode in (1, 2):
        for a in range(5):
            for b in range(5):
                assert network.tree_from(a, mode)[b] == pytest.approx(network.tree_to(b, mode)[a])


def test_etas_to_uses_pinned_trees_and_reverse_search_alike(network: RoadNetwork) -> None:
    target = network.snap(*node(2))
    sources = [network.snap(*node(i)) for i in (1, 3, 5)]
    before = network.etas_to(target, sources, 1).tolist()
    network.pin_trees_from([s.node for s in sources], 1)
    after = network.etas_to(target, sources, 1).tolist()
    assert before == pytest.approx([60, 160, 200])
    assert after == pytest.approx(before)


def test_forget_drops_what_runs_remembered_and_keeps_the_pinned_trees(
    network: RoadNetwork,
) -> None:
    network.pin_trees_from([0], 1)
    first = network.travel_s(node(3), node(2), 1)  # a reverse search from node 2, two snaps
    network.tree_from(4, 1)  # a tree kept in the cache, not pinned
    assert network._to.items and network._snaps
    network.forget()
    assert network.has_tree_from(0, 1) and not network.has_tree_from(4, 1)
    assert not network._to.items and not network._near.items and not network._snaps
    assert network.travel_s(node(3), node(2), 1) == first

def test_a_missing_arcs_table_is_named(tmp_path: Path) -> None:
    write_roads(tmp_path / "roads")
    (tmp_path / "roads" / "arcs.csv").write_text("nothing,here\n")
    with pytest.raises(TableError, match="arcs"):
        load_jemss_roads(tmp_path / "roads", SPEEDS)


def test_next_hops_lead_to_the_node_in_its_reverse_tree_times_and_outlive_forget(
    network: RoadNetwork,
) -> None:
    times, nxt = network.next_hops_to(1, 1)
    assert times.tolist() == network.tree_to(1, 1).tolist()
    node, walked = 4, 0.0  # from the fifth node, hop by hop
    while nxt[node] >= 0:
        walked += network.travel_s(node_at(network, node), node_at(network, int(nxt[node])), 1)
        node = int(nxt[node])
    assert node == 1 and walked == pytest.approx(times[4])
    network.forget()
    assert network.next_hops_to(1, 1)[0] is times  # kept, not searched again


def node_at(network: RoadNetwork, index: int) -> tuple[float, float]:
    return (float(network.lats[index]), float(network.lons[index]))


class CountingTree:
    """A k-d tree that counts its queries."""

    def __init__(self, tree: Any) -> None:
        self.tree, self.queries = tree, 0

    def query(self, x: Any) -> Any:
        self.queries += 1
        return self.tree.query(x)


def test_a_point_where_a_node_is_snaps_as_its_own_query_would_from_one_query_for_all(
    network: RoadNetwork, tmp_path: Path
) -> None:
    """Units on the road report node positions: each node's snap is found once, in one
    query for every node, and is the very snap a query for that point alone gives."""
    fresh = load_jemss_roads(tmp_path / "roads", SPEEDS)
    alone = []
    for i in range(fresh.node_count):
        lat, lon = node_at(fresh, i)
        chord, k = fresh._snap_tree.query(unit_vectors(np.array([lat]), np.array([lon]))[0])
        alone.append(Snap(int(fresh.snap_nodes[int(k)]), float(chord_to_m(float(chord)))))
    counting = CountingTree(network._snap_tree)
    network._snap_tree = counting  # type: ignore[assignment]
    nodes = [node_at(network, i) for i in range(network.node_count)]
    assert [network.snap(*p) for p in nodes] == alone
    network.forget()  # what runs remembered goes; every node's snap stays
    assert network.snap_points(nodes) == alone
    assert counting.queries == 1
    network.snap(40.7004, -74.0003)  # not where a node is: a query of its own
    assert counting.queries == 2


def test_hops_of_two_to_the_k_are_k_doublings_of_the_next_hop_and_outlive_forget(
    network: RoadNetwork,
) -> None:
    _, nxt = network.next_hops_to(2, 1)
    levels = network.hops_to(2, 1)
    assert len(levels) >= 2  # some node is two hops or more from the third
    for k, hops in enumerate(levels):
        for start in range(network.node_count):
            here = start
            for _ in range(2**k):
                here = int(nxt[here]) if here >= 0 and nxt[here] >= 0 else -1
            assert hops[start] == here
    network.forget()
    assert network.hops_to(2, 1) is levels
