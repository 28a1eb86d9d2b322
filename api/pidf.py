"""PIDF-LO (RFC 4119, profiled by RFC 5491) location documents: written for the EIDOs Najda
issues, read from those it imports."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from xml.sax.saxutils import quoteattr

from najda.domain.errors import InvalidValue
from najda.domain.values import Position

#: How a location was determined, from the IANA "Method Tokens" registry (RFC 4119 s. 2.2.3):
#: an incident's location is entered by the call-taker (or at a patient's enrolment).
MANUAL = "Manual"
#: How long a receiver may keep the location (RFC 4119 usage-rules retention-expiry).
RETENTION = timedelta(days=1)
_POS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*$")


def location_document(
    position: Position,
    *,
    entity: str,
    at: datetime,
    method: str = MANUAL,
    retransmission_allowed: bool = True,
    retention: timedelta = RETENTION,
) -> str:
    """A PIDF-LO document with a GML point (WGS 84, RFC 5491 s. 5.2.1), its usage rules
    (retransmission allowed: the receiving agency dispatches on it; kept `retention` after
    `at`), the method that determined it, and when it was (RFC 5491 s. 3.2)."""
    when = at.isoformat()
    expiry = (at + retention).isoformat()
    allowed = "true" if retransmission_allowed else "false"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"'
        ' xmlns:gbp="urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy"'
        ' xmlns:gml="http://www.opengis.net/gml"'
        ' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"'
        f" entity={quoteattr(entity)}>"
        '<dm:device id="incident"><gp:geopriv><gp:location-info>'
        '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
        f"<gml:pos>{position.lat!r} {position.lon!r}</gml:pos></gml:Point>"
        "</gp:location-info><gp:usage-rules>"
        f"<gbp:retransmission-allowed>{allowed}</gbp:retransmission-allowed>"
        f"<gbp:retention-expiry>{expiry}</gbp:retention-expiry>"
        f"</gp:usage-rules><gp:method>{method}</gp:method></gp:geopriv>"
        f"<dm:timestamp>{when}</dm:timestamp></dm:device></presence>"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_location(text: str) -> tuple[Position | None, str]:
    """The first GML point and civic address in a PIDF-LO document (either may be absent)."""
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError:
        return None, ""
    position: Position | None = None
    address = ""
    for element in root.iter():
        name = _local(element.tag)
        if name == "pos" and position is None and element.text:
            match = _POS.match(element.text)
            if match:
                try:
                    position = Position(float(match[1]), float(match[2]))
                except InvalidValue:
                    position = None
        elif name == "civicAddress" and not address:
            parts = {_local(child.tag): (child.text or "").strip() for child in element}
            street = " ".join(parts[k] for k in ("HNO", "HNS", "PRD", "RD", "STS") if parts.get(k))
            rest = [parts[k] for k in ("A3", "A1", "PC", "country") if parts.get(k)]
            address = ", ".join([p for p in (street, *rest) if p])
    return position, address
