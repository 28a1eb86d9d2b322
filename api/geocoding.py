"""The store's address index for the current area, built when missing or out of date."""

from __future__ import annotations

import logging

from najda.api.areas import area_dir
from najda.api.settings import Settings
from najda.geo.area import Area
from najda.projections.addresses.geocoder import Geocoder
from najda.projections.addresses.index import AddressIndex, area_fingerprint

log = logging.getLogger(__name__)


def address_index(settings: Settings) -> AddressIndex:
    """The address index of the configured store (SQLite file or PostgreSQL tables)."""
    if settings.database_url is not None:
        from najda.projections.addresses.postgres_index import PostgresAddressIndex

        return PostgresAddressIndex(settings.database_url)
    from najda.projections.addresses.sqlite_index import SqliteAddressIndex

    return SqliteAddressIndex(area_dir(settings.data_dir) / "geocode.sqlite")


def refresh_index(index: AddressIndex, area: Area) -> bool:
    """Load the area into the index unless it holds it already; True when it was loaded."""
    if index.fingerprint() == area_fingerprint(area):
        return False
    log.info("building the address index of %s", area.name)
    index.replace(area)
    return True


def open_geocoder(settings: Settings, area: Area) -> Geocoder:
    """A geocoder over the store's index, refreshed for `area`."""
    index = address_index(settings)
    try:
        refresh_index(index, area)
    except BaseException:
        index.close()
        raise
    return Geocoder(index, area.municipalities)
