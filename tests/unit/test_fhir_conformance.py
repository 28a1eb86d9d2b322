"""FHIR conformance of the intake, read without a server: HL7's own R4 vital-signs examples,
the SpO2 fraction, identifier systems, every UCUM spelling of an accepted unit, the older
blood-pressure panel, the structural pass, ignored vitals, batch and transaction Bundles,
and the OperationOutcome / CapabilityStatement shapes (checked by the FHIR model itself)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from najda.api.fhir import FhirRefused, bundle_entries, observation_entry, read_bundle
from najda.api.fhir_capability import capability_statement
from najda.api.fhir_outcome import problems_outcome
from najda.api.fhir_structure import PARALLEL_FROM, many_problems, shutdown
from najda.domain.care.vitals import PLAUSIBLE, Vital

HL7 = Path(__file__).resolve().parents[1] / "fixtures" / "fhir" / "hl7-r4"
NOW = datetime.now(UTC).replace(microsecond=0)


def hl7(name: str) -> Any:
    """One of the HL7 R4 examples, measured a minute ago (they date from 1999-2014)."""
    doc = json.loads((HL7 / f"observation-example-{name}.json").read_text())
    recent = (NOW - timedelta(minutes=1)).isoformat()
    if "effectivePeriod" in doc:
        doc["effectivePeriod"]["start"] = recent
    else:
        doc["effectiveDateTime"] = recent
    return doc


EXAMPLES = [
    ("heart-rate", [(Vital.HEART_RATE, 44.0)], "example"),
    ("satO2", [(Vital.SPO2, 95.0)], "example"),
    ("bloodpressure", [(Vital.SYSTOLIC_BP, 107.0), (Vital.DIASTOLIC_BP, 60.0)], "example"),
    ("respiratory-rate", [(Vital.RESPIRATORY_RATE, 26.0)], "example"),
    ("f001-glucose", [(Vital.GLUCOSE, round(6.3 * 18.016, 2))], "f001"),
]


@pytest.mark.parametrize(("name", "expected", "patient"), EXAMPLES)
def test_accepts_each_hl7_r4_vital_signs_example_once_its_time_is_recent(
    name: str, expected: list[tuple[Vital, float]], patient: str
) -> None:
    entry = observation_entry(hl7(name))
    assert entry.problems == []
    assert [(r.reading.vital, r.reading.value) for r in entry.readings] == expected
    assert {(r.patient, r.system) for r in entry.readings} == {(patient, None)}


def test_the_hl7_examples_as_published_are_refused_for_their_date_only_time() -> None:
    doc = json.loads((HL7 / "observation-example-heart-rate.json").read_text())
    [(where, message)] = observation_entry(doc).problems
    assert where == "effectiveDateTime"
    assert "give a date and time with a UTC offset" in message


# --- the SpO2 fraction -----------------------------------------------------------------


def test_a_fraction_sent_as_percent_is_refused_as_implausible_naming_the_likely_cause() -> None:
    doc = hl7("satO2")
    doc["valueQuantity"]["value"] = 0.97
    entry = observation_entry(doc)
    assert entry.readings == []
    [(where, message)] = entry.problems
    assert where == "valueQuantity.value"
    assert message.startswith("0.97 % is not a plausible SpO2 (20 to 100 %)")
    assert "was a fraction sent?" in message
    [report] = entry.implausible
    assert (report.patient, report.vital, report.value) == ("example", Vital.SPO2, 0.97)
    assert report.device == "DeviceMetric/example"


def test_a_fraction_sent_with_the_ucum_unity_is_converted_to_percent_explicitly() -> None:
    doc = hl7("satO2")
    doc["valueQuantity"].update(value=0.97, code="1", unit="fraction")
    [entry] = observation_entry(doc).readings
    assert (entry.reading.value, entry.reading.reported) == (97.0, "0.97 1")


def test_a_percentage_sent_with_the_ucum_unity_is_refused_not_read_as_9700_percent() -> None:
    doc = hl7("satO2")
    doc["valueQuantity"].update(value=97, code="1")
    entry = observation_entry(doc)
    assert entry.readings == []
    assert "9700 % is not a plausible SpO2" in entry.problems[0][1]
    assert "(sent as 97 1)" in entry.problems[0][1]


def test_other_dimensionless_units_are_not_taken_for_spo2() -> None:
    doc = hl7("satO2")
    doc["valueQuantity"]["code"] = "%25"  # valid UCUM: percent to the 25th power
    [(where, message)] = observation_entry(doc).problems
    assert where == "valueQuantity.code"
    assert 'expected a UCUM unit of SpO2 like "%", got "%25"' in message


@pytest.mark.parametrize("vital", list(Vital))
def test_plausibility_ranges_keep_real_extremes_inside(vital: Vital) -> None:
    low, high = PLAUSIBLE[vital]
    extremes = {  # a real patient can show these; the range must not refuse them
        Vital.SPO2: (50.0, 100.0),
        Vital.HEART_RATE: (20.0, 250.0),
        Vital.RESPIRATORY_RATE: (4.0, 60.0),
        Vital.SYSTOLIC_BP: (50.0, 250.0),
        Vital.DIASTOLIC_BP: (20.0, 150.0),
        Vital.GLUCOSE: (20.0, 600.0),
    }[vital]
    assert low <= extremes[0] and extremes[1] <= high


# --- identity ---------------------------------------------------------------------------


def test_an_identifier_keeps_its_system_and_a_reference_names_the_default_system() -> None:
    doc = hl7("heart-rate")
    doc["subject"] = {"identifier": {"system": "http://other.example/mrn", "value": "mrn-0042"}}
    [entry] = observation_entry(doc).readings
    assert (entry.patient, entry.system) == ("mrn-0042", "http://other.example/mrn")
    assert entry.subject_field == "subject.identifier"


@pytest.mark.parametrize(
    "reference",
    ["http://evil/Patient/mrn-0042", "https://fhir.example/r4/Patient/mrn-0042", "Group/7"],
)
def test_only_a_relative_patient_reference_names_a_patient(reference: str) -> None:
    doc = hl7("heart-rate")
    doc["subject"] = {"reference": reference}
    [(where, message)] = observation_entry(doc).problems
    assert where == "subject.reference"
    assert 'expected a relative reference "Patient/<id>"' in message


def test_an_identifier_without_its_system_is_refused() -> None:
    doc = hl7("heart-rate")
    doc["subject"] = {"identifier": {"value": "mrn-0042"}}
    [(where, message)] = observation_entry(doc).problems
    assert where == "subject.identifier.system"
    assert "matched on its system and value" in message


# --- UCUM spellings and LOINC codes -----------------------------------------------------

SPELLINGS = [
    ("f001-glucose", "mmol/l", 6.3, Vital.GLUCOSE, round(6.3 * 18.016, 2)),
    ("f001-glucose", "mmol/L", 6.3, Vital.GLUCOSE, round(6.3 * 18.016, 2)),
    ("f001-glucose", "mg/dl", 113.0, Vital.GLUCOSE, 113.0),
    ("f001-glucose", "mg/dL", 113.0, Vital.GLUCOSE, 113.0),
    ("f001-glucose", "g/L", 1.13, Vital.GLUCOSE, 113.0),
    ("heart-rate", "/min", 44.0, Vital.HEART_RATE, 44.0),
    ("heart-rate", "1/min", 44.0, Vital.HEART_RATE, 44.0),
    ("heart-rate", "{beat}/min", 44.0, Vital.HEART_RATE, 44.0),
    ("heart-rate", "{beats}/min", 44.0, Vital.HEART_RATE, 44.0),
    ("heart-rate", "{count}/min", 44.0, Vital.HEART_RATE, 44.0),
    ("respiratory-rate", "{breaths}/min", 26.0, Vital.RESPIRATORY_RATE, 26.0),
    ("respiratory-rate", "1/min", 26.0, Vital.RESPIRATORY_RATE, 26.0),
    ("satO2", "%", 95.0, Vital.SPO2, 95.0),
]


@pytest.mark.parametrize(
    ("name", "code", "value", "vital", "stored"),
    [pytest.param(*s, id=f"{s[0]} {s[1]}") for s in SPELLINGS],
)
def test_accepts_every_ucum_spelling_of_an_accepted_unit(
    name: str, code: str, value: float, vital: Vital, stored: float
) -> None:
    doc = hl7(name)
    doc["valueQuantity"].update(value=value, code=code)
    [entry] = observation_entry(doc).readings
    assert (entry.reading.vital, entry.reading.value) == (vital, stored)
    assert entry.reading.reported == ("" if code == vital.unit else f"{value:g} {code}")


def test_refuses_a_unit_of_another_quantity_and_a_code_that_is_not_ucum() -> None:
    doc = hl7("heart-rate")
    doc["valueQuantity"]["code"] = "mm[Hg]"
    [(_, wrong)] = observation_entry(doc).problems
    assert wrong == 'expected a UCUM unit of heart rate like "/min", got "mm[Hg]"'
    doc["valueQuantity"]["code"] = "bpm"
    [(_, unknown)] = observation_entry(doc).problems
    assert unknown.startswith('"bpm" is not UCUM')
    doc["valueQuantity"]["code"] = "/min" + "." * 100_000  # never handed to the parser
    [(_, long)] = observation_entry(doc).problems
    assert long == "a UCUM code of a vital is a few characters long"


def test_reads_the_older_loinc_blood_pressure_panel_like_the_vital_signs_one() -> None:
    doc = hl7("bloodpressure")
    doc["code"]["coding"][0].update(code="55284-4", display="Blood pressure systolic & diastolic")
    entries = observation_entry(doc).readings
    assert [(e.reading.vital, e.reading.value) for e in entries] == [
        (Vital.SYSTOLIC_BP, 107.0),
        (Vital.DIASTOLIC_BP, 60.0),
    ]


# --- structure --------------------------------------------------------------------------


def test_an_unknown_element_is_refused_by_the_structural_pass() -> None:
    doc = hl7("heart-rate")
    doc["valueQuantity"]["precision"] = 2
    [(where, message)] = observation_entry(doc).problems
    assert where == "valueQuantity.precision"
    assert message.startswith("unknown element")


def test_two_choices_of_effective_x_at_once_are_refused() -> None:
    doc = hl7("heart-rate")
    doc["effectiveInstant"] = doc["effectiveDateTime"]
    [(where, message)] = observation_entry(doc).problems
    assert where == "effectiveInstant"
    assert (
        message == "only one of effective[x] may be given, got effectiveDateTime, effectiveInstant"
    )


def test_the_structural_pass_can_be_left_out_only_for_measuring_it() -> None:
    doc = hl7("heart-rate")
    doc["valueQuantity"]["precision"] = 2
    assert observation_entry(doc, structure=False).problems == []


# --- Bundles ----------------------------------------------------------------------------


def _mixed(kind: str) -> dict[str, Any]:
    """A heart rate, a body temperature (not monitored) and a bad SpO2."""
    temperature = copy.deepcopy(hl7("heart-rate"))
    temperature["code"] = {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}
    temperature["valueQuantity"].update(value=37.2, code="Cel")
    bad = hl7("satO2")
    bad["valueQuantity"]["code"] = "percent"
    entries = [hl7("heart-rate"), temperature, bad]
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in entries
        ],
    }


def test_a_batch_keeps_each_entry_apart_and_ignores_the_unmonitored_vital() -> None:
    bundle = bundle_entries(_mixed("batch"))
    heart, temperature, bad = bundle.entries
    assert [r.reading.vital for r in heart.readings] == [Vital.HEART_RATE]
    assert temperature.ignored.startswith("not a vital Najda monitors (http://loinc.org|8310-5)")
    assert temperature.problems == []
    assert [p for p, _ in bad.problems] == ["entry[2].resource.valueQuantity.code"]


def test_a_transaction_is_refused_whole_naming_the_bad_entry_only() -> None:
    with pytest.raises(FhirRefused) as refused:
        read_bundle(_mixed("transaction"))
    assert [p for p, _ in refused.value.problems] == ["entry[2].resource.valueQuantity.code"]
    mixed = _mixed("transaction")
    del mixed["entry"][2]
    assert [r.reading.vital for r in read_bundle(mixed)] == [Vital.HEART_RATE]


# --- answers checked by the FHIR model --------------------------------------------------


def test_operation_outcomes_carry_expressions_and_are_valid_fhir() -> None:
    outcome = problems_outcome([("entry[2].resource.valueQuantity.code", "bad")], "Bundle")
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[2].resource.valueQuantity.code"]


def test_the_capability_statement_is_valid_fhir_and_lists_what_is_read() -> None:
    statement = capability_statement("0.1.0")
    CapabilityStatement.model_validate(statement)
    [rest] = statement["rest"]
    assert [r["type"] for r in rest["resource"]] == ["Observation"]
    assert {i["code"] for i in rest["interaction"]} == {"batch", "transaction"}
    assert "55284-4" in rest["documentation"]


def test_a_large_bundle_is_checked_in_worker_processes_with_the_same_answers() -> None:
    heart = hl7("heart-rate")
    documents = [(copy.deepcopy(heart), f"entry[{i}].resource") for i in range(PARALLEL_FROM + 8)]
    documents[33][0]["valueQuantity"]["precision"] = 2  # an unknown element
    try:
        parallel = many_problems(documents, workers=2)
    finally:
        shutdown()
    assert parallel == many_problems(documents, workers=1)
    assert [i for i, p in enumerate(parallel) if p] == [33]
    assert parallel[33][0][0] == "entry[33].resource.valueQuantity.precision"


def test_a_large_bundle_names_its_bad_entry_like_a_small_one() -> None:
    large = _mixed("batch")
    large["entry"] = [copy.deepcopy(large["entry"][0]) for _ in range(PARALLEL_FROM + 8)]
    large["entry"][33]["resource"]["valueQuantity"]["precision"] = 2
    bundle = bundle_entries(large)
    assert [i for i, e in enumerate(bundle.entries) if e.refused] == [33]
    assert all(len(e.readings) == 1 for i, e in enumerate(bundle.entries) if i != 33)
