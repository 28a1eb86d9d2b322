"""scripts/regroup.py: what it rewrites, what it leaves, and that this tree is regrouped."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OLD_TOPS = ("domain", "projections", "api", "geo", "simulations")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regroup", ROOT / "scripts" / "regroup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["regroup"] = module
    spec.loader.exec_module(module)
    return module


regroup = _load_script()


@pytest.fixture(scope="module")
def rewriter() -> Any:
    return regroup.Rewriter(regroup.known_modules(ROOT))


def test_imports_of_moved_and_unmoved_modules_go_through_najda(rewriter: Any) -> None:
    source = (
        "from domain.patient import Patient\n"
        "from domain.values import Position\n"
        "import projections.witness as w, json\n"
        "def f():\n"
        "    from api.cli import main\n"
    )
    assert rewriter.python(source) == (
        "from najda.domain.care.patient import Patient\n"
        "from najda.domain.values import Position\n"
        "import najda.projections.audit.witness as w, json\n"
        "def f():\n"
        "    from najda.api.cli import main\n"
    )


def test_a_module_imported_from_its_package_is_imported_from_its_new_package(
    rewriter: Any,
) -> None:
    source = "from domain import consult as consults, errors\n"
    assert rewriter.python(source) == (
        "from najda.domain import errors\nfrom najda.domain.care import consult as consults\n"
    )
    renamed = "from domain import patients\n"
    assert rewriter.python(renamed) == (
        "from najda.domain.care import monitoring_use_cases as patients\n"
    )


def test_dotted_strings_comments_and_paths_are_rewritten(rewriter: Any) -> None:
    source = (
        'TOPIC = "projections.witness:WitnessingSQLiteRecorder"\n'
        'argv = [sys.executable, "-m", "api.cli"]  # see domain/patient.py and api.cli\n'
        'data = resources.files("geo") / "data"\n'
    )
    assert rewriter.python(source) == (
        'TOPIC = "najda.projections.audit.witness:WitnessingSQLiteRecorder"\n'
        'argv = [sys.executable, "-m", "najda.api.cli"]  # see domain/care/patient.py and najda.api.cli\n'  # noqa: E501
        'data = resources.files("najda.geo") / "data"\n'
    )


def test_code_names_and_non_module_dots_are_left_alone(rewriter: Any) -> None:
    source = (
        "yield projections.locator, projections.board\n"
        'script = "api.js"  # geo.example.org, api/static/console.js\n'
        'topic = "najda:Incident.Reported"\n'
    )
    assert rewriter.python(source) == source
    assert rewriter.text("python -m simulations.cli run") == ("python -m najda.simulations.cli run")


def test_rewriting_twice_changes_nothing(rewriter: Any) -> None:
    once = rewriter.python(
        "from domain import consult\nfrom domain.store import X\nx = 'api.logs.Y'\n"
    )
    assert rewriter.python(once) == once


def test_no_new_module_name_sits_under_an_old_one() -> None:
    for new in regroup.MOVES.values():
        assert all(new != old and not new.startswith(old + ".") for old in regroup.MOVES)
    assert set(regroup.MOVES.values()).isdisjoint(regroup.MOVES)


def test_this_tree_is_regrouped() -> None:
    """Run on this checkout, the script has nothing left to move, link or rewrite
    (pyproject's packages list included)."""
    assert regroup.main(["--check", "--quiet"]) == 0
    for old in regroup.MOVES:
        assert not regroup.module_path(ROOT, old).exists(), old


def test_no_first_party_import_bypasses_najda() -> None:
    offenders = []
    for folder in (*OLD_TOPS, "tests", "bench", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                offenders += [f"{path}:{node.lineno}" for n in names if n.split(".")[0] in OLD_TOPS]
    assert offenders == []


def test_the_link_tree_points_at_the_folders() -> None:
    for top in OLD_TOPS:
        link = ROOT / "najda" / top
        assert link.is_symlink() and link.resolve() == (ROOT / top).resolve()
