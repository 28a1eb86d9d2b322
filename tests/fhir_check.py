"""Checks a FHIR R4 Encounter: its structure with fhir.resources (the R4B model, whose
Encounter is R4's), and the required elements and value sets the model does not enforce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.encounter import Encounter

#: FHIR R4 encounter-status.
ENCOUNTER_STATUSES = {
    "planned",
    "arrived",
    "triaged",
    "in-progress",
    "onleave",
    "finished",
    "cancelled",
    "entered-in-error",
    "unknown",
}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def check_encounter(resource: dict[str, Any]) -> Encounter:
    """The validated Encounter; AssertionError (or pydantic's ValidationError) names the
    first problem."""
    model = Encounter.model_validate(resource)  # types, cardinalities, no unknown elements
    assert resource["resourceType"] == "Encounter"
    assert resource["status"] in ENCOUNTER_STATUSES, resource["status"]
    assert resource["class"] == {"system": ACT_CODE, "code": "VR", "display": "virtual"}
    for entry in resource.get("statusHistory", []):
        assert entry["status"] in ENCOUNTER_STATUSES and "period" in entry
    period = resource.get("period", {})
    if "start" in period and "end" in period:
        start = datetime.fromisoformat(period["start"])
        assert start <= datetime.fromisoformat(period["end"])
    for reference in (resource["partOf"], *resource.get("basedOn", [])):
        identifier = reference["identifier"]
        assert identifier["system"] and identifier["value"], reference
    return model
