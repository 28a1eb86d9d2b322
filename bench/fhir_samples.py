"""FHIR vital-signs Observations as a home gateway sends them (for the benches and tests)."""

from __future__ import annotations

from typing import Any

UCUM = "http://unitsofmeasure.org"
VITAL_SIGNS = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
        }
    ]
}


def quantity(value: float, code: str) -> dict[str, Any]:
    """A UCUM valueQuantity."""
    return {"value": value, "unit": code, "system": UCUM, "code": code}


def vital_sign(
    patient: str, code: str, at: str, device: str = "Nonin 3230", **value: Any
) -> dict[str, Any]:
    """A final vital-signs Observation of `Patient/<patient>` (LOINC `code`) measured `at`;
    `value` gives valueQuantity or component."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [VITAL_SIGNS],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": at,
        "device": {"display": device},
        **value,
    }
