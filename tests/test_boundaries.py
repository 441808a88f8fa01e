"""Which side may import what.

Protects: the action server reaches the backend only over HTTP (its bot API), so it can be
deployed, upgraded and restarted on its own; what it shares with the backend comes from common/,
which stays importable everywhere: standard library only, and valid Python 3.10 (Rasa's).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = sorted((ROOT / "actions").rglob("*.py"))
COMMON = sorted((ROOT / "common").rglob("*.py"))


def imports(source: str, package: str) -> set[str]:
    """Every module ``source`` imports, by absolute name (a relative import is resolved in ``package``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            found.add(".".join(part for part in (base, node.module) if part))
    return found


def imports_of(path: Path) -> set[str]:
    return imports(path.read_text(encoding="utf-8"), ".".join(path.relative_to(ROOT).parent.parts))


def test_the_modules_are_found():
    assert len(ACTIONS) > 5 and COMMON


def test_every_form_of_import_is_seen():
    """The checks below would pass on anything if a form of import were missed."""
    source = "import backend_bridge.domain\nfrom backend_bridge.domain.model import Location\nfrom . import common\n"
    assert imports(source, "actions") == {"backend_bridge.domain", "backend_bridge.domain.model", "actions"}


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: p.name)
def test_actions_never_import_the_backend(path):
    assert {name for name in imports_of(path) if name.split(".")[0] == "backend_bridge"} == set()


@pytest.mark.parametrize("path", COMMON, ids=lambda p: p.name)
def test_common_needs_only_the_standard_library_and_python_3_10(path):
    foreign = {name for name in imports_of(path) if name.split(".")[0] not in (*sys.stdlib_module_names, "common")}
    assert foreign == set()
    ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 10))
