"""Bounded reverse searches give bit-for-bit the ETAs and path times of full ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from najda.geo.roads import RoadNetwork, Snap

MODE = 1
SPEED = {MODE: 10.0}


def random_network(rng: np.random.Generator, n: int, arcs: int) -> RoadNetwork:
    """A random directed graph with float arc times (some nodes unreachable), random places."""
    src = rng.integers(0, n, arcs)
    dst = rng.integers(0, n, arcs)
    times = rng.uniform(0.3, 400.0, arcs) * rng.choice([1.0, 1 / 3, 0.1], arcs)
    lats = rng.uniform(40.70, 40.80, n)
    lons = rng.uniform(-74.02, -73.93, n)
    return RoadNetwork(lats, lons, src, dst, {MODE: times}, SPEED, cache_size=4)


def full_etas(net: RoadNetwork, target: Snap, sources: list[Snap]) -> np.ndarray:
    """The unbounded reference: a tree from the source where pinned, else a full reverse tree."""
    reverse = dijkstra(net.reverse[MODE], indices=target.node)
    out = np.empty(len(sources))
    for i, s in enumerate(sources):
        if net.has_tree_from(s.node, MODE):
            path = net.tree_from(s.node, MODE)[target.node]
        else:
            path = reverse[s.node]
        out[i] = path + s.off_road_m / SPEED[MODE]
    return out + target.off_road_m / SPEED[MODE]


def line_network(n: int, hub: int) -> RoadNetwork:
    """Nodes 0..n-1 on a line, 10 s between neighbours both ways; trees pinned at `hub`."""
    src = list(range(n - 1)) + list(range(1, n))
    dst = list(range(1, n)) + list(range(n - 1))
    net = RoadNetwork(
        np.linspace(40.0, 41.0, n), np.zeros(n), src, dst, {MODE: np.full(2 * n - 2, 10.0)}, SPEED
    )
    net.pin_trees_from([hub], MODE)
    net.pin_trees_to([hub], MODE)
    return net


@pytest.mark.parametrize("seed", range(12))
def test_bounded_etas_equal_full_ones_on_random_graphs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 400))
    net = random_network(rng, n, int(n * rng.uniform(1.5, 4.0)))
    hubs = sorted({int(h) for h in rng.integers(0, n, int(rng.integers(1, 6)))})
    net.pin_trees_from(hubs, MODE)
    net.pin_trees_to(hubs, MODE)
    bounded = 0
    for _ in range(25):
        target = Snap(int(rng.integers(0, n)), float(rng.uniform(0, 300)))
        count = int(rng.integers(1, 12))
        nodes = rng.integers(0, n, count).tolist() + rng.choice(hubs, 2).tolist()
        sources = [Snap(int(v), float(rng.uniform(0, 300))) for v in nodes]
        got = net.etas_to(target, sources, MODE)
        want = full_etas(net, target, sources)
        np.testing.assert_array_equal(got, want)  # exact, inf where unreachable alike
        # the later drive (path_s) reads the same value as a full reverse tree gives
        reverse = dijkstra(net.reverse[MODE], indices=target.node)
        for s in sources:
            if not net.has_tree_from(s.node, MODE):
                assert net.path_s(s.node, target.node, MODE) == reverse[s.node]
        bounded += (target.node, MODE) in net._near.items
    assert bounded > 0, "no search was bounded: the test would not cover the bound"


def test_bounded_search_stops_short_of_the_whole_graph() -> None:
    """On a long line with a hub beside the target, the search settles only nearby nodes."""
    n = 200
    net = line_network(n, hub=100)
    etas = net.etas_to(Snap(102, 0.0), [Snap(98, 0.0), Snap(105, 0.0)], MODE)
    assert etas.tolist() == [40.0, 30.0]
    near = net._near.items[(102, MODE)]
    assert np.isinf(near[0]) and np.isinf(near[n - 1])  # far ends left unsearched
    assert net.path_s(0, 102, MODE) == 1020.0  # beyond the bound: the full tree answers


def test_without_hubs_the_full_tree_is_used() -> None:
    rng = np.random.default_rng(7)
    net = random_network(rng, 120, 400)
    target, sources = Snap(5, 0.0), [Snap(v, 1.0) for v in range(0, 120, 7)]
    np.testing.assert_array_equal(
        net.etas_to(target, sources, MODE), full_etas(net, target, sources)
    )
    assert not net._near.items and (5, MODE) in net._to.items


def test_keeping_the_quickest_gives_their_exact_etas_and_skips_only_slower_ones() -> None:
    skipped = 0
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        n = int(rng.integers(30, 400))
        net = random_network(rng, n, int(n * rng.uniform(1.5, 4.0)))
        hubs = sorted({int(h) for h in rng.integers(0, n, int(rng.integers(2, 8)))})
        net.pin_trees_from(hubs, MODE)
        net.pin_trees_to(hubs, MODE)
        for _ in range(25):
            target = Snap(int(rng.integers(0, n)), float(rng.uniform(0, 300)))
            nodes = rng.integers(0, n, int(rng.integers(1, 6))).tolist()
            sources = [Snap(int(v), float(rng.uniform(0, 300)))
                       for v in nodes + rng.choice(hubs, 3).tolist()]
            keep = int(rng.integers(1, 4))
            within = float(rng.uniform(0, 1500)) if rng.random() < 0.5 else None
            got = net.etas_to(target, sources, MODE, keep, within)
            want = full_etas(net, target, sources)
            order = sorted(range(len(sources)), key=lambda i: (want[i], i))
            slowest_kept = max(want[order[keep - 1]], -np.inf if within is None else within)
            for i in range(len(sources)):  # the quickest `keep` and those within: exact;
                # any other: exact, or skipped as inf being slower
                if i in order[:keep] or want[i] <= slowest_kept:
                    assert got[i] == want[i]
                assert got[i] == want[i] or (np.isinf(got[i]) and want[i] > slowest_kept)
            skipped += int(np.sum(np.isinf(got) & np.isfinite(want)))
    assert skipped > 0, "no source was skipped: the test would not cover the bound"


def test_keeping_the_quickest_searches_no_farther_than_the_kept_time() -> None:
    """On a long line, with a hub 10 nodes off the target: the hubs bound the search for
    a source 5 nodes off at 150 s, but a hub source already arrives in 100 s, so keeping
    the quickest searches only 100 s around the target, and later drives still read
    exact times."""
    n = 200
    net = line_network(n, hub=100)
    sources = [Snap(100, 0.0), Snap(60, 0.0), Snap(105, 0.0)]
    etas = net.etas_to(Snap(110, 0.0), sources, MODE, keep=1)
    assert etas.tolist() == [100.0, np.inf, 50.0]
    near = net._near.items[(110, MODE)]
    assert near[100] == 100.0 and near[120] == 100.0  # searched up to the kept time
    assert np.isinf(near[99]) and np.isinf(near[121])  # not to the hubs' 150 s
    assert net.path_s(105, 110, MODE) == 50.0
    assert net.path_s(60, 110, MODE) == 500.0  # beyond the search: the full tree answers
