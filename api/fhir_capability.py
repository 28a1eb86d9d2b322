"""The CapabilityStatement Najda answers at GET /fhir/metadata: what its FHIR intake takes."""

from __future__ import annotations

from typing import Any

from najda.api.fhir_observation import BP_PANELS, CODES, UCUM

VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/"
#: The vital-signs profiles whose Observations are read.
PROFILES = ("vitalsigns", "heartrate", "oxygensat", "bp", "resprate")
#: The version of this statement (changes when the intake does).
RELEASED = "2026-12-07"


def capability_statement(version: str) -> dict[str, Any]:
    """The server's CapabilityStatement (FHIR R4, JSON only, create/batch/transaction)."""
    codes = ", ".join([*CODES, *BP_PANELS])
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": "Najda",
        "kind": "instance",
        "software": {"name": "Najda", "version": version},
        "implementation": {"description": "Najda remote-monitoring intake of vital signs"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Vital-signs Observations of enrolled patients (LOINC "
                    f"{codes}; quantities in any {UCUM} spelling of the vital's unit). "
                    "Other Observations are ignored, not refused. The subject is a relative "
                    "Patient/<id> reference or an identifier with its system."
                ),
                "security": {
                    "description": "Authorization: Bearer <token> of a device, nurse or admin;"
                    " a device posts only for the patients enrolled to it."
                },
                "resource": [
                    {
                        "type": "Observation",
                        "profile": f"{VITAL_SIGNS}vitalsigns",
                        "supportedProfile": [f"{VITAL_SIGNS}{p}" for p in PROFILES],
                        "interaction": [{"code": "create"}],
                    }
                ],
                "interaction": [
                    {"code": "batch", "documentation": "each entry judged on its own"},
                    {"code": "transaction", "documentation": "all entries or none"},
                ],
            }
        ],
    }
