"""The deploy gate's fixtures: the template translated once per session, and a moto server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tools/ is a directory of scripts, imported as a namespace package

from tools import deploy_gate  # noqa: E402


@pytest.fixture(scope="session")
def translated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every gate case translated by the real SAM translator and linted by cfn-lint."""
    out_dir = tmp_path_factory.mktemp("translated")
    status, output = deploy_gate.translate(
        deploy_gate.gate_cases(), out_dir, ROOT / "template.yaml"
    )
    assert status == 0, f"the SAM translator or cfn-lint refused the template:\n{output}"
    print(output)
    return {
        path.stem: json.loads(path.read_text())
        for path in out_dir.glob("*.json")
        if path.name != "cases.json"
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto in server mode on 127.0.0.1 (its CloudFormation runs create/update/delete), with the
    fix of tools/moto_server.py."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tools" / "moto_server.py"),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def aws(moto_endpoint: str) -> Any:
    """A client factory for the moto server."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client
