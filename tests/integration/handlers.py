"""What the handler-level integration tests share: a handler module loaded from its file (every
function's module is called ``app``, so each is loaded apart, not imported), and the local
platform's Slack outbox in bot mode, served over real HTTP (fixture registered in conftest.py)."""

import importlib.util
from collections.abc import Iterator
from types import ModuleType

import pytest

from opswire_local.sinks import SlackOutbox
from tests.conftest import REPO_ROOT


def load_handler_module(function: str) -> ModuleType:
    """A fresh module of ``functions/<function>/app.py``."""
    path = REPO_ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"handler_{function}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def outbox() -> Iterator[SlackOutbox]:
    fake = SlackOutbox(None, None, bot_token="xoxb-local")
    fake.start()
    yield fake
    fake.stop()
