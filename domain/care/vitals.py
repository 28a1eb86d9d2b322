"""Vital signs, their units and plausible ranges, alert thresholds and defaults by condition."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from najda.domain.errors import InvalidValue


class Vital(StrEnum):
    """A vital sign Najda watches; values are kept in the unit of `Vital.unit`."""

    HEART_RATE = "heart_rate"
    SPO2 = "spo2"
    SYSTOLIC_BP = "systolic_bp"
    DIASTOLIC_BP = "diastolic_bp"
    RESPIRATORY_RATE = "respiratory_rate"
    GLUCOSE = "glucose"

    @property
    def label(self) -> str:
        """Human name used in messages and incident natures."""
        return _LABELS[self]

    @property
    def unit(self) -> str:
        """The UCUM code values are stored in."""
        return _UNITS[self]


_LABELS = {
    Vital.HEART_RATE: "heart rate",
    Vital.SPO2: "SpO2",
    Vital.SYSTOLIC_BP: "systolic blood pressure",
    Vital.DIASTOLIC_BP: "diastolic blood pressure",
    Vital.RESPIRATORY_RATE: "respiratory rate",
    Vital.GLUCOSE: "blood glucose",
}
_UNITS = {
    Vital.HEART_RATE: "/min",
    Vital.SPO2: "%",
    Vital.SYSTOLIC_BP: "mm[Hg]",
    Vital.DIASTOLIC_BP: "mm[Hg]",
    Vital.RESPIRATORY_RATE: "/min",
    Vital.GLUCOSE: "mg/dL",
}

#: Physiological plausibility: (lowest, highest) a living patient's vital can truly take,
#: both inclusive. Separate from the alert bounds and wide enough that a real extreme still
#: alerts and opens an incident; a value outside is a device or entry error (a fraction sent
#: as a percentage, mmol/L sent as mg/dL, a probe off the finger), refused and recorded
#: against the device rather than acted on. Sources checked:
#: - SpO2 20-100 %: pulse oximeters are calibrated and specified over 70-100 % (ISO
#:   80601-2-61:2017; FDA guidance "Pulse Oximeters - Premarket Notification
#:   Submissions", 2013); real patients lie far below that (high altitude: Grocott et al.,
#:   N Engl J Med 2009;360:140-9, mean arterial SaO2 54 % at 8,400 m; cyanotic heart
#:   disease), so 20 % keeps them and refuses a fraction (0.97) sent as %.
#: - Heart rate 15-300 /min: agonal and complete-heart-block rhythms go below 20 /min;
#:   supraventricular tachycardia in infants reaches 220-300 /min (AHA PALS Provider
#:   Manual, 2020).
#: - Respiratory rate 2-80 /min: agonal/opioid breathing below 4 /min; WHO IMCI counts 60 /min
#:   and more as fast breathing in infants under 2 months, distressed neonates reach 80.
#: - Systolic 40-300 and diastolic 15-200 mm[Hg]: home oscillometric monitors measure up to
#:   about 299 mm[Hg] (IEC 80601-2-30 devices); shock with systolic below 50 and hypertensive
#:   emergencies around 250/150 are real (2018 ESC/ESH hypertension guideline).
#: - Glucose 10-1,000 mg/dL (0.6-55.5 mmol/L): home meters (accuracy per ISO 15197:2013)
#:   display about 20-600 mg/dL and show LO/HI outside; hyperosmolar hyperglycaemic states
#:   above 1,000 mg/dL are reported in the literature (ADA consensus, Kitabchi et al.,
#:   Diabetes Care 2009;32:1335-43), and below 10 mg/dL no meter reads a number.
PLAUSIBLE: Mapping[Vital, tuple[float, float]] = {
    Vital.HEART_RATE: (15.0, 300.0),
    Vital.SPO2: (20.0, 100.0),
    Vital.SYSTOLIC_BP: (40.0, 300.0),
    Vital.DIASTOLIC_BP: (15.0, 200.0),
    Vital.RESPIRATORY_RATE: (2.0, 80.0),
    Vital.GLUCOSE: (10.0, 1000.0),
}

#: mg/dL per mmol/L of glucose (molar mass 180.16 g/mol).
GLUCOSE_MG_DL_PER_MMOL_L = 18.016


class Implausible(InvalidValue):
    """Raised when a value is outside its vital's physiological plausibility range."""

    def __init__(self, field: str, vital: Vital, value: float) -> None:
        super().__init__(field, implausible_message(vital, value))
        self.vital = vital
        self.value = value


def implausible_message(vital: Vital, value: float) -> str:
    """'0.97 % is not a plausible SpO2 (20 to 100 %); was a fraction sent?'."""
    low, high = PLAUSIBLE[vital]
    unit = vital.unit
    text = f"{value:g} {unit} is not a plausible {vital.label} ({low:g} to {high:g} {unit})"
    return f"{text}; {likely_cause(vital, value)}"


def likely_cause(vital: Vital, value: float) -> str:
    """The likely device or entry error behind an implausible value."""
    if vital is Vital.SPO2 and 0 < value <= 1:
        return "was a fraction sent? (send % or the UCUM unit 1)"
    if vital is Vital.SPO2 and value > 100:
        return "a saturation cannot exceed 100 %"
    if vital is Vital.GLUCOSE and 0 < value < PLAUSIBLE[vital][0]:
        return "was mmol/L sent as mg/dL?"
    if vital is Vital.GLUCOSE and value > PLAUSIBLE[vital][1]:
        return "was mg/dL sent in another unit, or is the meter out of range?"
    if value <= 0:
        return "no signal (a probe or cuff off the patient?)"
    return "a device or entry error? (check the device on the patient)"


def check_plausible(vital: Vital, value: float, field: str) -> float:
    """The value when a living patient could have it; Implausible naming `field` if not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidValue(field, f"{vital.label} must be a finite number")
    low, high = PLAUSIBLE[vital]
    if not low <= value <= high:
        raise Implausible(field, vital, float(value))
    return float(value)


class Condition(StrEnum):
    """Chronic conditions whose defaults differ from the general ones."""

    DIABETES = "diabetes"
    HEART_FAILURE = "heart_failure"
    COPD = "copd"


class Severity(StrEnum):
    """How far a reading is from the patient's bounds."""

    NORMAL = "normal"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 normal, 1 warning, 2 critical."""
        return list(Severity).index(self)


class Direction(StrEnum):
    """Which side of the bounds a breach is on."""

    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Bounds:
    """One vital's alert bounds. A value below a low bound or above a high bound breaches it;
    a bound left None is not watched. Order: critical_low < warning_low < warning_high <
    critical_high (among those given)."""

    critical_low: float | None = None
    warning_low: float | None = None
    warning_high: float | None = None
    critical_high: float | None = None

    def as_list(self) -> list[float | None]:
        """[critical_low, warning_low, warning_high, critical_high]."""
        return [self.critical_low, self.warning_low, self.warning_high, self.critical_high]

    def checked(self, vital: Vital, field: str) -> Bounds:
        """These bounds when finite, plausible and in order; InvalidValue naming the field."""
        names = ("critical_low", "warning_low", "warning_high", "critical_high")
        given = [(n, v) for n, v in zip(names, self.as_list(), strict=True) if v is not None]
        for name, value in given:
            check_plausible(vital, value, f"{field}.{name}")
        for (a, x), (b, y) in itertools.pairwise(given):
            if not x < y:
                raise InvalidValue(f"{field}.{b}", f"must be above {a} ({x:g}), got {y:g}")
        return self

    def classify(self, value: float) -> tuple[Severity, Direction | None]:
        """The severity of a value and the side it breaches (None when normal)."""
        if self.critical_low is not None and value < self.critical_low:
            return Severity.CRITICAL, Direction.LOW
        if self.critical_high is not None and value > self.critical_high:
            return Severity.CRITICAL, Direction.HIGH
        if self.warning_low is not None and value < self.warning_low:
            return Severity.WARNING, Direction.LOW
        if self.warning_high is not None and value > self.warning_high:
            return Severity.WARNING, Direction.HIGH
        return Severity.NORMAL, None

    def cleared(self, value: float, direction: Direction, margin: float) -> bool:
        """True when the value is back inside the warning bound on that side by `margin`
        (hysteresis: a value hovering at the bound does not raise and clear in turn)."""
        if direction is Direction.LOW:
            bound = self.warning_low if self.warning_low is not None else self.critical_low
            return bound is None or value >= bound + margin
        bound = self.warning_high if self.warning_high is not None else self.critical_high
        return bound is None or value <= bound - margin

    def bound(self, severity: Severity, direction: Direction) -> float | None:
        """The bound a breach of this severity and side crossed."""
        if direction is Direction.LOW:
            return self.critical_low if severity is Severity.CRITICAL else self.warning_low
        return self.critical_high if severity is Severity.CRITICAL else self.warning_high


Thresholds = Mapping[Vital, Bounds]

#: Adults in general (close to NEWS2's bands; glucose per ADA hypoglycaemia levels).
GENERAL: Mapping[Vital, Bounds] = {
    Vital.HEART_RATE: Bounds(40, 50, 110, 130),
    Vital.SPO2: Bounds(85, 90, None, None),
    Vital.SYSTOLIC_BP: Bounds(80, 90, 180, 220),
    Vital.DIASTOLIC_BP: Bounds(40, 50, 110, 130),
    Vital.RESPIRATORY_RATE: Bounds(9, 12, 20, 24),
    Vital.GLUCOSE: Bounds(54, 70, 180, 300),
}

#: What each condition changes (applied in the order of `Condition`).
BY_CONDITION: Mapping[Condition, Mapping[Vital, Bounds]] = {
    # Hypo- and hyperglycaemia at the thresholds diabetes care uses at home.
    Condition.DIABETES: {Vital.GLUCOSE: Bounds(54, 70, 250, 400)},
    # Decompensation shows first as tachycardia and low pressure.
    Condition.HEART_FAILURE: {
        Vital.HEART_RATE: Bounds(40, 50, 100, 130),
        Vital.SYSTOLIC_BP: Bounds(80, 90, 160, 200),
    },
    # Chronic hypoxaemia: target 88-92 % (NEWS2 scale 2); breathing faster at baseline.
    Condition.COPD: {
        Vital.SPO2: Bounds(80, 86, None, None),
        Vital.RESPIRATORY_RATE: Bounds(9, 12, 24, 30),
    },
}

#: Hysteresis: how far back inside the warning bound a value must be to clear an alert.
MARGINS: Mapping[Vital, float] = {
    Vital.HEART_RATE: 5.0,
    Vital.SPO2: 2.0,
    Vital.SYSTOLIC_BP: 5.0,
    Vital.DIASTOLIC_BP: 5.0,
    Vital.RESPIRATORY_RATE: 2.0,
    Vital.GLUCOSE: 10.0,
}


def default_thresholds(conditions: Iterable[Condition]) -> dict[Vital, Bounds]:
    """The general bounds, with each of the patient's conditions applied."""
    chosen = set(conditions)
    bounds = dict(GENERAL)
    for condition in Condition:
        if condition in chosen:
            bounds.update(BY_CONDITION[condition])
    return bounds


def merge_thresholds(
    current: Thresholds, changes: Mapping[Vital, Mapping[str, float | None]], field: str
) -> dict[Vital, Bounds]:
    """`current` with some bounds replaced (None stops watching that bound), checked."""
    merged = dict(current)
    for vital, fields in changes.items():
        bounds = replace(merged.get(vital, Bounds()), **dict(fields))
        merged[Vital(vital)] = bounds.checked(vital, f"{field}.{vital.value}")
    return merged


def parse_conditions(values: Iterable[str], field: str = "conditions") -> list[Condition]:
    """Known conditions, sorted and without repeats; InvalidValue names an unknown one."""
    out: set[Condition] = set()
    for i, value in enumerate(values):
        try:
            out.add(Condition(str(value).strip().lower().replace("-", "_").replace(" ", "_")))
        except ValueError:
            allowed = ", ".join(c.value for c in Condition)
            message = f"unknown condition {value!r} ({allowed})"
            raise InvalidValue(f"{field}[{i}]", message) from None
    return sorted(out, key=list(Condition).index)
