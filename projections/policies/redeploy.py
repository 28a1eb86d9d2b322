"""Redeployment: the posts k idle units should hold, and which idle unit goes to which post."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

#: The drive counted for a post a unit cannot reach by road, when no matching avoids one: far
#: more than any real drive, so as few such moves as can be are made, and the rest still are.
UNREACHABLE_S = 1e9


def nested_posts(
    weights: np.ndarray,
    points: Sequence[np.ndarray],
    capacity: Sequence[int],
    q: float,
    k: int,
) -> tuple[int, ...]:
    """The stations k idle units hold (one entry a unit), chosen greedily for expected
    coverage (MEXCLP, busy fraction q): each next unit goes where it adds the most (ties to
    the lower index), so the posts of k - 1 units are those of k less the last one."""
    counts = np.zeros(len(weights))
    held = [0] * len(points)
    posts: list[int] = []
    for _ in range(k):
        gain_per_point = weights * (1 - q) * np.power(q, counts)
        best, best_gain = -1, -1.0
        for s, covered in enumerate(points):
            if capacity[s] and held[s] >= capacity[s]:
                continue
            gain = round(float(gain_per_point[covered].sum()), 12)
            if gain > best_gain:
                best, best_gain = s, gain
        if best < 0:  # every station full: the rest wait wherever they are sent
            break
        posts.append(best)
        held[best] += 1
        counts[points[best]] += 1
    return tuple(posts)


def drive_table(
    rows: Sequence[Sequence[float]], heading: Sequence[int], penalty_s: float
) -> list[list[float]]:
    """Seconds from each unit to each station (unit × station): its drive (`rows`, one per
    unit; `UNREACHABLE_S` for a station it cannot reach by road), and `penalty_s` more unless
    it is the station the unit is heading to, so that a unit which can reach no station is
    left where it is rather than moved."""
    return [
        [
            (drive if drive < UNREACHABLE_S else UNREACHABLE_S) + (0.0 if s == h else penalty_s)
            for s, drive in enumerate(row)
        ]
        for row, h in zip(rows, heading, strict=True)
    ]


def match_posts(
    drive: Sequence[Sequence[float]], units: Sequence[int], posts: Sequence[int]
) -> list[int | None]:
    """The post of each of `units` (rows of the drive table; None when there are more
    units than posts), matched with the least total drive."""
    out: list[int | None] = [None] * len(units)
    if units and posts:
        _, rows, cols = _matched(drive, units, posts)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            out[r] = posts[c]
    return out


def matched_drive_s(
    drive: Sequence[Sequence[float]], units: Sequence[int], posts: Sequence[int]
) -> float:
    """The least total drive of `units` (rows of the drive table) to the posts."""
    if not units or not posts:
        return 0.0
    cost, rows, cols = _matched(drive, units, posts)
    return float(cost[rows, cols].sum())


def _matched(
    drive: Sequence[Sequence[float]], units: Sequence[int], posts: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The units × posts drive matrix, and the rows and columns of its least-total match."""
    cost = np.array([[drive[u][s] for s in posts] for u in units])
    try:
        rows, cols = linear_sum_assignment(cost)
    except ValueError:  # no matching avoids every unreachable post (an infinite drive)
        cost = np.where(np.isfinite(cost), cost, UNREACHABLE_S)
        rows, cols = linear_sum_assignment(cost)
    return cost, rows, cols
