"""The domain's rules that the browser pages apply, sent by the server (in each socket's hello)
so the pages keep no copies: unit status changes, releasable statuses, vocabularies, limits."""

from __future__ import annotations

from functools import cache
from typing import Any

from najda.api.input_limits import MAX_AS_OF, MAX_SEARCH_WORDS, MAX_UNIT_REF
from najda.domain.dispatch.unit import ALLOWED_STATUS_CHANGES, RELEASABLE
from najda.domain.values import (
    MAX_ADDRESS,
    MAX_NAME,
    MAX_NOTE,
    MAX_REASON,
    MAX_SHORT,
    Priority,
    UnitKind,
    UnitStatus,
)


def next_statuses(status: UnitStatus) -> list[UnitStatus]:
    """The statuses a unit may report next, forward along the lifecycle first (in the order
    of UnitStatus, from the one after `status` round to it): the first is the usual step."""
    order = list(UnitStatus)
    start = order.index(status) + 1
    ahead = order[start:] + order[:start]
    return [s for s in ahead if s in ALLOWED_STATUS_CHANGES[status]]


@cache
def client_rules() -> dict[str, Any]:
    """The rules as JSON-ready values (lists in a stable order)."""
    return {
        "unit_transitions": {s.value: [n.value for n in next_statuses(s)] for s in UnitStatus},
        "releasable": sorted(s.value for s in RELEASABLE),
        "statuses": [s.value for s in UnitStatus],
        "kinds": [k.value for k in UnitKind],
        "priorities": [p.value for p in sorted(Priority, key=lambda p: p.rank, reverse=True)],
        "limits": {
            "nature": MAX_NAME,
            "address": MAX_ADDRESS,
            "determinant": MAX_SHORT,
            "callback": MAX_SHORT,
            "note": MAX_NOTE,
            "reason": MAX_REASON,
            "disposition": MAX_REASON,
            "search": MAX_SEARCH_WORDS,
            "unit_ref": MAX_UNIT_REF,
            "as_of": MAX_AS_OF,
        },
    }
