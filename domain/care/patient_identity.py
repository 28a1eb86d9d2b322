"""Who a vital-sign report names and who sends it: identifier systems, device binding."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from najda.domain.errors import InvalidValue
from najda.domain.values import MAX_DEVICE, MAX_IDENTIFIER, require_text

#: The identifier system of patients enrolled without one, and of a short `Patient/<id>`
#: reference (deployments set their own with NAJDA_PATIENT_SYSTEM).
DEFAULT_PATIENT_SYSTEM = "urn:najda:patient"
#: The one answer to a subject that is unknown, of another system, or not the sender's, so
#: that a device cannot tell which record numbers exist.
NOT_REPORTABLE = (
    "no patient you may report for has this identifier (check the identifier, its system"
    " and the devices enrolled to the patient)"
)
#: Devices enrolled to one patient at most.
MAX_DEVICES = 20


@dataclass(frozen=True)
class Sender:
    """Who posts readings: a device user is bound to the patients enrolled to it; staff
    (nurses, administrators) may report for any patient."""

    name: str
    is_device: bool
    default_system: str = DEFAULT_PATIENT_SYSTEM


def require_devices(devices: Iterable[str], field: str = "devices") -> list[str]:
    """Device user names, without repeats (at most MAX_DEVICES)."""
    out: list[str] = []
    for i, device in enumerate(devices):
        name = require_text(f"{field}[{i}]", device, MAX_DEVICE)
        if name not in out:
            out.append(name)
    if len(out) > MAX_DEVICES:
        raise InvalidValue(field, f"at most {MAX_DEVICES} devices per patient")
    return out


def require_system(value: str, field: str = "identifier_system") -> str:
    """An identifier system: an absolute URI (http(s)://, urn:, oid)."""
    cleaned = require_text(field, value, MAX_IDENTIFIER)
    if not re.fullmatch(r"(https?://|urn:)\S+", cleaned):
        raise InvalidValue(field, f"give an absolute URI (http://... or urn:...), got {cleaned!r}")
    return cleaned
