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
