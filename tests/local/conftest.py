"""Whole workflows through the embedded local platform (moto + our handlers in-process)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opswire_local.platform import LocalPlatform, PlatformOptions
from tests.conftest import REPO_ROOT

PlatformFactory = Callable[..., LocalPlatform]


@pytest.fixture
def start_platform(tmp_path: Path) -> Iterator[PlatformFactory]:
    """Start a fresh local stack; keyword arguments go to ``PlatformOptions``."""
    started: list[LocalPlatform] = []

    def start(**options: object) -> LocalPlatform:
        settings = {"root": REPO_ROOT, "state_dir": tmp_path / "state", "time_scale": 0.001}
        settings.update(options)
        platform = LocalPlatform(PlatformOptions(**settings))  # type: ignore[arg-type]
        platform.start()
        started.append(platform)
        return platform

    yield start
    for platform in started:
        platform.stop()
