"""An EIDO whose location is only a civic address is geocoded in the area, with its precision;
one that the area does not hold opens nothing."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from najda.api.eido import import_eido, read_eido
from najda.api.eido_geocode import civic_locator, civic_query
from najda.domain.application import Dispatch
from najda.domain.errors import InvalidValue
from najda.domain.values import Priority
from najda.geo.planar import point_m
from najda.projections.addresses.geocoder import Geocoder
from najda.projections.addresses.sqlite_index import SqliteAddressIndex
from najda.projections.base import NotificationSource
from tests.area_fixture import liechtenstein
from tests.eido_schema import require_eido_dir

SAMPLE = "Samples/Sample call transfer EIDO.json"  # NENA's own sample, as in test_eido.py


def _sample() -> dict[str, Any]:
    # The shared EIDO folder: skipped with the reason locally, a failure in CI.
    return dict(json.loads((require_eido_dir() / SAMPLE).read_text(encoding="utf-8")))


def _with_civic(document: dict[str, Any], civic: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    for part in changed["locationComponent"]:
        if "locationByValue" not in part:
            continue
        part["locationByValue"] = re.sub(
            r"<civicAddress([^>]*)>.*?</civicAddress>",
            lambda m: f"<civicAddress{m.group(1)}>{civic}</civicAddress>",
            part["locationByValue"],
            flags=re.DOTALL,
        )
        part.pop("locationDescriptionText", None)
    return changed


@pytest.fixture(scope="module")
def geocoder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Geocoder]:
    _, area = liechtenstein()
    index = SqliteAddressIndex(tmp_path_factory.mktemp("eido") / "geocode.sqlite")
    index.replace(area)
    yield Geocoder(index, area.municipalities)
    index.close()


def test_a_civic_address_in_the_area_is_geocoded_with_its_precision(
    sqlite_app: Dispatch, geocoder: Geocoder
) -> None:
    civic = (
        "<country>LI</country><A1>LI</A1><A3>Vaduz</A3><RD>Zollstrasse</RD>"
        "<HNO>56</HNO><PC>9490</PC>"
    )
    call = read_eido(_with_civic(_sample(), civic))
    assert call.location is None and "Zollstrasse" in call.address
    incident_id, created = import_eido(
        sqlite_app, call, "cad:neighbour", priority=Priority.C, locate=civic_locator(geocoder)
    )
    assert created
    incident = sqlite_app.get_incident(incident_id)
    assert incident.location_fix is not None
    assert incident.location_fix.precision == "address"
    assert incident.location_fix.label == "Zollstrasse 56, 9490 Vaduz"
    assert incident.location_fix.typed == call.address
    _, area = liechtenstein()
    red_cross = next(f for f in area.facilities if f.name == "Rotes Kreuz Liechtenstein")
    where = incident.location
    assert point_m(where.lat, where.lon, red_cross.lat, red_cross.lon) < 30


@pytest.mark.parametrize(
    "civic",
    [
        None,  # NENA's own sample: Wilmington, Delaware, not in Liechtenstein
        "<country>LI</country><A3>Vaduz</A3><RD>Zollstrasse</RD><HNO>9999</HNO>",
        "<country>LI</country><A3>Nowhere</A3><RD>Qxzv Lane</RD><HNO>3</HNO>",
        "<country>LI</country><A3>Triesenberg</A3>",  # a place is too vague for a civic address
    ],
)
def test_a_civic_address_the_area_does_not_hold_opens_nothing(
    sqlite_app: Dispatch, geocoder: Geocoder, civic: str | None
) -> None:
    document = _sample() if civic is None else _with_civic(_sample(), civic)
    call = read_eido(document)
    source = NotificationSource(sqlite_app)
    before = source.head()
    with pytest.raises(InvalidValue, match="civic address is not found"):
        import_eido(
            sqlite_app, call, "cad:neighbour", priority=Priority.C, locate=civic_locator(geocoder)
        )
    assert source.head() == before


def test_country_and_state_codes_are_left_out_of_the_query() -> None:
    assert (
        civic_query("42 W Cellular Street, Wilmington, DE, US")
        == "42 W Cellular Street, Wilmington"
    )
    assert civic_query("Zollstrasse 56, Vaduz, 9490, LI") == "Zollstrasse 56, Vaduz, 9490"
