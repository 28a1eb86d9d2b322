"""HL7 FHIR R4 vital signs in: an Observation, or a Bundle of them, read entry by entry.

First a structural pass with the FHIR model (`najda.api.fhir_structure`, R4B), then Najda's own
checks of what it acts on (`najda.api.fhir_observation`). Each entry's outcome is kept apart, so a
`batch` can judge entries alone and a `transaction` refuse them all; an Observation of a
vital Najda does not monitor is ignored, not refused. Every problem names its FHIR path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from najda.api.fhir_observation import Ignored, ImplausibleProblem, Problem, read_one
from najda.api.fhir_structure import many_problems, structural_problems
from najda.domain.care.monitoring_use_cases import ImplausibleReport, PatientReading
from najda.domain.errors import InvalidValue

BUNDLE_TYPES = ("collection", "transaction", "batch")
#: Observations in one Bundle at most.
MAX_ENTRIES = 1000
#: Problems listed in one refusal at most.
MAX_PROBLEMS = 20


class FhirRefused(InvalidValue):
    """Raised when a FHIR document cannot be recorded; lists every problem found, and the
    implausible values to record against their patients."""

    def __init__(
        self, problems: list[tuple[str, str]], implausible: list[ImplausibleReport] | None = None
    ) -> None:
        where, message = problems[0]
        super().__init__(where, message)
        self.problems = problems
        self.implausible = implausible or []


@dataclass
class EntryRead:
    """What one Observation gave: readings, or why it was ignored, or its problems."""

    at: str
    readings: list[PatientReading] = field(default_factory=list)
    ignored: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)
    implausible: list[ImplausibleReport] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """True when the entry has a problem."""
        return bool(self.problems)


@dataclass
class BundleRead:
    """A Bundle's type and each entry's outcome, in order."""

    type: str
    entries: list[EntryRead]

    def refusal(self) -> FhirRefused | None:
        """Every entry's problems (capped), or None when no entry has one."""
        problems = [p for e in self.entries for p in e.problems][:MAX_PROBLEMS]
        if not problems:
            return None
        return FhirRefused(problems, [r for e in self.entries for r in e.implausible])


def observation_entry(document: Any, *, structure: bool = True) -> EntryRead:
    """One Observation posted on its own."""
    return _judged(document, "", structure)


def bundle_entries(document: Any, *, structure: bool = True) -> BundleRead:
    """Each entry of a Bundle judged on its own; FhirRefused for a bad envelope."""
    if not isinstance(document, dict):
        raise FhirRefused([("body", "expected a JSON object")])
    doc: dict[str, Any] = document
    kind = doc.get("resourceType")
    if kind != "Bundle":
        hint = " (post a single Observation to /fhir/Observation)" if kind == "Observation" else ""
        raise FhirRefused([("resourceType", f'expected "Bundle", got {_shown(kind)}{hint}')])
    problems: list[tuple[str, str]] = []
    bundle_type = doc.get("type")
    if bundle_type not in BUNDLE_TYPES:
        expected = ", ".join(BUNDLE_TYPES)
        problems.append(("type", f"expected one of {expected}, got {_shown(bundle_type)}"))
    entries = doc.get("entry")
    if not isinstance(entries, list) or not entries:
        problems.append(("entry", "give at least one entry with an Observation"))
        raise FhirRefused(problems)
    if len(entries) > MAX_ENTRIES:
        problems.append(("entry", f"at most {MAX_ENTRIES} entries per Bundle"))
        raise FhirRefused(problems)
    if structure:
        shell = {**doc, "entry": [_without_resource(e) for e in entries]}
        problems.extend(structural_problems(shell, "")[:MAX_PROBLEMS])
    if problems:
        raise FhirRefused(problems)
    checked: dict[int, list[tuple[str, str]]] = {}
    if structure:  # every resource's structural pass at once (in parallel when large)
        resources = [
            (i, e["resource"])
            for i, e in enumerate(entries)
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "Observation"
        ]  # fmt: skip
        found = many_problems([(r, f"entry[{i}].resource") for i, r in resources])
        checked = {i: problems for (i, _), problems in zip(resources, found, strict=True)}
    read = [_entry(entry, f"entry[{i}]", checked.get(i, [])) for i, entry in enumerate(entries)]
    return BundleRead(str(bundle_type), read)


def read_observation(document: Any) -> list[PatientReading]:
    """The readings of one Observation; FhirRefused listing its problems."""
    entry = observation_entry(document)
    if entry.refused:
        raise FhirRefused(entry.problems, entry.implausible)
    return entry.readings


def read_bundle(document: Any) -> list[PatientReading]:
    """The readings of every Observation in a Bundle, all or nothing: FhirRefused listing
    every bad entry's problem (ignored entries give no reading)."""
    bundle = bundle_entries(document)
    refusal = bundle.refusal()
    if refusal is not None:
        raise refusal
    return [r for e in bundle.entries for r in e.readings]


def _entry(entry: Any, at: str, problems: list[tuple[str, str]]) -> EntryRead:
    """One entry: its request, then its resource (`problems`: its structural pass's)."""
    if not isinstance(entry, dict):
        return EntryRead(at, problems=[(at, "expected a JSON object")])
    request = entry.get("request")
    if isinstance(request, dict):
        if request.get("method") != "POST":
            got = _shown(request.get("method"))
            return _refused(at, f"{at}.request.method", f'expected "POST", got {got}')
        url = request.get("url")
        if not isinstance(url, str) or url.split("?")[0].rstrip("/") != "Observation":
            got = _shown(url)
            return EntryRead(
                at, problems=[(f"{at}.request.url", f'expected "Observation", got {got}')]
            )
    if "resource" not in entry:
        return EntryRead(
            at, problems=[(f"{at}.resource", "missing: each entry carries an Observation")]
        )
    if problems:
        return EntryRead(at, problems=problems[:MAX_PROBLEMS])
    return _judged(entry["resource"], f"{at}.resource", structure=False)


def _judged(document: Any, at: str, structure: bool) -> EntryRead:
    """The structural pass, then Najda's checks, of one Observation."""
    entry_at = at.removesuffix(".resource")
    if isinstance(document, dict) and document.get("resourceType") != "Observation":
        got = _shown(document.get("resourceType"))
        where = f"{at}.resourceType" if at else "resourceType"
        return _refused(entry_at, where, f'expected "Observation", got {got}')
    if structure and isinstance(document, dict):
        problems = structural_problems(document, at)
        if problems:
            return EntryRead(entry_at, problems=problems[:MAX_PROBLEMS])
    try:
        return EntryRead(entry_at, readings=read_one(document, at))
    except Ignored as ignored:
        return EntryRead(entry_at, ignored=ignored.reason)
    except ImplausibleProblem as bad:
        return EntryRead(entry_at, problems=[(bad.path, bad.message)], implausible=[bad.report])
    except Problem as problem:
        return EntryRead(entry_at, problems=[(problem.path, problem.message)])


def _refused(at: str, where: str, message: str) -> EntryRead:
    return EntryRead(at, problems=[(where, message)])


def _without_resource(entry: Any) -> Any:
    if isinstance(entry, dict):
        return {k: v for k, v in entry.items() if k != "resource"}
    return entry


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value[:60].replace('"', "'") + '"'
    return "nothing" if value is None else type(value).__name__
