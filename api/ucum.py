"""UCUM units by meaning, not by spelling: equality and conversion through `ucumvert`.

`ucumvert` parses a UCUM code with the grammar of the UCUM specification (annotations such
as `{beat}` are unity, `l` and `L` are both the litre, `1/min` is `/min`) and converts with
pint; it works offline from the definitions it ships. Loading its registry takes a few
seconds, so it is built once (`warm_up` at start) and each (code, target) factor is cached.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from typing import Any

from ucumvert import PintUcumRegistry


class UnknownUnit(ValueError):
    """Raised when a code is not valid UCUM."""


_lock = threading.Lock()
_registries: list[Any] = []


def _registry() -> Any:
    with _lock:
        if not _registries:
            _registries.append(PintUcumRegistry())
        return _registries[0]


def warm_up() -> None:
    """Build the registry now (a few seconds), not on the first observation."""
    _registry()


@lru_cache(maxsize=512)
def factor(code: str, target: str) -> float | None:
    """The factor taking a value in UCUM `code` to `target`; None when the two measure
    different things (e.g. `%` and `/min`); UnknownUnit when `code` is not UCUM."""
    registry = _registry()
    with _lock:  # the parser is not documented as thread-safe
        try:
            unit = registry.from_ucum(code)
        except Exception as exc:  # ucumvert raises its own and lark's errors
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UnknownUnit(first) from None
        wanted = registry.from_ucum(target)
        try:
            value = float((1.0 * unit).to(wanted).magnitude)
        except Exception:  # pint's DimensionalityError: not commensurable
            return None
    return value if math.isfinite(value) and value > 0 else None
