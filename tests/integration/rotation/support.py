"""Support for rotation integration tests (fixtures registered in rotation/conftest.py): a real
PostgreSQL server started by the session (over the TLS material of tls_support), the local
platform (moto + our functions in-process) and log capture."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from opswire_local.options import PlatformOptions
from opswire_local.platform import LocalPlatform
from opswire_local.template import ACCOUNT_ID, REGION
from tests.conftest import REPO_ROOT
from tests.integration.tls_support import Tls, env

ADMIN_USER = "opswire_admin"


# ---- PostgreSQL ----------------------------------------------------------------------------------
def _postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    host: str
    port: int
    admin_password: str
    ca_file: Path
    log_file: Path

    def admin(self, sql: str) -> Any:
        import pg8000.native

        connection = pg8000.native.Connection(
            ADMIN_USER, host=self.host, port=self.port, password=self.admin_password,
            database="postgres",
        )  # fmt: skip
        try:
            return connection.run(sql)
        finally:
            connection.close()

    def create_role(self, name: str, password: str, *extra: str) -> None:
        from pg8000.native import identifier, literal

        options = " ".join(extra)
        self.admin(
            f"CREATE ROLE {identifier(name)} WITH LOGIN {options} PASSWORD {literal(password)}"
        )

    def logs_in(self, user: str, password: str, *, ssl: bool = False) -> bool:
        import ssl as ssl_module

        import pg8000.exceptions
        import pg8000.native

        # pg8000: False = plain TCP; a context = TLS verified against our CA.
        context: Any = ssl_module.create_default_context(cafile=str(self.ca_file)) if ssl else False
        try:
            connection = pg8000.native.Connection(
                user, host=self.host, port=self.port, password=password, database="postgres",
                ssl_context=context,
            )  # fmt: skip
        except pg8000.exceptions.DatabaseError as exc:
            if exc.args and isinstance(exc.args[0], dict) and exc.args[0].get("C") in (
                "28P01", "28000",
            ):  # fmt: skip
                return False
            raise
        connection.close()
        return True

    def secret(self, user: str, password: str, **extra: Any) -> dict[str, Any]:
        return {
            "kind": "postgres", "engine": "postgres", "host": self.host, "port": self.port,
            "dbname": "postgres", "username": user, "password": password, **extra,
        }  # fmt: skip


@pytest.fixture(scope="session")
def postgres(tls: Tls) -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this session: initdb in a temp dir, TLS on, SCRAM auth,
    every statement logged (so tests can prove no password reaches the server log)."""
    bindir = _postgres_bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="opswire-pg-"))
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data, sockets, log_file = base / "data", base / "sock", base / "server.log"
    sockets.mkdir()
    password = uuid.uuid4().hex
    pwfile = base / "pw"
    pwfile.write_text(password)
    for name in ("server.crt", "server.key"):
        shutil.copy(getattr(tls, "cert_file" if name == "server.crt" else "key_file"), base / name)
    if as_root:
        shutil.chown(base, "postgres")
        for path in base.iterdir():
            shutil.chown(path, "postgres")
    (base / "server.key").chmod(0o600)

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", ADMIN_USER, f"--pwfile={pwfile}",
        "--auth=scram-sha-256", "-E", "UTF8", "--no-sync")  # fmt: skip
    port = _free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
            f"unix_socket_directories = '{sockets}'\n"
            f"ssl = on\nssl_cert_file = '{base / 'server.crt'}'\n"
            f"ssl_key_file = '{base / 'server.key'}'\n"
            "password_encryption = 'scram-sha-256'\nlog_statement = 'all'\nfsync = off\n"
        )
    (data / "pg_hba.conf").write_text(
        "local all all scram-sha-256\n"
        # the role tls_only may only log in over TLS: proves "ssl": true is honoured
        "hostnossl all tls_only 127.0.0.1/32 reject\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )
    if as_root:
        shutil.chown(data / "pg_hba.conf", "postgres")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log_file), "-w", "-t", "60", "start")
    server = PostgresServer("127.0.0.1", port, password, tls.ca_file, log_file)
    try:
        yield server
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


# ---- the local platform -------------------------------------------------------------------
@pytest.fixture
def platform(tmp_path: Path) -> Iterator[LocalPlatform]:
    started = LocalPlatform(
        PlatformOptions(
            root=REPO_ROOT,
            state_dir=tmp_path / "state",
            time_scale=0.001,
            settings={"pending_stuck_after_hours": 0},
        )
    )
    started.start()
    try:
        yield started
    finally:
        started.stop()


PREFIX = "opswire/rotated/"


def function_arn(platform: LocalPlatform, logical_id: str) -> str:
    return platform.functions[logical_id].arn


def create_secret(name: str, value: dict[str, Any], tags: dict[str, str] | None = None) -> str:
    sm = boto3.client("secretsmanager", region_name=REGION)
    kwargs: dict[str, Any] = {"Name": PREFIX + name, "SecretString": json.dumps(value)}
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return str(sm.create_secret(**kwargs)["ARN"])


def rotate(secret_arn: str, function: str | None = None) -> None:
    """RotateSecret, as an operator or the schedule would (moto invokes the function)."""
    sm = boto3.client("secretsmanager", region_name=REGION)
    kwargs: dict[str, Any] = {"SecretId": secret_arn}
    if function:
        kwargs["RotationLambdaARN"] = function
        kwargs["RotationRules"] = {"AutomaticallyAfterDays": 30}
    sm.rotate_secret(**kwargs)


def begin_rotation(secret_arn: str, function: str) -> str:
    """What RotateSecret does before it invokes the function: a new version labelled AWSPENDING
    with no value, and rotation switched on. Lets a test run the steps one at a time."""
    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[ACCOUNT_ID][REGION].describe_secret(secret_arn)
    token = str(uuid.uuid4())
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {
        "createdate": int(time.time()), "version_id": token, "version_stages": ["AWSPENDING"],
    }  # fmt: skip
    secret.rotation_requested = True
    secret.rotation_enabled = True
    secret.rotation_lambda_arn = function
    secret.auto_rotate_after_days = 30
    return token


def invoke_step(function: str, step: str, secret_arn: str, token: str) -> dict[str, Any]:
    """Invoke the rotation function like Secrets Manager does; the answer, errors included."""
    response = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName=function,
        Payload=json.dumps(
            {"Step": step, "SecretId": secret_arn, "ClientRequestToken": token,
             "RotationToken": str(uuid.uuid4())}
        ).encode(),
    )  # fmt: skip
    payload = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        return {"error": payload}
    return dict(payload)


def labels(secret_arn: str) -> dict[str, list[str]]:
    """VersionIdsToStages without versions that carry no label."""
    versions = boto3.client("secretsmanager", region_name=REGION).describe_secret(
        SecretId=secret_arn
    )["VersionIdsToStages"]
    return {v: sorted(s) for v, s in versions.items() if s}


def value(secret_arn: str, stage: str = "AWSCURRENT") -> dict[str, Any]:
    text = boto3.client("secretsmanager", region_name=REGION).get_secret_value(
        SecretId=secret_arn, VersionStage=stage
    )["SecretString"]
    return dict(json.loads(text))


# ---- logs -------------------------------------------------------------------------------
@dataclass
class CapturedLogs:
    stream: io.StringIO
    caplog: pytest.LogCaptureFixture
    capfd: pytest.CaptureFixture[str]
    extra: list[str]

    def text(self) -> str:
        out, err = self.capfd.readouterr()
        self.extra.extend([out, err])
        return "\n".join([self.stream.getvalue(), self.caplog.text, *self.extra])


def _swap_stream(handler: logging.StreamHandler[Any], stream: Any) -> Any:
    """``setStream`` that also works when the old stream (an earlier test's captured stdout)
    is closed already; a closed stream is never put back."""
    if getattr(stream, "closed", False):
        stream = sys.stdout
    old = handler.stream
    if getattr(old, "closed", False):
        handler.stream = stream
        return None
    return handler.setStream(stream)


@pytest.fixture
def captured_logs(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> Iterator[CapturedLogs]:
    """Everything logged while the test runs: the Powertools JSON logger (at DEBUG, through its
    own formatter), every other logger at INFO (caplog), and the process's stdout/stderr."""
    # Imported (maybe for the first time) with the environment the functions have in Lambda.
    with env(POWERTOOLS_SERVICE_NAME="opswire", POWERTOOLS_METRICS_NAMESPACE="opswire"):
        from opswire.core.observability import logger

    stream = io.StringIO()
    inner = logger._logger
    # The Powertools handler writes JSON to the stdout of the moment it was created: point it
    # (and any other stream handler of the logger) at our buffer for this test.
    streams = [
        (handler, _swap_stream(handler, stream))
        for handler in inner.handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    assert streams, "the Powertools logger has no stream handler to capture"
    inner.addHandler(caplog.handler)
    previous_level = inner.level
    inner.setLevel(logging.DEBUG)
    caplog.set_level(logging.INFO)
    try:
        yield CapturedLogs(stream, caplog, capfd, [])
    finally:
        inner.setLevel(previous_level)
        inner.removeHandler(caplog.handler)
        for handler, original in streams:
            if original is not None:
                _swap_stream(handler, original)
