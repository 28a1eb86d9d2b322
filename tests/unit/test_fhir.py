"""FHIR R4 vital signs in: realistic Observations and a gateway's Bundle, and every refusal
naming the FHIR path of its problem."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from najda.api.fhir import FhirRefused, read_bundle, read_observation
from najda.domain.care.vitals import Vital

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"


def fixture(name: str) -> Any:
    """A FHIR document from tests/fixtures/fhir (a fresh copy to change)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def refusal(read: Callable[[Any], object], document: Any) -> list[tuple[str, str]]:
    """The problems a refused document gets."""
    with pytest.raises(FhirRefused) as refused:
        read(document)
    return refused.value.problems


# --- accepted documents -----------------------------------------------------------------


def test_reads_a_heart_rate_with_its_patient_time_source_and_device() -> None:
    [entry] = read_observation(fixture("observation-heart-rate"))
    assert entry.patient == "mrn-0042"
    assert entry.subject_field == "subject.reference"
    assert entry.time_field == "effectiveDateTime"
    reading = entry.reading
    assert (reading.vital, reading.value) == (Vital.HEART_RATE, 88.0)
    assert reading.at == datetime(2024, 3, 1, 7, 0, tzinfo=UTC)  # +01:00 made UTC
    assert reading.at.tzinfo is UTC
    assert reading.source == "heart-rate-0042-20240301T0800"
    assert reading.device == "Nonin 3230 pulse oximeter"


def test_reads_spo2_coded_both_as_oxygen_saturation_and_pulse_oximetry() -> None:
    [entry] = read_observation(fixture("observation-spo2"))
    assert (entry.reading.vital, entry.reading.value) == (Vital.SPO2, 95.0)
    assert entry.reading.device == "Device/pulse-oximeter-7731"


def test_reads_a_blood_pressure_panel_as_systolic_and_diastolic_ignoring_other_components() -> None:
    systolic, diastolic = read_observation(fixture("observation-blood-pressure"))
    assert (systolic.reading.vital, systolic.reading.value) == (Vital.SYSTOLIC_BP, 107.0)
    assert (diastolic.reading.vital, diastolic.reading.value) == (Vital.DIASTOLIC_BP, 60.0)
    assert systolic.reading.at == diastolic.reading.at == datetime(2024, 3, 1, 7, 30, tzinfo=UTC)
    assert systolic.time_field == "effectivePeriod.start"


def test_reads_an_amended_respiratory_rate_with_an_instant_and_an_absolute_reference() -> None:
    [entry] = read_observation(fixture("observation-respiratory-rate"))
    assert entry.patient == "mrn-0042"
    assert (entry.reading.vital, entry.reading.value) == (Vital.RESPIRATORY_RATE, 26.0)
    assert entry.reading.at == datetime(2024, 3, 1, 7, 0, 0, 250_000, tzinfo=UTC)
    assert entry.time_field == "effectiveInstant"


def test_converts_glucose_in_mmol_per_litre_to_mg_per_decilitre_keeping_what_was_sent() -> None:
    [entry] = read_observation(fixture("observation-glucose-mmol"))
    assert entry.reading.vital is Vital.GLUCOSE
    assert entry.reading.value == pytest.approx(6.3 * 18.016, abs=0.01)
    assert entry.reading.reported == "6.3 mmol/L"
    assert entry.reading.source == "glucose-0107-20240301T0715"


def test_reads_every_observation_of_a_gateway_transaction_bundle_with_entry_paths() -> None:
    entries = read_bundle(fixture("bundle-home-gateway"))
    assert [(e.patient, e.reading.vital) for e in entries] == [
        ("mrn-0042", Vital.HEART_RATE),
        ("mrn-0042", Vital.SPO2),
        ("mrn-0042", Vital.RESPIRATORY_RATE),
        ("mrn-0107", Vital.SYSTOLIC_BP),
        ("mrn-0107", Vital.DIASTOLIC_BP),
        ("mrn-0107", Vital.GLUCOSE),
    ]
    assert entries[0].time_field == "entry[0].resource.effectiveDateTime"
    assert entries[3].subject_field == "entry[3].resource.subject.reference"
    assert entries[-1].reading.value == 142.0  # mg/dL as sent, no conversion
    assert entries[-1].reading.reported == ""


@pytest.mark.parametrize("kind", ["collection", "batch", "transaction"])
def test_accepts_collection_batch_and_transaction_bundles(kind: str) -> None:
    bundle = fixture("bundle-home-gateway")
    bundle["type"] = kind
    assert len(read_bundle(bundle)) == 6


def test_accepts_a_subject_named_by_identifier_and_units_with_annotations() -> None:
    doc = fixture("observation-heart-rate")
    doc["subject"] = {"identifier": {"system": "urn:sahil:mrn", "value": "mrn-0042"}}
    doc["valueQuantity"]["code"] = "{beats}/min"
    [entry] = read_observation(doc)
    assert (entry.patient, entry.system) == ("mrn-0042", "urn:sahil:mrn")
    assert entry.subject_field == "subject.identifier"


# --- refusals ---------------------------------------------------------------------------


def _changed(name: str, change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    doc: dict[str, Any] = fixture(name)
    change(doc)
    return doc


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()

REFUSALS: list[tuple[str, str, Callable[[dict[str, Any]], None], str, str]] = [
    # (fixture, case, change, path named, words in the message)
    (
        "observation-heart-rate",
        "wrong unit",
        _set("valueQuantity.code", "bpm"),
        "valueQuantity.code",
        '"bpm" is not UCUM; expected a UCUM unit of heart rate like "/min"',
    ),
    (
        "observation-glucose-mmol",
        "glucose unit",
        _set("valueQuantity.code", "mg"),
        "valueQuantity.code",
        'expected a UCUM unit of blood glucose like "mg/dL" or "mmol/L", got "mg"',
    ),
    (
        "observation-heart-rate",
        "unit code missing",
        _set("valueQuantity.code", _DELETE),
        "valueQuantity.code",
        'missing: give a UCUM code such as "/min"',
    ),
    (
        "observation-heart-rate",
        "not UCUM",
        _set("valueQuantity.system", "http://example.org/units"),
        "valueQuantity.system",
        'expected "http://unitsofmeasure.org"',
    ),
    (
        "observation-heart-rate",
        "not LOINC",
        _set("code.coding.0.system", "http://snomed.info/sct"),
        "code.coding",
        "no LOINC coding (given: http://snomed.info/sct|8867-4); Najda monitors",
    ),
    (
        "observation-heart-rate",
        "value missing",
        _set("valueQuantity.value", _DELETE),
        "valueQuantity.value",
        "missing",
    ),
    (
        "observation-heart-rate",
        "value as text",
        _set("valueQuantity.value", "88"),
        "valueQuantity.value",
        'expected a number, got "88"',
    ),
    (
        "observation-heart-rate",
        "no quantity",
        _set("valueQuantity", _DELETE),
        "valueQuantity",
        "missing: give the heart rate as a valueQuantity",
    ),
    (
        "observation-heart-rate",
        "data absent",
        lambda d: (d.pop("valueQuantity"), d.update(dataAbsentReason={"text": "probe off"})),
        "valueQuantity",
        "the device reported no value (probe off)",
    ),
    (
        "observation-heart-rate",
        "a string value",
        lambda d: (d.pop("valueQuantity"), d.update(valueString="88")),
        "valueQuantity",
        "expected a quantity, got valueString",
    ),
    (
        "observation-spo2",
        "SpO2 above 100",
        _set("valueQuantity.value", 104),
        "valueQuantity.value",
        "104 % is not a plausible SpO2 (20 to 100 %); a saturation cannot exceed 100 %",
    ),
    (
        "observation-spo2",
        "SpO2 below 0",
        _set("valueQuantity.value", -3),
        "valueQuantity.value",
        "-3 % is not a plausible SpO2 (20 to 100 %)",
    ),
    (
        "observation-heart-rate",
        "heart rate zero",
        _set("valueQuantity.value", 0),
        "valueQuantity.value",
        "0 /min is not a plausible heart rate (15 to 300 /min); no signal",
    ),
    (
        "observation-heart-rate",
        "heart rate 400",
        _set("valueQuantity.value", 400),
        "valueQuantity.value",
        "400 /min is not a plausible heart rate (15 to 300 /min)",
    ),
    (
        "observation-heart-rate",
        "comparator",
        _set("valueQuantity.comparator", "<"),
        "valueQuantity.comparator",
        'a bound ("<") is not a measurement',
    ),
    (
        "observation-heart-rate",
        "entered in error",
        _set("status", "entered-in-error"),
        "status",
        '"entered-in-error": this observation is withdrawn',
    ),
    (
        "observation-heart-rate",
        "cancelled",
        _set("status", "cancelled"),
        "status",
        '"cancelled": this observation is withdrawn',
    ),
    (
        "observation-heart-rate",
        "preliminary",
        _set("status", "preliminary"),
        "status",
        'only final, amended or corrected observations are recorded, got "preliminary"',
    ),
    (
        "observation-heart-rate",
        "no subject",
        _set("subject", _DELETE),
        "subject",
        "expected a JSON object, got nothing",
    ),
    (
        "observation-heart-rate",
        "subject is not a patient",
        _set("subject.reference", "Group/ward-3"),
        "subject.reference",
        'expected a relative reference "Patient/<id>"',
    ),
    (
        "observation-heart-rate",
        "date only",
        _set("effectiveDateTime", "2024-03-01"),
        "effectiveDateTime",
        'give a date and time with a UTC offset, got "2024-03-01"',
    ),
    (
        "observation-heart-rate",
        "no offset",
        _set("effectiveDateTime", "2024-03-01T08:00:00"),
        "effectiveDateTime",
        "a time needs its UTC offset",
    ),
    (
        "observation-heart-rate",
        "no time",
        _set("effectiveDateTime", _DELETE),
        "effectiveDateTime",
        "missing: when was it measured?",
    ),
    (
        "observation-blood-pressure",
        "period without start",
        _set("effectivePeriod.start", _DELETE),
        "effectivePeriod.start",
        "missing",
    ),
    (
        "observation-blood-pressure",
        "no diastolic",
        _set("component.1", _DELETE),
        "component",
        "missing diastolic blood pressure",
    ),
    (
        "observation-blood-pressure",
        "diastolic above systolic",
        _set("component.1.valueQuantity.value", 120),
        "component[1].valueQuantity.value",
        "diastolic 120 mm[Hg] is not below systolic 107 mm[Hg]",
    ),
    (
        "observation-blood-pressure",
        "component unit",
        _set("component.0.valueQuantity.code", "mmHg"),
        "component[0].valueQuantity.code",
        '"mmHg" is not UCUM; expected a UCUM unit of systolic blood pressure like "mm[Hg]"',
    ),
    (
        "observation-heart-rate",
        "not an observation",
        _set("resourceType", "Patient"),
        "resourceType",
        'expected "Observation", got "Patient"',
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "path", "words"),
    [pytest.param(n, c, p, w, id=case) for n, case, c, p, w in REFUSALS],
)
def test_refuses_a_bad_observation_naming_the_path(
    name: str, change: Callable[[dict[str, Any]], None], path: str, words: str
) -> None:
    problems = refusal(read_observation, _changed(name, change))
    assert len(problems) == 1
    where, message = problems[0]
    assert where == path
    assert words in message


@pytest.mark.parametrize(
    ("name", "change", "path", "words"),
    [pytest.param(n, c, p, w, id=case) for n, case, c, p, w in REFUSALS],
)
def test_refuses_the_same_problem_inside_a_bundle_naming_the_entry(
    name: str, change: Callable[[dict[str, Any]], None], path: str, words: str
) -> None:
    bundle = fixture("bundle-home-gateway")
    bundle["entry"].append({"resource": _changed(name, change)})
    problems = refusal(read_bundle, bundle)
    assert problems == [(f"entry[5].resource.{path}", problems[0][1])]
    assert words in problems[0][1]


def test_a_bundle_lists_every_bad_entry() -> None:
    bundle = fixture("bundle-home-gateway")
    bundle["entry"][0]["resource"]["valueQuantity"]["code"] = "bpm"
    bundle["entry"][2]["resource"]["valueQuantity"]["value"] = None
    bundle["entry"][4]["resource"]["subject"] = {"reference": "Practitioner/7"}
    problems = refusal(read_bundle, bundle)
    assert [p for p, _ in problems] == [
        "entry[0].resource.valueQuantity.code",
        "entry[2].resource.valueQuantity.value",
        "entry[4].resource.subject.reference",
    ]
    assert str(FhirRefused(problems)).startswith(
        'entry[0].resource.valueQuantity.code: "bpm" is not UCUM; expected a UCUM unit of'
    )


BUNDLE_REFUSALS: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    ("searchset", _set("type", "searchset"), "type", 'got "searchset"'),
    ("no entries", _set("entry", []), "entry", "at least one entry"),
    ("entry not an object", _set("entry.1", "Observation/1"), "entry[1]", "a JSON object"),
    ("no resource", _set("entry.1.resource", _DELETE), "entry[1].resource", "missing"),
    (
        "a patient resource",
        _set("entry.1.resource", {"resourceType": "Patient", "id": "mrn-0042"}),
        "entry[1].resource.resourceType",
        'expected "Observation", got "Patient"',
    ),
    ("a GET", _set("entry.1.request.method", "GET"), "entry[1].request.method", 'got "GET"'),
    ("a PUT url", _set("entry.1.request.url", "Patient/1"), "entry[1].request.url", "Patient/1"),
]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [pytest.param(c, p, w, id=case) for case, c, p, w in BUNDLE_REFUSALS],
)
def test_refuses_a_malformed_bundle(
    change: Callable[[dict[str, Any]], object], path: str, words: str
) -> None:
    bundle = fixture("bundle-home-gateway")
    change(bundle)
    problems = refusal(read_bundle, bundle)
    assert problems[0][0] == path
    assert words in problems[0][1]


def test_a_single_observation_posted_as_a_bundle_is_pointed_to_the_observation_route() -> None:
    [(path, message)] = refusal(read_bundle, fixture("observation-heart-rate"))
    assert path == "resourceType"
    assert "/fhir/Observation" in message


@pytest.mark.parametrize("document", [None, [], "Observation", 3, True])
def test_refuses_documents_that_are_not_objects(document: Any) -> None:
    for read in (read_observation, read_bundle):
        [(path, message)] = refusal(read, document)
        assert path == "body"
        assert message.startswith("expected a JSON object")


def test_the_fixtures_are_left_untouched_by_parsing() -> None:
    original = fixture("bundle-home-gateway")
    kept = copy.deepcopy(original)
    read_bundle(original)
    assert original == kept
