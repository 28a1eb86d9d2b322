"""A replayed store named by a PostgreSQL URL is shown without its password."""

from __future__ import annotations

from najda.simulations.from_store import redacted


def test_a_store_url_is_shown_without_its_password() -> None:
    assert redacted("postgresql://u:s3cret@db:5432/najda") == "postgresql://u:***@db:5432/najda"
    assert redacted("postgresql://u@db/najda") == "postgresql://u@db/najda"
    assert redacted("/data/najda.sqlite") == "/data/najda.sqlite"
