"""One FHIR R4 vital-signs Observation read into readings: codes, subject, time, units by
UCUM meaning and physiological plausibility; every problem names its FHIR path."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from najda.api import ucum
from najda.domain.care.alerting import Reading
from najda.domain.care.monitoring_use_cases import ImplausibleReport, PatientReading
from najda.domain.care.vitals import GLUCOSE_MG_DL_PER_MMOL_L, Implausible, Vital, check_plausible
from najda.domain.errors import InvalidValue
from najda.domain.values import optional_text

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
BP_PANEL = "85354-9"
#: Blood pressure panels read alike: the vital-signs profile's, and the older LOINC panel.
BP_PANELS = (BP_PANEL, "55284-4")
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

#: Glucose by amount of substance: any UCUM unit equal to mmol/L, times the molar mass.
GLUCOSE_MOLAR = "mmol/L"

ACTED_ON = ("final", "amended", "corrected")

#: Only a relative reference names a patient here: an absolute URL is another server's.
_PATIENT_REF = re.compile(r"^Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
Path = Callable[[str], str]
_TIMED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


class Problem(Exception):
    """One problem at one FHIR path (collected into the refusal of the document)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class ImplausibleProblem(Problem):
    """A value no patient can have: refused, and recorded against the patient."""

    def __init__(self, path: str, message: str, report: ImplausibleReport) -> None:
        super().__init__(path, message)
        self.report = report


class Ignored(Exception):
    """An Observation of something Najda does not monitor (not an error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Implausible(Problem):
    """A quantity out of its plausibility range, before its patient is known."""

    def __init__(self, path: str, message: str, vital: Vital, value: float, reported: str):
        super().__init__(path, message)
        self.vital = vital
        self.value = value
        self.reported = reported


def read_one(document: Any, at: str) -> list[PatientReading]:
    """The readings of one Observation at `at` ("" for a document of its own); raises
    Problem, ImplausibleProblem (with the report to record) or Ignored."""

    def path(name: str) -> str:
        return f"{at}.{name}" if at else name

    doc = _object(document, at or "body")
    if doc.get("resourceType") != "Observation":
        got = _shown(doc.get("resourceType"))
        raise Problem(path("resourceType"), f'expected "Observation", got {got}')
    _status(doc.get("status"), path("status"))
    coded = _code(doc.get("code"), path("code"))
    patient, system, subject_field = _subject(doc.get("subject"), path("subject"))
    when, time_field = _effective(doc, path)
    source = _source(doc, path)
    device = _device(doc.get("device"), path("device"))

    def reading(vital: Vital, value: float, reported: str) -> PatientReading:
        measured = Reading(vital, value, when, reported, source, device)
        return PatientReading(patient, measured, subject_field, time_field, system)

    try:
        if coded in BP_PANELS:
            return [reading(*v) for v in _panel(doc, path)]
        vital = CODES[coded]
        value, reported = _quantity(doc, vital, path("valueQuantity"))
    except _Implausible as bad:
        report = ImplausibleReport(
            patient,
            bad.vital,
            bad.value,
            bad.reported,
            bad.path,
            bad.message,
            device,
            subject_field,
            system,
        )
        raise ImplausibleProblem(bad.path, bad.message, report) from None
    return [reading(vital, value, reported)]


def _status(status: Any, where: str) -> None:
    if status in ACTED_ON:
        return
    if status in ("entered-in-error", "cancelled"):
        raise Problem(where, f'"{status}": this observation is withdrawn, nothing to record')
    if status is None:
        raise Problem(where, "missing (final, amended or corrected)")
    raise Problem(
        where, f"only final, amended or corrected observations are recorded, got {_shown(status)}"
    )


def _code(code: Any, where: str) -> str:
    """The LOINC code read: a vital's, or the blood-pressure panel's."""
    doc = _object(code, where)
    codings = doc.get("coding")
    if not isinstance(codings, list) or not codings:
        raise Problem(f"{where}.coding", "missing: give a LOINC coding")
    found: dict[str, str] = {}
    given: list[str] = []
    for i, coding in enumerate(codings):
        c = _object(coding, f"{where}.coding[{i}]")
        system, value = c.get("system"), c.get("code")
        given.append(f"{system}|{value}")
        if system == LOINC and isinstance(value, str) and (value in CODES or value in BP_PANELS):
            kind = "panel" if value in BP_PANELS else CODES[value].value
            found.setdefault(kind, value)
    if not found and any(g.startswith(f"{LOINC}|") for g in given):
        raise Ignored(f"not a vital Najda monitors ({', '.join(given)[:200]})")
    if not found:
        known = ", ".join(f"{c} {v.label}" for c, v in CODES.items())
        raise Problem(
            f"{where}.coding",
            f"no LOINC coding (given: {', '.join(given)[:200]}); Najda monitors: "
            f"{known}, {' or '.join(BP_PANELS)} blood-pressure panel",
        )
    if len(found) > 1:
        raise Problem(f"{where}.coding", f"codes for different vitals: {', '.join(found.values())}")
    return next(iter(found.values()))


def _subject(subject: Any, where: str) -> tuple[str, str | None, str]:
    """The patient named: a relative 'Patient/<id>' reference (the configured default
    identifier system), or a logical reference by identifier with its system."""
    doc = _object(subject, where)
    reference = doc.get("reference")
    if reference is not None:
        match = _PATIENT_REF.match(reference.strip()) if isinstance(reference, str) else None
        if match is None:
            raise Problem(
                f"{where}.reference",
                f'expected a relative reference "Patient/<id>" (an absolute URL names another'
                f" server's patient), got {_shown(reference)}",
            )
        return match.group(1), None, f"{where}.reference"
    identifier = doc.get("identifier")
    if isinstance(identifier, dict):
        value, system = identifier.get("value"), identifier.get("system")
        if not isinstance(value, str) or not value.strip():
            raise Problem(f"{where}.identifier.value", "missing: the patient's identifier")
        if not isinstance(system, str) or not system.strip():
            raise Problem(
                f"{where}.identifier.system",
                "missing: an identifier is matched on its system and value",
            )
        return value.strip(), system.strip(), f"{where}.identifier"
    raise Problem(f"{where}.reference", 'missing: give "Patient/<id>" of an enrolled patient')


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
            raise Problem(where, "missing: when did the measurement start?")
        return _time(period["start"], where), where
    raise Problem(path("effectiveDateTime"), "missing: when was it measured?")


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str) or not _TIMED.match(value.strip()):
        raise Problem(where, f"give a date and time with a UTC offset, got {_shown(value)}")
    try:
        return datetime.fromisoformat(value.strip()).astimezone(UTC)
    except (ValueError, OverflowError):
        raise Problem(where, f"not a valid date and time: {_shown(value)}") from None


def _quantity(doc: dict[str, Any], vital: Vital, where: str) -> tuple[float, str]:
    """The value in the vital's stored unit, and as reported when it was converted."""
    if "valueQuantity" not in doc:
        absent = doc.get("dataAbsentReason")
        if absent is not None:
            text = _concept_text(absent)
            raise Problem(where, f"missing: the device reported no value ({text})")
        other = next((k for k in doc if k.startswith("value")), None)
        if other is not None:
            raise Problem(where, f"expected a quantity, got {other}")
        raise Problem(where, f"missing: give the {vital.label} as a valueQuantity")
    quantity = _object(doc["valueQuantity"], where)
    if "comparator" in quantity:
        got = _shown(quantity["comparator"])
        raise Problem(f"{where}.comparator", f"a bound ({got}) is not a measurement")
    value = quantity.get("value")
    if value is None:
        raise Problem(f"{where}.value", "missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Problem(f"{where}.value", f"expected a number, got {_shown(value)}")
    if quantity.get("system") != UCUM:
        got = _shown(quantity.get("system"))
        raise Problem(f"{where}.system", f'expected "{UCUM}", got {got}')
    code = quantity.get("code")
    if not isinstance(code, str) or not code:
        raise Problem(f"{where}.code", f'missing: give a UCUM code such as "{vital.unit}"')
    if len(code) > 64:
        raise Problem(f"{where}.code", "a UCUM code of a vital is a few characters long")
    factor = _factor(code, vital, f"{where}.code")
    converted = float(value) * factor
    reported = f"{float(value):g} {code}" if code != vital.unit else ""
    try:
        checked = check_plausible(vital, converted, f"{where}.value")
    except Implausible as exc:
        sent = f" (sent as {reported})" if reported else ""
        raise _Implausible(exc.field, exc.message + sent, vital, converted, reported) from None
    except InvalidValue as exc:
        raise Problem(exc.field, exc.message) from None
    return round(checked, 2), reported


def _factor(code: str, vital: Vital, where: str) -> float:
    """The factor from a UCUM code to the vital's stored unit, by meaning (any valid
    spelling); glucose by amount of substance goes through its molar mass."""
    try:
        direct = ucum.factor(code, vital.unit)
        if direct is None and vital is Vital.GLUCOSE:
            molar = ucum.factor(code, GLUCOSE_MOLAR)
            direct = None if molar is None else molar * GLUCOSE_MG_DL_PER_MMOL_L
    except ucum.UnknownUnit:
        also = f' or "{GLUCOSE_MOLAR}"' if vital is Vital.GLUCOSE else ""
        raise Problem(
            where,
            f"{_shown(code)} is not UCUM; expected a UCUM unit of {vital.label} like"
            f' "{vital.unit}"{also}',
        ) from None
    if vital is Vital.SPO2 and direct is not None and not _fraction_or_percent(direct):
        direct = None  # every dimensionless unit converts; only % and the fraction 1 are SpO2
    if direct is None:
        also = f' or "{GLUCOSE_MOLAR}"' if vital is Vital.GLUCOSE else ""
        raise Problem(
            where,
            f'expected a UCUM unit of {vital.label} like "{vital.unit}"{also}, got {_shown(code)}',
        )
    return direct


def _fraction_or_percent(factor: float) -> bool:
    """True for the factor of `%` (1) or of the UCUM unity `1`, a fraction (100)."""
    return any(math.isclose(factor, f, rel_tol=1e-9) for f in (1.0, 100.0))


def _panel(doc: dict[str, Any], path: Path) -> list[tuple[Vital, float, str]]:
    """Systolic and diastolic from a blood-pressure panel's components."""
    components = doc.get("component")
    where = path("component")
    if not isinstance(components, list) or not components:
        raise Problem(
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
            raise Problem(f"{at}.code", f"{CODES[code].label} given twice")
        value, reported = _quantity(c, CODES[code], f"{at}.valueQuantity")
        found[code] = (value, reported, i)
    missing = [CODES[x].label for x in (SYSTOLIC, DIASTOLIC) if x not in found]
    if missing:
        raise Problem(where, f"missing {' and '.join(missing)} ({SYSTOLIC}/{DIASTOLIC})")
    systolic, diastolic = found[SYSTOLIC], found[DIASTOLIC]
    if diastolic[0] >= systolic[0]:
        raise Problem(
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
        raise Problem(exc.field, exc.message) from None


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
        raise Problem(where, f"expected a JSON object, got {_kind(value)}")
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
