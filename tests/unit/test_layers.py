"""Entry points stay thin: route modules import no other route module, and the live socket
layer imports no REST route module (shared reads and use cases live below both); api, domain
and projections never import the simulator; benches never import the tests."""

from __future__ import annotations

import ast
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


#: The one import of the simulator from below it: the `najda` command line (api/cli.py) is the
#: composition root that also offers `najda simulate` (imported inside the functions that
#: parse and run that command); the walk does not follow it, and no server module imports it.
COMPOSITION_ROOT = ("najda.api.cli", "najda.simulations.cli")


def _is_composition_root(importer: str, imported: str) -> bool:
    root, command = COMPOSITION_ROOT
    return importer == root and (imported == command or imported.startswith(command + "."))


def _module_file(module: str) -> Path | None:
    """The source file of a first-party module `najda.x.y` (None for anything else)."""
    parts = module.split(".")
    if parts[0] != "najda" or len(parts) < 2:
        return None
    base = ROOT.joinpath(*parts[1:])
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
            if _is_composition_root(chain[-1], imported):
                continue
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
    # the simulator's own command line reaches the simulator (the walk is not blind), and
    # the exception is still there to be made (else this test's allowance is stale)
    assert _reaches("najda.simulations.cli", "najda.simulations.jemss")
    assert len(_modules("api")) > 40
    root = COMPOSITION_ROOT[0]
    path = _module_file(root)
    assert path is not None and any(_is_composition_root(root, m) for m in _imports(path))


def test_api_domain_and_projections_never_import_the_simulator() -> None:
    """The dependency goes simulations -> geo/projections/domain, never back up: the live
    server loads a JEMSS road network through geo/jemss_model.py, not simulations/."""
    for folder in ("api", "domain", "projections"):
        chains = {m: _reaches(m, "najda.simulations") for m in _modules(folder)}
        assert {m: c for m, c in chains.items() if c} == {}, folder
