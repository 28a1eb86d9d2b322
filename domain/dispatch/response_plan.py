"""The response plan: which unit kinds, and how many, each kind of call gets."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from najda.domain.errors import InvalidValue
from najda.domain.values import Priority, UnitKind

K = UnitKind

#: Chief complaints that make a call behavioural (matched case-insensitively).
BEHAVIOURAL_PATTERN = (
    r"behavio|psych|mental|suicid|self[- ]harm|crisis|agitat|overdose threat|hallucinat"
    r"|paranoi|delusion|panic attack"
)
#: Medical presentations that read like behavioural ones but need an ambulance; they are
#: taken out of the complaint before the behavioural pattern is matched.
MEDICAL_LOOKALIKE_PATTERN = (
    r"altered (level of )?(consciousness|mental)\w*( status)?|mental status( change)?"
    r"|(hypertensive|sickle[- ]cell|sickle|adrenal|addisonian|thyroid|thyrotoxic|myasthenic"
    r"|asthma|asthmatic|cholinergic|hypercalc\w*|aplastic|ha?emolytic|vaso-?occlusive|blast"
    r"|respiratory|diabetic|hypoxic|hypoglyc\w*|cardiac) crisis"
)
#: MPDS protocol 25: psychiatric / abnormal behaviour / suicide attempt (e.g. "25-A-1").
_PROTOCOL_25 = re.compile(r"25\s*-?\s*[ΩOABCDE](?![A-Z])", re.IGNORECASE)


@dataclass(frozen=True)
class Requirement:
    """One line of a response: `count` units of any of `kinds`, each with `capabilities`."""

    label: str
    kinds: frozenset[UnitKind]
    count: int = 1
    capabilities: frozenset[str] = field(default_factory=frozenset)

    def accepts(self, kind: UnitKind, capabilities: Sequence[str]) -> bool:
        """True when a unit of this kind with these capabilities fills the requirement."""
        return kind in self.kinds and self.capabilities.issubset(capabilities)


@dataclass(frozen=True)
class ResponsePlan:
    """Priority (and, for behavioural calls, nature) → the requirements to fill, in order."""

    by_priority: Mapping[Priority, tuple[Requirement, ...]]
    behavioural: Mapping[Priority, tuple[Requirement, ...]]
    behavioural_pattern: str = BEHAVIOURAL_PATTERN
    medical_pattern: str = MEDICAL_LOOKALIKE_PATTERN

    def is_behavioural(self, nature: str, determinant: str = "") -> bool:
        """True when the call reads as a behavioural / mental-health call: an MPDS protocol 25
        determinant (psychiatric / abnormal behaviour / suicide attempt), or a chief complaint
        matching the behavioural pattern once medical look-alikes ("altered mental status",
        "sickle cell crisis") are taken out of it."""
        if _PROTOCOL_25.match(determinant.strip()):
            return True
        rest = re.sub(self.medical_pattern, " ", nature, flags=re.IGNORECASE)
        return re.search(self.behavioural_pattern, rest, flags=re.IGNORECASE) is not None

    def requirements_for(
        self, priority: Priority, nature: str, determinant: str = ""
    ) -> tuple[Requirement, ...]:
        """The requirements for a call of this priority, nature and determinant."""
        if self.is_behavioural(nature, determinant) and priority in self.behavioural:
            return self.behavioural[priority]
        return self.by_priority[priority]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ResponsePlan:
        """Build a plan from plain data (JSON settings); missing priorities keep the default."""
        default = default_response_plan()

        def parse(section: Any, where: str) -> dict[Priority, tuple[Requirement, ...]]:
            if not isinstance(section, Mapping):
                raise InvalidValue(where, "must be an object keyed by priority")
            out: dict[Priority, tuple[Requirement, ...]] = {}
            for key, lines in section.items():
                priority = Priority.parse(str(key))
                if not isinstance(lines, list) or not lines:
                    raise InvalidValue(f"{where}.{key}", "must be a non-empty list")
                out[priority] = tuple(_parse_requirement(x, f"{where}.{key}") for x in lines)
            return out

        by_priority = dict(default.by_priority)
        by_priority.update(parse(data.get("by_priority", {}), "by_priority"))
        behavioural = dict(default.behavioural)
        behavioural.update(parse(data.get("behavioural", {}), "behavioural"))
        patterns = {
            name: data.get(name, getattr(default, name))
            for name in ("behavioural_pattern", "medical_pattern")
        }
        for name, pattern in patterns.items():
            try:
                re.compile(pattern)
            except (re.error, TypeError):
                raise InvalidValue(name, "must be a valid regex") from None
        return cls(by_priority=by_priority, behavioural=behavioural, **patterns)


def _parse_requirement(item: Any, where: str) -> Requirement:
    if not isinstance(item, Mapping):
        raise InvalidValue(where, "each requirement must be an object")
    try:
        kinds = frozenset(UnitKind(k) for k in item["kinds"])
    except (KeyError, ValueError, TypeError):
        raise InvalidValue(f"{where}.kinds", "must list known unit kinds") from None
    if not kinds:
        raise InvalidValue(f"{where}.kinds", "must list at least one unit kind")
    count = item.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise InvalidValue(f"{where}.count", "must be a positive integer")
    capabilities = item.get("capabilities", [])
    if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
        raise InvalidValue(f"{where}.capabilities", "must be a list of strings")
    return Requirement(
        label=str(item.get("label", "/".join(sorted(k.value for k in kinds)))),
        kinds=kinds,
        count=count,
        capabilities=frozenset(c.strip().lower() for c in capabilities if c.strip()),
    )


def _req(label: str, *kinds: UnitKind, count: int = 1) -> Requirement:
    return Requirement(label=label, kinds=frozenset(kinds), count=count)


AMBULANCES = (K.ALS, K.BLS)
ANY_MEDICAL = (K.ALS, K.BLS, K.RESPONDER, K.SUPERVISOR)


def default_response_plan() -> ResponsePlan:
    """The default plan: E/D get ALS plus the nearest other unit, C ALS, B/A an ambulance."""
    als = _req("ALS ambulance", K.ALS)
    ambulance = _req("ambulance (BLS or ALS)", *AMBULANCES)
    nearest_other = _req("nearest other unit", *ANY_MEDICAL)
    crisis = _req("mental-health crisis team", K.CRISIS)
    return ResponsePlan(
        by_priority={
            Priority.E: (als, nearest_other),
            Priority.D: (als, nearest_other),
            Priority.C: (als,),
            Priority.B: (ambulance,),
            Priority.A: (ambulance,),
            Priority.OMEGA: (ambulance,),
        },
        behavioural={
            Priority.OMEGA: (crisis,),
            Priority.A: (crisis,),
            Priority.B: (crisis,),
            Priority.C: (crisis, als),
            Priority.D: (als, crisis),
            Priority.E: (als, nearest_other, crisis),
        },
    )
