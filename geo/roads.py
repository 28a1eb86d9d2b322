"""Road network travel times: shortest paths over directed arcs, off-road legs to snapped nodes."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from najda.geo.distance import chord_to_m, unit_vectors
from najda.geo.jemss_tables import TableError, number, read_rows, table

SECONDS_PER_DAY = 86_400.0
#: Smallest arc time kept: scipy's graph routines read a stored zero as "no arc".
MIN_ARC_S = 1e-6


@dataclass(frozen=True)
class Snap:
    """A point joined to the network: its nearest node with off-road access and the leg to it."""

    node: int
    off_road_m: float


class _Trees:
    """LRU of shortest-path trees (travel seconds to or from one node, per mode)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.items: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self.pinned: set[tuple[int, int]] = set()

    def get(self, key: tuple[int, int]) -> np.ndarray | None:
        tree = self.items.get(key)
        if tree is not None:
            self.items.move_to_end(key)
        return tree

    def put(self, key: tuple[int, int], tree: np.ndarray) -> None:
        self.items[key] = tree
        self.items.move_to_end(key)
        while len(self.items) > self.maxsize + len(self.pinned):
            oldest = next((k for k in self.items if k not in self.pinned), None)
            if oldest is None:
                break
            del self.items[oldest]


class _Bounded(_Trees):
    """LRU of partial trees towards one node: entries past the search's limit are inf."""


class RoadNetwork:
    """Directed road graph with one arc time per travel mode; nodes in WGS84 degrees.

    Travel from a point to a point = off-road leg to the start's snapped node + shortest path
    + off-road leg from the end's snapped node; off-road legs use the mode's off-road speed.
    Only nodes with off-road access are snap targets (as in JEMSS).
    """

    def __init__(
        self,
        lats: Sequence[float] | np.ndarray,
        lons: Sequence[float] | np.ndarray,
        arcs_from: Sequence[int] | np.ndarray,
        arcs_to: Sequence[int] | np.ndarray,
        arc_s: Mapping[int, Sequence[float] | np.ndarray],
        off_road_speed_mps: Mapping[int, float],
        off_road_access: Sequence[bool] | np.ndarray | None = None,
        *,
        cache_size: int = 512,
    ) -> None:
        self.lats = np.asarray(lats, dtype=float)
        self.lons = np.asarray(lons, dtype=float)
        n = self.lats.size
        src = np.asarray(arcs_from, dtype=np.int64)
        dst = np.asarray(arcs_to, dtype=np.int64)
        if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise ValueError("an arc names a node that does not exist")
        self.modes = tuple(sorted(arc_s))
        self.graphs: dict[int, csr_matrix] = {}
        self.reverse: dict[int, csr_matrix] = {}
        for mode in self.modes:
            times = np.maximum(np.asarray(arc_s[mode], dtype=float), MIN_ARC_S)
            if np.any(~np.isfinite(times)):
                raise ValueError(f"mode {mode}: arc times must be finite")
            graph = _min_arcs(src, dst, times, n)
            self.graphs[mode] = graph
            self.reverse[mode] = graph.T.tocsr()
        self.off_road_speed_mps = {m: float(off_road_speed_mps[m]) for m in self.modes}
        access = (
            np.ones(n, dtype=bool)
            if off_road_access is None
            else np.asarray(off_road_access, dtype=bool)
        )
        self.snap_nodes = np.flatnonzero(access)
        if self.snap_nodes.size == 0:
            raise ValueError("no node has off-road access")
        self._snap_tree = cKDTree(
            unit_vectors(self.lats[self.snap_nodes], self.lons[self.snap_nodes])
        )
        self._from = _Trees(cache_size)
        self._to = _Trees(cache_size)
        self._near = _Bounded(cache_size)
        #: Per mode: the pinning count the stacks were made at, and the stacks (None: no hubs).
        self._hubs: dict[int, tuple[int, tuple[np.ndarray, np.ndarray] | None]] = {}
        self._pinnings = 0
        self._snaps: dict[tuple[float, float], Snap] = {}
        #: Where each node is (its index by position), and every node's snap: kept for good.
        self._node_snaps: tuple[dict[tuple[float, float], int], list[int], list[float]] | None
        self._node_snaps = None
        self._next_hops: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._hop_levels: dict[tuple[int, int], list[np.ndarray]] = {}

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return int(self.lats.size)

    # --- snapping -----------------------------------------------------------------------

    def snap(self, lat: float, lon: float) -> Snap:
        """The nearest node with off-road access and the distance (remembered per point)."""
        snap = self._snaps.get((lat, lon))
        if snap is None:
            snap = self._snap_at_node(lat, lon)
            if snap is None:
                chord, i = self._snap_tree.query(unit_vectors(np.array([lat]), np.array([lon]))[0])
                snap = Snap(int(self.snap_nodes[int(i)]), float(chord_to_m(float(chord))))
            if len(self._snaps) >= 100_000:
                self._snaps.clear()
            self._snaps[(lat, lon)] = snap
        return snap

    def _snap_at_node(self, lat: float, lon: float) -> Snap | None:
        """The snap of a point where a node is (units on the road report node positions),
        read from every node's snap, found once in one query (None elsewhere)."""
        if self._node_snaps is None:
            chords, idx = self._snap_tree.query(unit_vectors(self.lats, self.lons))
            places = zip(self.lats.tolist(), self.lons.tolist(), strict=True)
            at = {p: i for i, p in enumerate(places)}
            self._node_snaps = (at, self.snap_nodes[idx].tolist(), chords.tolist())
        at, nodes, chords = self._node_snaps
        i = at.get((lat, lon))
        if i is None:
            return None
        # converted per point as `snap` converts its own query's, so both give the same floats
        return Snap(nodes[i], float(chord_to_m(chords[i])))

    def snap_points(self, points: Sequence[tuple[float, float]]) -> list[Snap]:
        """`snap` of each point (lat, lon), the points not remembered found in one query."""
        snaps = self._snaps
        found = [snaps.get(p) for p in points]
        if None in found:
            found = [s if s is not None else self._snap_at_node(*p)
                     for p, s in zip(points, found, strict=True)]
        if None in found:
            todo = list(dict.fromkeys(p for p, s in zip(points, found, strict=True) if s is None))
            chords, idx = self._snap_tree.query(
                unit_vectors(np.array([p[0] for p in todo]), np.array([p[1] for p in todo]))
            )
            if len(snaps) + len(todo) > 100_000:
                snaps.clear()
            for p, chord, i in zip(todo, chords, idx, strict=True):
                # per point as `snap` converts it, so both give the same floats
                snaps[p] = Snap(int(self.snap_nodes[int(i)]), float(chord_to_m(float(chord))))
            found = [s if s is not None else snaps[p] for p, s in zip(points, found, strict=True)]
        return cast(list[Snap], found)

    def snap_many(self, lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Snapped node and off-road metres of many points."""
        chords, idx = self._snap_tree.query(unit_vectors(lats, lons))
        return self.snap_nodes[idx], np.asarray(chord_to_m(chords), dtype=float)

    def off_road_s(self, distance_m: float | np.ndarray, mode: int) -> float | np.ndarray:
        """Seconds to cover an off-road leg in this mode."""
        return distance_m / self.off_road_speed_mps[mode]

    # --- shortest-path trees ------------------------------------------------------------

    def tree_from(self, node: int, mode: int) -> np.ndarray:
        """Seconds from `node` to every node (cached)."""
        return self._tree(self._from, self.graphs[mode], node, mode)

    def tree_to(self, node: int, mode: int) -> np.ndarray:
        """Seconds from every node to `node` (a reverse Dijkstra; cached)."""
        return self._tree(self._to, self.reverse[mode], node, mode)

    def next_hops_to(self, node: int, mode: int) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from every node to `node` and each node's next hop towards it (-9999 at
        `node` and where it cannot be reached); kept for good, like pinned trees (asked for
        the stations units return to)."""
        key = (int(node), mode)
        held = self._next_hops.get(key)
        if held is None:
            times, nxt = dijkstra(self.reverse[mode], indices=int(node), return_predecessors=True)
            held = self._next_hops[key] = (times, nxt)
        return held

    def hops_to(self, node: int, mode: int) -> list[np.ndarray]:
        """For k = 0, 1, ...: each node's node 2^k next hops on towards `node` (-1 where the
        way ends first); kept for good, like `next_hops_to`."""
        key = (int(node), mode)
        held = self._hop_levels.get(key)
        if held is None:
            _, nxt = self.next_hops_to(node, mode)
            held = [np.where(nxt >= 0, nxt, -1).astype(np.int64)]
            while True:
                last = held[-1]
                ahead = np.where(last >= 0, last[np.maximum(last, 0)], -1)
                if not (ahead >= 0).any():
                    break
                held.append(ahead)
            self._hop_levels[key] = held
        return held

    def has_tree_from(self, node: int, mode: int) -> bool:
        """True when the tree from `node` is cached."""
        return (node, mode) in self._from.items

    def pin_trees_from(self, nodes: Sequence[int], mode: int) -> None:
        """Compute and keep the trees from these nodes (stations, hospitals) for good."""
        self._pin(self._from, self.graphs[mode], nodes, mode)
        self._pinnings += 1

    def pin_trees_to(self, nodes: Sequence[int], mode: int) -> None:
        """Compute and keep the trees towards these nodes (hospitals) for good."""
        self._pin(self._to, self.reverse[mode], nodes, mode)
        self._pinnings += 1

    @staticmethod
    def _pin(cache: _Trees, graph: csr_matrix, nodes: Sequence[int], mode: int) -> None:
        keys = sorted({(int(n), mode) for n in nodes})
        cache.pinned.update(keys)
        todo = [node for node, _ in keys if (node, mode) not in cache.items]
        if todo:
            trees = dijkstra(graph, indices=todo)
            for node, tree in zip(todo, trees, strict=True):
                cache.put((node, mode), tree)

    def _tree(self, cache: _Trees, graph: csr_matrix, node: int, mode: int) -> np.ndarray:
        key = (int(node), mode)
        tree = cache.get(key)
        if tree is None:
            tree = dijkstra(graph, indices=int(node))
            cache.put(key, tree)
        return tree

    def forget_trees(self) -> None:
        """Drop every cached tree that is not pinned (benchmarks start cold with it)."""
        for cache in (self._from, self._to, self._near):
            for key in [k for k in cache.items if k not in cache.pinned]:
                del cache.items[key]

    def forget(self) -> None:
        """Drop every remembered snap and every tree that is not pinned: what a run computed
        for its own points (a benchmark starts each run alike with it)."""
        self.forget_trees()
        self._snaps.clear()

    def path_s(self, start: int, end: int, mode: int) -> float:
        """Seconds along the shortest path between two nodes (inf when unreachable).

        The same lookups, in the same order and with the same cache updates, as
        `_reverse_at` for one node; a held tree is read without building arrays for it.
        """
        start, end = int(start), int(end)
        tree = self._from.get((start, mode))
        if tree is not None:
            return float(tree[end])
        full = self._to.get((end, mode))
        if full is not None:
            return float(full[start])
        near = self._near.get((end, mode))
        if near is not None and math.isfinite(near[start]):
            return float(near[start])
        return float(self._reverse_at(end, np.array([start]), mode)[0])

    def _hub_trees(self, mode: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Trees from and to every node pinned both ways (stations, hospitals), stacked
        (made again only after a pinning: pinned trees are never dropped)."""
        held = self._hubs.get(mode)
        if held is None or held[0] != self._pinnings:
            order = sorted(
                node
                for node, m in self._from.pinned & self._to.pinned
                if m == mode and (node, m) in self._from.items and (node, m) in self._to.items
            )
            stacks = None
            if order:
                stacks = (
                    np.vstack([self._from.items[(n, mode)] for n in order]),
                    np.vstack([self._to.items[(n, mode)] for n in order]),
                )
            held = (self._pinnings, stacks)
            self._hubs[mode] = held
        return held[1]

    def _bound_to(self, target: int, nodes: np.ndarray, mode: int) -> float:
        """A travel time to `target` no shorter than any of `nodes`' own (via a hub), or inf."""
        hubs = self._hub_trees(mode)
        if hubs is None:
            return float("inf")
        from_hubs, to_hubs = hubs
        upper = (to_hubs[:, nodes] + from_hubs[:, target : target + 1]).min(axis=0).max()
        return _margin(float(upper))

    def _reverse_at(
        self, target: int, nodes: np.ndarray, mode: int, need_s: float | None = None
    ) -> np.ndarray:
        """Seconds from each of `nodes` to `target`, the same values as `tree_to(target)`;
        with `need_s`, a node whose time is beyond `need_s` may be given inf instead.

        A full tree is used when cached; else a reverse Dijkstra that stops at an upper
        bound on the nodes' times (through the hubs), or at `need_s` where that is lower;
        its finite entries are exact (every node within the bound is settled by the same
        relaxations), and a node it leaves unreached within the hubs' bound falls back to
        the full tree.
        """
        key = (int(target), mode)
        full = self._to.get(key)
        if full is not None:
            return np.asarray(full[nodes])
        near = self._near.get(key)
        if near is not None:
            found = near[nodes]
            if np.all(np.isfinite(found)):
                return np.asarray(found)
        limit = self._bound_to(int(target), nodes, mode)
        if np.isfinite(limit):
            tight = need_s is not None and _margin(need_s) < limit
            if tight and need_s is not None:
                limit = max(_margin(need_s), 0.0)  # nodes beyond it may be left at inf
            near = dijkstra(self.reverse[mode], indices=int(target), limit=limit)
            self._near.put(key, near)
            found = near[nodes]
            if tight or np.all(np.isfinite(found)):
                return np.asarray(found)
        return np.asarray(self.tree_to(target, mode)[nodes])

    def route(self, start: int, end: int, mode: int) -> tuple[np.ndarray, np.ndarray]:
        """Nodes of the shortest path and the seconds at which each is reached."""
        times, pred = dijkstra(self.graphs[mode], indices=int(start), return_predecessors=True)
        if not np.isfinite(times[end]):
            raise ValueError(f"node {end} cannot be reached from node {start}")
        nodes = [int(end)]
        while nodes[-1] != start:
            nodes.append(int(pred[nodes[-1]]))
        path = np.array(nodes[::-1], dtype=np.int64)
        return path, times[path]

    # --- point to point -----------------------------------------------------------------

    def travel_s(self, a: tuple[float, float], b: tuple[float, float], mode: int) -> float:
        """Seconds from point a to point b (lat, lon): off-road, shortest path, off-road."""
        sa, sb = self.snap(*a), self.snap(*b)
        return float(
            self.off_road_s(sa.off_road_m, mode)
            + self.path_s(sa.node, sb.node, mode)
            + self.off_road_s(sb.off_road_m, mode)
        )

    def etas_to(
        self,
        target: Snap,
        sources: Sequence[Snap],
        mode: int,
        keep: int | None = None,
        within_s: float | None = None,
    ) -> np.ndarray:
        """Seconds from each source to the target: cached trees from the sources where held,
        else one reverse Dijkstra from the target, bounded where hubs give a bound.

        With `keep`, only the `keep` quickest sources need their time (and, with `within_s`,
        also those within it): a source without a cached tree whose lower bound (through
        the hubs) is beyond the `keep`-th quickest time read from cached trees (and beyond
        `within_s`) cannot be among them, and is left at inf unsearched. Every time returned
        finite is the exact one.
        """
        paths = np.empty(len(sources))
        rest: list[int] = []
        for i, source in enumerate(sources):
            if self.has_tree_from(source.node, mode):
                paths[i] = self.tree_from(source.node, mode)[target.node]
            else:
                rest.append(i)
        speed = self.off_road_speed_mps[mode]
        out = np.empty(len(sources))
        need_s: float | None = None
        if rest and keep is not None and 0 < keep <= len(sources) - len(rest):
            rest, kth = self._could_be_kept(target, sources, mode, paths, rest, keep, within_s)
            if rest:  # the longest path a source still in the running may need
                offs = min(sources[i].off_road_m for i in rest) / speed
                need_s = kth - offs - target.off_road_m / speed
        if rest:
            nodes = np.array([sources[i].node for i in rest], dtype=np.int64)
            paths[rest] = self._reverse_at(target.node, nodes, mode, need_s)
        for i, source in enumerate(sources):
            out[i] = paths[i] + source.off_road_m / speed
        return out + target.off_road_m / speed

    def _could_be_kept(
        self,
        target: Snap,
        sources: Sequence[Snap],
        mode: int,
        paths: np.ndarray,
        rest: list[int],
        keep: int,
        within_s: float | None,
    ) -> tuple[list[int], float]:
        """The `rest` sources that may be among the `keep` quickest (or within `within_s`),
        and the ETA beyond which a source is neither; the others' `paths` entries are set
        to inf. `paths` holds the exact times of the sources not in `rest`."""
        speed = self.off_road_speed_mps[mode]
        searched = set(rest)
        known = [i for i in range(len(sources)) if i not in searched]
        etas = np.array([paths[i] + sources[i].off_road_m / speed for i in known])
        kth = float(np.partition(etas + target.off_road_m / speed, keep - 1)[keep - 1])
        if within_s is not None:
            kth = max(kth, within_s)
        nodes = np.array([sources[i].node for i in rest], dtype=np.int64)
        offs = np.array([sources[i].off_road_m for i in rest]) / speed
        lower = self._lower_bounds_to(target.node, nodes, mode) + offs + target.off_road_m / speed
        maybe = [i for i, low in zip(rest, lower.tolist(), strict=True) if not low > kth]
        for i in searched.difference(maybe):
            paths[i] = np.inf
        return maybe, kth

    def _lower_bounds_to(self, target: int, nodes: np.ndarray, mode: int) -> np.ndarray:
        """Travel times to `target` no longer than each of `nodes`' own (below 0: no bound).

        By the triangle through each hub h: d(v, t) >= d(h, t) - d(h, v) and
        d(v, t) >= d(v, h) - d(t, h) (inf where v cannot reach t); with a margin under the
        rounding of the sums.
        """
        hubs = self._hub_trees(mode)
        if hubs is None:
            return np.full(nodes.size, -1.0)
        from_hubs, to_hubs = hubs
        with np.errstate(invalid="ignore"):  # inf - inf: that hub bounds nothing
            via_from = from_hubs[:, target : target + 1] - from_hubs[:, nodes]
            via_to = to_hubs[:, nodes] - to_hubs[:, target : target + 1]
        both = np.fmax(via_from, via_to)  # fmax: a NaN on one side leaves the other
        both = np.where(np.isnan(both), 0.0, both)
        return np.asarray(np.maximum(both.max(axis=0), 0.0) * (1 - 1e-9) - 1e-6)


def _margin(seconds: float) -> float:
    """A bound a little above `seconds`, over the rounding of sums of arc times."""
    return seconds * (1 + 1e-9) + 1e-6


def _min_arcs(src: np.ndarray, dst: np.ndarray, times: np.ndarray, n: int) -> csr_matrix:
    """A CSR graph keeping the quickest of parallel arcs (a plain CSR build would sum them)."""
    order = np.lexsort((times, dst, src))
    src, dst, times = src[order], dst[order], times[order]
    first = np.ones(src.size, dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return csr_matrix((times[first], (src[first], dst[first])), shape=(n, n))


def load_jemss_roads(
    roads: Path, off_road_speed_mps: Mapping[int, float], *, cache_size: int = 512
) -> RoadNetwork:
    """Read JEMSS nodes.csv and arcs.csv (in a folder, or in roads.zip); arc times in days."""
    if roads.is_dir():
        node_rows, arc_rows = read_rows(roads / "nodes.csv"), read_rows(roads / "arcs.csv")
    else:
        node_rows, arc_rows = read_rows(roads, "nodes.csv"), read_rows(roads, "arcs.csv")
    return jemss_network(node_rows, arc_rows, off_road_speed_mps, cache_size=cache_size)


def jemss_network(
    node_rows: list[list[str]],
    arc_rows: list[list[str]],
    off_road_speed_mps: Mapping[int, float],
    *,
    cache_size: int = 512,
) -> RoadNetwork:
    """A network from JEMSS node and arc rows; `arcForm` undirected arcs run both ways."""
    nodes = table(node_rows, "nodes")
    index = {int(number(r, "index", "nodes")): i for i, r in enumerate(nodes)}
    lats = [number(r, "y", "nodes") for r in nodes]
    lons = [number(r, "x", "nodes") for r in nodes]
    access = None
    if nodes and "offRoadAccess" in nodes[0]:
        access = [number(r, "offRoadAccess", "nodes") != 0 for r in nodes]
    form = "directed"
    try:
        misc = table(arc_rows, "miscData")
    except TableError:
        misc = []
    if misc and misc[0].get("arcForm"):
        form = misc[0]["arcForm"]
    if form not in ("directed", "undirected"):
        raise TableError(f"arcs: miscData arcForm must be directed or undirected, not {form!r}")
    arcs = table(arc_rows, "arcs")
    columns = arcs[0] if arcs else {}
    modes = sorted(int(c.split("_", 1)[1]) for c in columns if c.startswith("mode_"))
    if not modes:
        raise TableError("arcs: no mode_N travel-time columns")
    try:
        src = [index[int(number(r, "fromNode", "arcs"))] for r in arcs]
        dst = [index[int(number(r, "toNode", "arcs"))] for r in arcs]
    except KeyError as exc:
        raise TableError(f"arcs: unknown node {exc.args[0]}") from None
    arc_s = {m: [number(r, f"mode_{m}", "arcs") * SECONDS_PER_DAY for r in arcs] for m in modes}
    if form == "undirected":  # as JEMSS does: each arc again, the other way
        src, dst = src + dst, dst + src
        arc_s = {m: times + times for m, times in arc_s.items()}
    return RoadNetwork(
        lats, lons, src, dst, arc_s, off_road_speed_mps, access, cache_size=cache_size
    )
