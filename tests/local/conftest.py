"""Whole workflows through the embedded local platform (moto + our handlers in-process)."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opswire_local.gateway import announce, make_server, new_control_token, start_aws_endpoint
from opswire_local.options import PlatformOptions
from opswire_local.platform import LocalPlatform
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


@contextlib.contextmanager
def served(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``platform`` served as ``opswire local up`` serves it (gateway, AWS endpoint, the
    announcement in its state dir, which the CLI is pointed at); yields the gateway's URL."""
    token = new_control_token()
    server = make_server(platform, 0, token)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    aws = start_aws_endpoint()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state_file = announce(platform, url, aws, token)
    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(platform.options.state_path))
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        aws.stop()
        state_file.unlink(missing_ok=True)
