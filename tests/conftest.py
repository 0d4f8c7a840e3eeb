"""Shared fixtures: the repository root and its sample events."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS = REPO_ROOT / "events"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT
