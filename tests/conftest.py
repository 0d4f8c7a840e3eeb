"""Shared fixtures: the repository root and its sample events."""

import os
from pathlib import Path

# Lambda sets these before any handler module is imported; so do the tests, whatever test
# imports opswire.core.observability first (Powertools reads them when Logger/Metrics are created).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "opswire")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "opswire")

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS = REPO_ROOT / "events"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


# Slowest first: with pytest-xdist (`make test`), the many short unit tests then fill the end,
# instead of one worker running a long local test while the others have nothing left.
SLOW_FIRST = ("tests/local/test_cli.py", "tests/local/", "tests/deploy/", "tests/integration/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        node = item.nodeid
        return next((i for i, prefix in enumerate(SLOW_FIRST) if node.startswith(prefix)), 99)

    items.sort(key=rank)  # stable: the order within each group stays
