"""No secret value reaches a log line or an error message: rotate every kind, successfully and
not, capture everything that was logged, and search it for the values."""

import json
import uuid
from typing import Any

import boto3

from opswire_local.platform import LocalPlatform
from opswire_local.template import REGION
from tests.integration.rotation.support import (
    CapturedLogs,
    PostgresServer,
    begin_rotation,
    create_secret,
    function_arn,
    invoke_step,
    rotate,
    value,
)


def _all_values(*secrets: dict[str, Any]) -> set[str]:
    keys = ("password", "secret_access_key", "value")
    return {str(s[k]) for s in secrets for k in keys if k in s and len(str(s[k])) >= 8}


def test_no_secret_value_in_logs_or_errors(
    platform: LocalPlatform,
    postgres: PostgresServer,
    https_server: Any,
    captured_logs: CapturedLogs,
) -> None:
    db = platform.functions["DatabaseRotationFunction"].arn
    generic = function_arn(platform, "SecretRotationFunction")
    seen: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []

    # PostgreSQL: a successful rotation, then a failing one (wrong current password).
    user, password = f"app_{uuid.uuid4().hex[:8]}", "Initial-" + uuid.uuid4().hex
    postgres.create_role(user, password)
    pg_arn = create_secret(user, postgres.secret(user, password))
    seen.append(value(pg_arn))
    rotate(pg_arn, db)
    seen += [value(pg_arn), value(pg_arn, "AWSPREVIOUS")]
    broken = create_secret(f"broken-{user}", postgres.secret(user, "Wrong-" + uuid.uuid4().hex))
    seen.append(value(broken))
    token = begin_rotation(broken, db)
    for step in ("createSecret", "setSecret"):
        answers.append(invoke_step(db, step, broken, token))
    seen.append(value(broken, "AWSPENDING"))
    assert "error" in answers[-1]

    # IAM access keys: rotation, and a failing STS test.
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="ci-secret", Path="/opswire-rotated/")
    key = iam.create_access_key(UserName="ci-secret")["AccessKey"]
    iam_arn = create_secret(
        "iam/ci-secret",
        {"kind": "iam-access-key", "user_name": "ci-secret",
         "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]},
    )  # fmt: skip
    seen.append(value(iam_arn))
    rotate(iam_arn, generic)
    seen.append(value(iam_arn))

    # Generic: the endpoint refuses and echoes the key back in its body.
    https_server.expect_request("/ping").respond_with_handler(
        lambda request: __import__("werkzeug").Response(
            "refused: " + request.headers.get("Authorization", ""), status=403
        )
    )
    api_arn = create_secret(
        "api/echo",
        {"kind": "generic", "value": "Api-" + uuid.uuid4().hex,
         "test_url": https_server.url_for("/ping")},
    )  # fmt: skip
    seen.append(value(api_arn))
    rotate(api_arn, generic)
    seen.append(value(api_arn, "AWSPENDING"))

    secrets = _all_values(*seen)
    assert len(secrets) >= 8
    text = captured_logs.text()
    text += json.dumps(answers) + json.dumps(platform.outbox.messages)
    text += json.dumps(platform._sent_emails(), default=str)
    text += json.dumps([r.__dict__ for r in platform.runtime.invocations])
    text += "\n".join(platform.async_errors)
    assert "rotation step done" in text and "Secret rotation failed" in text  # logs were caught
    leaked = sorted(s for s in secrets if s in text)
    assert leaked == [], f"{len(leaked)} secret values found in logs or errors"
