"""Pure audit pieces: report targets, as_of parsing, sentence parts and the hash chain."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from najda.domain.audit.hashchain import GENESIS, link, row_digest
from najda.domain.errors import InvalidValue
from najda.domain.values import Priority
from najda.projections.audit.as_of import parse_as_of
from najda.projections.audit.timeline_sentences import distance_text, eta_text
from najda.projections.reports.response_times import Target


def test_targets_read_metric_priority_time_and_percentile() -> None:
    assert Target.parse("response:E:8:59") == Target("response", Priority.E, 539.0, 90.0)
    assert Target.parse("turnout:*:60") == Target("turnout", None, 60.0, 90.0)
    assert Target.parse("response:omega:12:00@50") == Target(
        "response", Priority.OMEGA, 720.0, 50.0
    )


@pytest.mark.parametrize(
    "text", ["speed:E:60", "response:Q:60", "response:E:soon", "response:E:-5", "turnout:*:60@0"]
)
def test_a_malformed_target_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Target.parse(text)
    assert refused.value.field in ("target", "priority")


def test_as_of_is_a_position_or_an_aware_time() -> None:
    assert parse_as_of(" 42 ") == 42
    assert parse_as_of("2024-03-01T08:00:00Z") == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert parse_as_of("2024-03-01T09:00:00+01:00") == datetime(2024, 3, 1, 8, tzinfo=UTC)
    for bad in ("yesterday", "2024-03-01T08:00:00", "-3"):
        with pytest.raises(InvalidValue) as refused:
            parse_as_of(bad)
        assert refused.value.field == "as_of"


def test_distances_and_etas_read_as_a_dispatcher_says_them() -> None:
    assert [distance_text(d) for d in (850.0, 1800.0, None)] == [
        "850 m",
        "1.8 km",
        "distance unknown",
    ]
    assert [eta_text(s) for s in (240.0, 20.0, 95.0, None)] == [
        "ETA 4 min",
        "ETA <1 min",
        "ETA 2 min",
        "ETA unknown",
    ]


def test_the_chain_depends_on_every_part_of_every_row() -> None:
    ident = UUID(int=1)
    digest = row_digest(ident, 1, "najda:Incident.Reported", b"{}")
    changed = {
        row_digest(UUID(int=2), 1, "najda:Incident.Reported", b"{}"),
        row_digest(ident, 2, "najda:Incident.Reported", b"{}"),
        row_digest(ident, 1, "najda:Incident.Closed", b"{}"),
        row_digest(ident, 1, "najda:Incident.Reported", b"{ }"),
    }
    assert digest not in changed and len(changed) == 4
    first = link(GENESIS, 1, digest)
    assert first != link(GENESIS, 2, digest)  # the position is bound by the chain
    assert link(first, 2, digest) != link(GENESIS, 2, digest)
