"""Entry points stay thin: route modules import no other route module, and the live socket
layer imports no REST route module (shared reads and use cases live below both); api, domain
and projections never import the simulator; benches never import the tests."""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@cache
def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _offending(folder: str, forbidden: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / folder).glob("*.py")):
        bad = sorted(m for m in _imports(path) if m == forbidden or m.startswith(forbidden + "."))
        if bad:
            out[path.name] = bad
    return out


def test_route_modules_import_no_other_route_module() -> None:
    routes = sorted((ROOT / "api" / "routes").glob("*.py"))
    assert len(routes) > 10  # the folder is where this test thinks it is
    assert _offending("api/routes", "najda.api.routes") == {}


def test_benches_import_nothing_from_the_tests() -> None:
    assert (ROOT / "bench" / "restart.py").exists()
    assert _offending("bench", "tests") == {}


def test_the_live_layer_imports_no_rest_route_module() -> None:
    assert (ROOT / "api" / "live" / "ws.py").exists()
    assert _offending("api/live", "najda.api.routes") == {}


def _module_file(module: str) -> Path | None:
    """The source file of a first-party module `najda.x.y` (None for anything else)."""
    parts = module.split(".")
    if parts[0] != "najda" or len(parts) < 2:
        return None
    base = ROOT.joinpath("najda", *parts[1:])  # the link tree: najda/api -> ../api, ...
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _reaches(start: str, forbidden: str) -> list[list[str]]:
    """Every import chain from `start` (imports inside functions included) that ends in a
    module under `forbidden`, walking first-party modules once each."""
    chains: list[list[str]] = []
    seen = {start}
    stack = [[start]]
    while stack:
        chain = stack.pop()
        path = _module_file(chain[-1])
        if path is None:
            continue
        for imported in sorted(_imports(path)):
            if imported == forbidden or imported.startswith(forbidden + "."):
                chains.append([*chain, imported])
            elif imported not in seen and _module_file(imported) is not None:
                seen.add(imported)
                stack.append([*chain, imported])
    return chains


def _modules(folder: str) -> list[str]:
    return [
        "najda." + ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted((ROOT / folder).rglob("*.py"))
    ]


def test_the_walk_finds_a_chain_through_the_graph() -> None:
    # the package root's command line (najda/cli.py) puts the layers together: it reaches
    # the simulator through its `simulate` command (the walk is not blind)
    assert _reaches("najda.cli", "najda.simulations")
    assert len(_modules("api")) > 40


def test_api_domain_and_projections_never_import_the_simulator() -> None:
    """The dependency goes simulations -> geo/projections/domain, never back up: the live
    server loads a JEMSS road network through geo/jemss_model.py, not simulations/."""
    for folder in ("api", "domain", "projections"):
        chains = {m: _reaches(m, "najda.simulations") for m in _modules(folder)}
        assert {m: c for m, c in chains.items() if c} == {}, folder


def _foreign(folder: str, allowed: tuple[str, ...]) -> dict[str, list[str]]:
    """Per module file under `folder`, the imports outside the standard library and `allowed`."""
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = sorted(
            m
            for m in _imports(path)
            if m.split(".")[0] not in sys.stdlib_module_names
            and m != "__future__"
            and not any(m == a or m.startswith(a + ".") for a in allowed)
        )
        if bad:
            out[str(path.relative_to(ROOT))] = bad
    return out


def test_the_domain_imports_only_the_standard_library_eventsourcing_and_itself() -> None:
    """What the rules need from outside (a clock, ids, the distance between two points) is
    injected by whoever builds the application, never imported: no `najda.geo` here."""
    assert (ROOT / "domain" / "dispatch" / "duplicates.py").exists()
    assert _foreign("domain", ("eventsourcing", "najda.domain")) == {}


def test_geo_imports_nothing_of_ours() -> None:
    assert (ROOT / "geo" / "distance.py").exists()
    ours = ("najda.domain", "najda.projections", "najda.api", "najda.simulations", "tests")
    found = {
        path.name: sorted(m for m in _imports(path) if m.startswith(ours))
        for path in sorted((ROOT / "geo").rglob("*.py"))
    }
    assert {name: bad for name, bad in found.items() if bad} == {}
