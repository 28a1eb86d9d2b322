"""NENA's EIDO JSON schema (from ../shared/standards/eido) as a jsonschema validator, for tests."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.conftest import IN_CI

EIDO_DIR = Path(
    os.environ.get(
        "NAJDA_EIDO_DIR", Path(__file__).resolve().parents[2] / "shared" / "standards" / "eido"
    )
)
ROOT = "EmergencyIncidentDataObjectType"
BASE = "file:///eido/Schema/"


def require_eido_dir() -> Path:
    """The EIDO folder; skip (with the reason) when it is absent, but fail in CI."""
    if not (EIDO_DIR / "Schema" / "openapi.yaml").is_file():
        reason = f"NENA EIDO schema folder absent: {EIDO_DIR}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return EIDO_DIR


def _fix(node: Any) -> Any:
    """The published files write one `minItems` as a string ('1,'); make it an integer."""
    if isinstance(node, dict):
        fixed = {k: _fix(v) for k, v in node.items()}
        if isinstance(fixed.get("minItems"), str):
            fixed["minItems"] = int("".join(ch for ch in fixed["minItems"] if ch.isdigit()))
        return fixed
    if isinstance(node, list):
        return [_fix(v) for v in node]
    return node


def _load(path: Path) -> Any:
    # libyaml's parser where PyYAML has it (as in the dev install): the same documents, read
    # tens of times faster than by the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return _fix(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))


@lru_cache(maxsize=1)
def validator() -> Draft4Validator:
    """A draft-4 validator of the EIDO root type; `$ref`s resolved by their file name (made
    once per process: its registry keeps the files it has read)."""
    schema_dir = require_eido_dir() / "Schema"

    def retrieve(uri: str) -> Resource[Any]:
        name = Path(urlparse(uri).path).name
        found = schema_dir / name
        if not found.is_file():
            found = schema_dir / "NIEMComponents" / name
        return Resource.from_contents(_load(found), default_specification=DRAFT4)

    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return Draft4Validator(
        {"$ref": f"{BASE}openapi.yaml#/components/schemas/{ROOT}"}, registry=registry
    )


def errors(document: Any) -> list[str]:
    """Every schema violation in the document, as `path: message` lines."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator().iter_errors(document)
    ]
