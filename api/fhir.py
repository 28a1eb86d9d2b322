"""HL7 FHIR R4 vital signs in: an Observation, or a Bundle of them, read into readings.

Only the subset Najda acts on is read (the vital-signs profile's codes and UCUM units);
every refusal names the FHIR path of the problem, e.g.
`entry[2].resource.valueQuantity.code: expected UCUM "/min" for heart rate, got "bpm"`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidValue
from domain.monitoring import Reading
from domain.patients import PatientReading
from domain.values import optional_text
from domain.vitals import GLUCOSE_MG_DL_PER_MMOL_L, Vital, check_plausible

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
BP_PANEL = "85354-9"
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"

#: LOINC codes read, and the vital each measures (the panel has two components).
CODES: Mapping[str, Vital] = {
    "8867-4": Vital.HEART_RATE,
    "59408-5": Vital.SPO2,  # by pulse oximetry
    "2708-6": Vital.SPO2,  # the vital-signs profile's oxygen saturation code
    SYSTOLIC: Vital.SYSTOLIC_BP,
    DIASTOLIC: Vital.DIASTOLIC_BP,
    "9279-1": Vital.RESPIRATORY_RATE,
    "2339-0": Vital.GLUCOSE,  # blood, mass/volume
    "41653-7": Vital.GLUCOSE,  # capillary blood by glucometer
    "2345-7": Vital.GLUCOSE,  # serum or plasma
    "15074-8": Vital.GLUCOSE,  # blood, moles/volume
}

#: UCUM codes accepted per vital, with the factor to the vital's stored unit.
UNITS: Mapping[Vital, Mapping[str, float]] = {
    Vital.HEART_RATE: {"/min": 1.0, "{beats}/min": 1.0},
    Vital.SPO2: {"%": 1.0},
    Vital.SYSTOLIC_BP: {"mm[Hg]": 1.0},
    Vital.DIASTOLIC_BP: {"mm[Hg]": 1.0},
    Vital.RESPIRATORY_RATE: {"/min": 1.0, "{breaths}/min": 1.0},
    Vital.GLUCOSE: {"mg/dL": 1.0, "mmol/L": GLUCOSE_MG_DL_PER_MMOL_L},
}

ACTED_ON = ("final", "amended", "corrected")
BUNDLE_TYPES = ("collection", "transaction", "batch")
#: Observations in one Bundle at most.
MAX_ENTRIES = 1000
#: Problems listed in one refusal at most.
MAX_PROBLEMS = 20

_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
Path = Callable[[str], str]
_TIMED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


class FhirRefused(InvalidValue):
    """Raised when a FHIR document cannot be recorded; lists every problem found."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field, message = problems[0]
        super().__init__(field, message)
        self.problems = problems


class _Problem(Exception):
    """One problem at one FHIR path (internal: collected into FhirRefused)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def read_observation(document: Any) -> list[PatientReading]:
    """The readings of one Observation (a blood-pressure panel gives two)."""
    try:
        return _observation(document, "")
    except _Problem as problem:
        raise FhirRefused([(problem.path, problem.message)]) from None


def read_bundle(document: Any) -> list[PatientReading]:
    """The readings of every Observation in a Bundle; every entry's problem is listed."""
    if not isinstance(document, dict):
        raise FhirRefused([("body", f"expected a JSON object, got {_kind(document)}")])
    doc: dict[str, Any] = document
    kind = doc.get("resourceType")
    if kind != "Bundle":
        hint = " (post a single Observation to /fhir/Observation)" if kind == "Observation" else ""
        raise FhirRefused([("resourceType", f'expected "Bundle", got {_shown(kind)}{hint}')])
    problems: list[tuple[str, str]] = []
    if doc.get("type") not in BUNDLE_TYPES:
        expected = ", ".join(BUNDLE_TYPES)
        problems.append(("type", f"expected one of {expected}, got {_shown(doc.get('type'))}"))
    entries = doc.get("entry")
    if not isinstance(entries, list) or not entries:
        problems.append(("entry", "give at least one entry with an Observation"))
        raise FhirRefused(problems)
    if len(entries) > MAX_ENTRIES:
        problems.append(("entry", f"at most {MAX_ENTRIES} entries per Bundle"))
        raise FhirRefused(problems)
    readings: list[PatientReading] = []
    for i, entry in enumerate(entries):
        try:
            readings.extend(_entry(entry, f"entry[{i}]"))
        except _Problem as problem:
            problems.append((problem.path, problem.message))
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise FhirRefused(problems)
    return readings


def _entry(entry: Any, at: str) -> list[PatientReading]:
    doc = _object(entry, at)
    request = doc.get("request")
    if request is not None:
        req = _object(request, f"{at}.request")
        if req.get("method") != "POST":
            raise _Problem(
                f"{at}.request.method", f'expected "POST", got {_shown(req.get("method"))}'
            )
        url = req.get("url")
        if not isinstance(url, str) or url.split("?")[0].rstrip("/") != "Observation":
            raise _Problem(f"{at}.request.url", f'expected "Observation", got {_shown(url)}')
    if "resource" not in doc:
        raise _Problem(f"{at}.resource", "missing: each entry carries an Observation")
    return _observation(doc["resource"], f"{at}.resource")


def _observation(document: Any, at: str) -> list[PatientReading]:
    def path(name: str) -> str:
        return f"{at}.{name}" if at else name

    doc = _object(document, at or "body")
    if doc.get("resourceType") != "Observation":
        got = _shown(doc.get("resourceType"))
        raise _Problem(path("resourceType"), f'expected "Observation", got {got}')
    _status(doc.get("status"), path("status"))
    coded = _code(doc.get("code"), path("code"))
    patient, subject_field = _subject(doc.get("subject"), path("subject"))
    when, time_field = _effective(doc, path)
    source = _source(doc, path)
    device = _device(doc.get("device"), path("device"))

    def reading(vital: Vital, value: float, reported: str) -> PatientReading:
        measured = Reading(vital, value, when, reported, source, device)
        return PatientReading(patient, measured, subject_field, time_field)

    if coded == BP_PANEL:
        return [reading(*v) for v in _panel(doc, path)]
    vital = CODES[coded]
    value, reported = _quantity(doc, vital, path("valueQuantity"))
    return [reading(vital, value, reported)]


def _status(status: Any, where: str) -> None:
    if status in ACTED_ON:
        return
    if status in ("entered-in-error", "cancelled"):
        raise _Problem(where, f'"{status}": this observation is withdrawn, nothing to record')
    if status is None:
        raise _Problem(where, "missing (final, amended or corrected)")
    raise _Problem(
        where, f"only final, amended or corrected observations are recorded, got {_shown(status)}"
    )


def _code(code: Any, where: str) -> str:
    """The LOINC code read: a vital's, or the blood-pressure panel's."""
    doc = _object(code, where)
    codings = doc.get("coding")
    if not isinstance(codings, list) or not codings:
        raise _Problem(f"{where}.coding", "missing: give a LOINC coding")
    found: dict[str, str] = {}
    given: list[str] = []
    for i, coding in enumerate(codings):
        c = _object(coding, f"{where}.coding[{i}]")
        system, value = c.get("system"), c.get("code")
        given.append(f"{system}|{value}")
        if system == LOINC and isinstance(value, str) and (value in CODES or value == BP_PANEL):
            kind = "panel" if value == BP_PANEL else CODES[value].value
            found.setdefault(kind, value)
    if not found:
        known = ", ".join(f"{c} {v.label}" for c, v in CODES.items())
        raise _Problem(
            f"{where}.coding",
            f"no LOINC vital sign Najda monitors (given: {', '.join(given)[:200]}); known: "
            f"{known}, {BP_PANEL} blood-pressure panel",
        )
    if len(found) > 1:
        raise _Problem(
            f"{where}.coding", f"codes for different vitals: {', '.join(found.values())}"
        )
    return next(iter(found.values()))


def _subject(subject: Any, where: str) -> tuple[str, str]:
    """The patient named ('Patient/<id>', or a logical reference by identifier value)."""
    doc = _object(subject, where)
    reference = doc.get("reference")
    if isinstance(reference, str):
        match = _PATIENT_REF.search(reference.strip())
        if match is None:
            raise _Problem(
                f"{where}.reference", f'expected "Patient/<id>", got {_shown(reference)}'
            )
        return match.group(1), f"{where}.reference"
    identifier = doc.get("identifier")
    if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
        return identifier["value"], f"{where}.identifier.value"
    raise _Problem(f"{where}.reference", 'missing: give "Patient/<id>" of an enrolled patient')


def _effective(doc: dict[str, Any], path: Path) -> tuple[datetime, str]:
    """When it was measured: effectiveDateTime, effectiveInstant or effectivePeriod.start."""
    if "effectiveDateTime" in doc:
        where = path("effectiveDateTime")
        return _time(doc["effectiveDateTime"], where), where
    if "effectiveInstant" in doc:
        where = path("effectiveInstant")
        return _time(doc["effectiveInstant"], where), where
    if "effectivePeriod" in doc:
        period = _object(doc["effectivePeriod"], path("effectivePeriod"))
        where = path("effectivePeriod.start")
        if "start" not in period:
            raise _Problem(where, "missing: when did the measurement start?")
        return _time(period["start"], where), where
    raise _Problem(path("effectiveDateTime"), "missing: when was it measured?")


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str) or not _TIMED.match(value.strip()):
        raise _Problem(where, f"give a date and time with a UTC offset, got {_shown(value)}")
    try:
        return datetime.fromisoformat(value.strip()).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Problem(where, f"not a valid date and time: {_shown(value)}") from None


def _quantity(doc: dict[str, Any], vital: Vital, where: str) -> tuple[float, str]:
    """The value in the vital's stored unit, and as reported when it was converted."""
    if "valueQuantity" not in doc:
        absent = doc.get("dataAbsentReason")
        if absent is not None:
            text = _concept_text(absent)
            raise _Problem(where, f"missing: the device reported no value ({text})")
        other = next((k for k in doc if k.startswith("value")), None)
        if other is not None:
            raise _Problem(where, f"expected a quantity, got {other}")
        raise _Problem(where, f"missing: give the {vital.label} as a valueQuantity")
    quantity = _object(doc["valueQuantity"], where)
    if "comparator" in quantity:
        got = _shown(quantity["comparator"])
        raise _Problem(f"{where}.comparator", f"a bound ({got}) is not a measurement")
    value = quantity.get("value")
    if value is None:
        raise _Problem(f"{where}.value", "missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Problem(f"{where}.value", f"expected a number, got {_shown(value)}")
    if quantity.get("system") != UCUM:
        got = _shown(quantity.get("system"))
        raise _Problem(f"{where}.system", f'expected "{UCUM}", got {got}')
    units = UNITS[vital]
    expected = " or ".join(f'"{u}"' for u in units if not u.startswith("{"))
    code = quantity.get("code")
    if code is None:
        raise _Problem(f"{where}.code", f"missing: give the UCUM code {expected}")
    if code not in units:
        raise _Problem(
            f"{where}.code", f"expected UCUM {expected} for {vital.label}, got {_shown(code)}"
        )
    factor = units[code]
    converted = float(value) * factor
    try:
        checked = check_plausible(vital, converted, f"{where}.value")
    except InvalidValue as exc:
        raise _Problem(exc.field, exc.message) from None
    reported = f"{float(value):g} {code}" if factor != 1.0 else ""
    return round(checked, 2), reported


def _panel(doc: dict[str, Any], path: Path) -> list[tuple[Vital, float, str]]:
    """Systolic and diastolic from a blood-pressure panel's components."""
    components = doc.get("component")
    where = path("component")
    if not isinstance(components, list) or not components:
        raise _Problem(
            where, f"the blood-pressure panel needs {SYSTOLIC} and {DIASTOLIC} components"
        )
    found: dict[str, tuple[float, str, int]] = {}
    for i, component in enumerate(components):
        at = f"{where}[{i}]"
        c = _object(component, at)
        codings = _object(c.get("code"), f"{at}.code").get("coding")
        codes = [
            x.get("code")
            for x in (codings if isinstance(codings, list) else [])
            if isinstance(x, dict) and x.get("system") == LOINC
        ]
        code = next((x for x in codes if x in (SYSTOLIC, DIASTOLIC)), None)
        if code is None:
            continue  # e.g. a mean arterial pressure: not watched
        if code in found:
            raise _Problem(f"{at}.code", f"{CODES[code].label} given twice")
        value, reported = _quantity(c, CODES[code], f"{at}.valueQuantity")
        found[code] = (value, reported, i)
    missing = [CODES[x].label for x in (SYSTOLIC, DIASTOLIC) if x not in found]
    if missing:
        raise _Problem(where, f"missing {' and '.join(missing)} ({SYSTOLIC}/{DIASTOLIC})")
    systolic, diastolic = found[SYSTOLIC], found[DIASTOLIC]
    if diastolic[0] >= systolic[0]:
        raise _Problem(
            f"{where}[{diastolic[2]}].valueQuantity.value",
            f"diastolic {diastolic[0]:g} mm[Hg] is not below systolic {systolic[0]:g} mm[Hg]",
        )
    return [
        (Vital.SYSTOLIC_BP, systolic[0], systolic[1]),
        (Vital.DIASTOLIC_BP, diastolic[0], diastolic[1]),
    ]


def _source(doc: dict[str, Any], path: Path) -> str:
    """The Observation's id, else its first identifier's value (kept for the record)."""
    if isinstance(doc.get("id"), str):
        return _text(doc["id"], path("id"), 64)
    identifiers = doc.get("identifier")
    if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], dict):
        value = identifiers[0].get("value")
        if isinstance(value, str):
            return _text(value, path("identifier[0].value"), 200)
    return ""


def _device(device: Any, where: str) -> str:
    if not isinstance(device, dict):
        return ""
    for key in ("display", "reference"):
        if isinstance(device.get(key), str):
            return _text(device[key], f"{where}.{key}", 200)
    return ""


def _text(value: str, where: str, max_length: int) -> str:
    try:
        return optional_text(where, value, max_length)
    except InvalidValue as exc:
        raise _Problem(exc.field, exc.message) from None


def _concept_text(concept: Any) -> str:
    if isinstance(concept, dict):
        if isinstance(concept.get("text"), str):
            return str(concept["text"])[:100]
        codings = concept.get("coding")
        if isinstance(codings, list) and codings and isinstance(codings[0], dict):
            return str(codings[0].get("display") or codings[0].get("code") or "no reason")[:100]
    return "no reason given"


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Problem(where, f"expected a JSON object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    """A value as quoted in a message (shortened)."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return '"' + value[:60].replace('"', "'") + '"'
    return _kind(value)
