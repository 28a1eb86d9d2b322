"""The code digest of saved read models covers every package that builds them."""

from __future__ import annotations

from najda.projections.store import saved_read_models
from najda.projections.store.saved_read_models import PACKAGES, source_files


def test_the_digest_reads_the_source_of_every_package_that_builds_read_models() -> None:
    names = [name for name, _ in source_files()]
    for package in PACKAGES:
        assert any(name.startswith(f"{package}/") for name in names), package
    assert "projections/store/saved_read_models.py" in names


def test_a_saved_state_may_hold_najdas_own_classes_under_the_najda_package() -> None:
    assert all(p.startswith("najda.") for p in saved_read_models._ALLOWED_PREFIXES)
