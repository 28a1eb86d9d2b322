"""The sphere distance is written once, in `najda.geo.distance`: the domain receives it (it
imports only the standard library and itself) from whoever builds the application."""

from __future__ import annotations

from pathlib import Path

from najda.api.services import _open_store
from najda.api.settings import Settings
from najda.geo.distance import great_circle_m
from najda.simulations.from_store import open_store


def test_the_composition_roots_give_the_application_geos_great_circle(tmp_path: Path) -> None:
    """The server's store and a replay of it (`najda simulate --from-store`) both measure
    with geo's great circle."""
    served = _open_store(Settings.from_env({}, data_dir=tmp_path))
    try:
        assert served.distance is great_circle_m
        assert served.position_policy.distance is great_circle_m
    finally:
        served.close()
    replayed = open_store(tmp_path)  # the data directory the server wrote
    try:
        assert replayed.distance is great_circle_m
    finally:
        replayed.close()
