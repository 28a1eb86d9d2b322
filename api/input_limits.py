"""Length limits of the API's own query and path inputs (the domain's text limits are in
`najda.domain.values`); the pages receive both through `najda.api.live.rules.client_rules`."""

from __future__ import annotations

#: Words of a history search (`GET /incidents?q=`).
MAX_SEARCH_WORDS = 200
#: A unit named by id (a UUID's 36 characters) or call sign.
MAX_UNIT_REF = 36
#: A past instant: a log position or an ISO 8601 time with offset (`?as_of=`).
MAX_AS_OF = 64
