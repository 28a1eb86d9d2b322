"""The structural pass: a FHIR resource checked against the R4B model of `fhir.resources`
(unknown elements, two choices of one `[x]` element, wrong primitive types, a missing
required element), each problem at its FHIR path. R4B shares R4's Observation and Bundle.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

#: Problems listed per resource at most.
MAX_PROBLEMS = 20
#: A Bundle with at least this many resources is checked by worker processes (about 0.5-1 ms
#: of pure-Python validation per Observation: a gateway's 100 hold one core 50-100 ms).
PARALLEL_FROM = 32
#: Worker processes at most.
MAX_WORKERS = 4
#: Cores the server needs for itself (event loop, store, projections). On a machine with
#: fewer than this plus two, the pass stays in-process: on a shared 2-core machine workers
#: only competed with the server (bench/fhir_bundle: no gain, sometimes a loss).
SERVER_CORES = 2
Problems = list[tuple[str, str]]
_pool_lock = threading.Lock()
_pools: list[ProcessPoolExecutor] = []
_CHOICE = re.compile(r"from this list \[([^\]]*)\]")
#: Python names of fhir.resources fields that differ from the FHIR element name.
_ELEMENTS = {"resource_type": "resourceType"}


@cache
def _model(resource_type: str) -> Any:
    return get_fhir_model_class(resource_type)


def structural_problems(document: dict[str, Any], at: str) -> list[tuple[str, str]]:
    """The structural problems of a resource at path `at` ("" for the document itself)."""
    kind = document.get("resourceType")
    if not isinstance(kind, str):
        return [(_join(at, "resourceType"), "missing: every FHIR resource names its type")]
    try:
        model = _model(kind)
    except (KeyError, ValueError, LookupError):
        return [(_join(at, "resourceType"), f"not a FHIR R4 resource type: {kind[:60]!r}")]
    try:
        model.model_validate(document)
    except ValidationError as exc:
        return [_problem(error, document, at) for error in exc.errors()[:MAX_PROBLEMS]]
    except (TypeError, ValueError) as exc:  # a model's own validator may raise these
        return [(at or "body", str(exc).splitlines()[0][:200])]
    return []


def _problem(error: Any, document: dict[str, Any], at: str) -> tuple[str, str]:
    """One pydantic error as (FHIR path, message)."""
    loc = [_ELEMENTS.get(str(p), p) if isinstance(p, str) else p for p in error["loc"]]
    message = " ".join(str(error["msg"]).split()).removeprefix("Value error, ")
    kind = error["type"]
    if kind == "extra_forbidden":
        message = "unknown element (not in the FHIR R4 definition of this resource)"
    elif kind == "missing":
        message = "missing: required by FHIR"
    elif kind in ("json_invalid", "model_type", "model_attributes_type", "dict_type"):
        message = "expected a JSON object"
    elif "does not match spec regex" in message:
        given = str(error.get("input", ""))[:60]
        kind_name = message.split(" value string")[0].strip()
        message = f"not a valid FHIR {kind_name[:1].lower()}{kind_name[1:]}: {given!r}"
        if kind_name == "DateTime" and "T" in given:
            message += " (a time needs its UTC offset, e.g. +01:00 or Z)"
    choice = _CHOICE.search(message)
    if choice is not None:  # a choice type given twice, e.g. effectiveDateTime + Instant
        names = [n.strip(" '\"") for n in choice.group(1).split(",")]
        present = [n for n in names if n in _at(document, loc)]
        base = re.sub(r"[A-Z].*$", "", names[0]) + "[x]"
        message = f"only one of {base} may be given, got {', '.join(present) or 'several'}"
        loc = [*loc, present[1] if len(present) > 1 else base]
    path = at
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return (path or "body", message[:300])


def _at(document: Any, loc: list[Any]) -> dict[str, Any]:
    """The object at a pydantic location (the document when it cannot be followed)."""
    node = document
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return document if isinstance(document, dict) else {}
    return node if isinstance(node, dict) else {}


def _join(at: str, name: str) -> str:
    return f"{at}.{name}" if at else name


def many_problems(
    documents: Sequence[tuple[dict[str, Any], str]], workers: int | None = None
) -> list[Problems]:
    """The structural problems of each (resource, path): in `workers` processes (default:
    the cores the server leaves free, up to MAX_WORKERS) for a large Bundle, else here."""
    if workers is None:
        workers = min(MAX_WORKERS, (os.cpu_count() or 1) - SERVER_CORES)
    if len(documents) < PARALLEL_FROM or workers < 2:
        return _checked(documents)
    size = -(-len(documents) // workers)
    chunks = [documents[i : i + size] for i in range(0, len(documents), size)]
    try:
        return [p for chunk in _pool(workers).map(_checked, chunks) for p in chunk]
    except BrokenProcessPool:  # a worker died (killed, out of memory): check here instead
        shutdown()
        return _checked(documents)


def shutdown() -> None:
    """Stop the worker processes (at server shutdown; started again when needed)."""
    with _pool_lock:
        while _pools:
            _pools.pop().shutdown(wait=False, cancel_futures=True)


def _pool(workers: int) -> ProcessPoolExecutor:
    with _pool_lock:
        if not _pools:
            # forkserver: never fork the server's threads; workers import this module once.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _pools.append(ProcessPoolExecutor(workers, mp_context=context))
        return _pools[0]


def _checked(documents: Sequence[tuple[dict[str, Any], str]]) -> list[Problems]:
    return [structural_problems(document, at) for document, at in documents]
