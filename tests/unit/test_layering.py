"""Handlers are thin: ``functions/<name>/app.py`` imports of opswire only ``opswire.core.*``, a
workflow's ``wiring`` and a workflow's ``models`` (import-linter cannot see functions/: the
handlers are not a package). Every import counts, the deferred ones inside functions too."""

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "layers" / "common" / "opswire"
WORKFLOWS = sorted(p.parent.name for p in PACKAGE.glob("*/wiring.py"))
ALLOWED = re.compile(
    r"opswire\.core(\..+)?"
    rf"|opswire\.({'|'.join(WORKFLOWS)})\.(wiring|models(\..+)?)"
)
HANDLERS = sorted(REPO_ROOT.glob("functions/*/app.py"))


def forbidden_imports(source: str) -> list[str]:
    """The opswire modules ``source`` imports that a handler may not import. ``from P import
    name`` is allowed when P is, or when P.name is (``from opswire.alarms import wiring``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            found += [n for n in names if n.split(".")[0] == "opswire" and not ALLOWED.fullmatch(n)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if module.split(".")[0] != "opswire" or ALLOWED.fullmatch(module):
                continue
            found += [
                f"{module}.{alias.name}"
                for alias in node.names
                if not ALLOWED.fullmatch(f"{module}.{alias.name}")
            ]
    return found


def test_the_workflows_are_found() -> None:
    assert {"alarms", "deployments", "rotation", "log_shipping", "provisioning"} <= set(WORKFLOWS)
    assert len(HANDLERS) >= 16


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.parent.name)
def test_a_handler_imports_only_core_wiring_and_models(path: Path) -> None:
    assert forbidden_imports(path.read_text()) == []


def test_the_check_catches_adapters_domain_modules_and_channels() -> None:
    source = """
from opswire.alarms import wiring, parse
from opswire.alarms.models.tasks import parse_task_input
from opswire.core.settings import load_settings

def handler():
    from opswire.alarms.aws.incident_store import IncidentStore
    import opswire.channels.slack
"""
    assert forbidden_imports(source) == [
        "opswire.alarms.parse",
        "opswire.alarms.aws.incident_store.IncidentStore",
        "opswire.channels.slack",
    ]
