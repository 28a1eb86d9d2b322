"""The simulator's seeded ids: drawn ahead in blocks, the same ids as one draw per id."""

from __future__ import annotations

from uuid import UUID

import numpy as np

from najda.simulations.engine import IDS_PER_DRAW, seeded_ids


def test_ids_drawn_in_blocks_are_those_of_one_draw_per_id() -> None:
    one_by_one = np.random.default_rng([3, 1])
    expected = [UUID(bytes=one_by_one.bytes(16), version=4) for _ in range(2 * IDS_PER_DRAW + 5)]
    new_id = seeded_ids(np.random.default_rng([3, 1]))
    assert [new_id() for _ in expected] == expected


def test_ids_are_version_4_and_differ_by_seed() -> None:
    first, second = seeded_ids(np.random.default_rng(1)), seeded_ids(np.random.default_rng(2))
    ids = [first() for _ in range(3)]
    assert all(i.version == 4 for i in ids)
    assert len(set(ids)) == 3 and second() not in ids
