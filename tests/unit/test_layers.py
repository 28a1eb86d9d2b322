"""Entry points stay thin: route modules import no other route module, and the live socket
layer imports no REST route module (shared reads and use cases live below both)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_live_layer_imports_no_rest_route_module() -> None:
    assert (ROOT / "api" / "live" / "ws.py").exists()
    assert _offending("api/live", "najda.api.routes") == {}
