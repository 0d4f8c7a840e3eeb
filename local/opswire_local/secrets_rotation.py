"""Secrets Manager rotation on the local platform, as AWS runs it.

moto's ``rotate_secret`` invokes the rotation Lambda for the four steps (our handler, in-process),
but unlike AWS it goes on after a failed step, then points the secret's default version at the
new one, emits no ``RotationFailed`` event, and a RotateSecret without a function ARN forgets
the configured function (and promotes an empty version). ``rotation_semantics`` corrects
that: the steps stop at the first failure, AWSCURRENT stays where it was, the configured
function is used, the CloudTrail ``RotationFailed`` event goes through the template's
EventBridge rules, and a rotation is refused while an earlier one is
unfinished (AWSPENDING on a version that is not AWSCURRENT), as AWS does. ListSecretVersionIds
reports each version's creation time (moto reports the time of the call, so a version created
this second could look newer than "now").

The stack's own secrets (``AWS::SecretsManager::Secret`` and ``RotationSchedule``, with their
``Condition``) are created by ``create_secret`` / ``create_rotation_schedule``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import string
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from opswire_local.clients import aws_client
from opswire_local.template import ACCOUNT_ID, REGION, PhysicalResource


def rotation_failed_event(secret_arn: str, function_arn: str, step: str) -> dict[str, Any]:
    """The EventBridge event of Secrets Manager's CloudTrail ``RotationFailed`` entry."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "source": "aws.secretsmanager",
        "detail-type": "AWS Service Event via CloudTrail",
        "time": now,
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"accountId": ACCOUNT_ID, "invokedBy": "secretsmanager.amazonaws.com"},
            "eventTime": now,
            "eventSource": "secretsmanager.amazonaws.com",
            "eventName": "RotationFailed",
            "awsRegion": REGION,
            "sourceIPAddress": "secretsmanager.amazonaws.com",
            "userAgent": "secretsmanager.amazonaws.com",
            "errorMessage": f"Error when executing lambda {function_arn} during {step} step",
            "requestParameters": None,
            "responseElements": None,
            "additionalEventData": {"SecretId": secret_arn},
            "requestID": f"Rotation-{secret_arn}-{uuid.uuid4()}",
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsServiceEvent",
            "managementEvent": True,
            "recipientAccountId": ACCOUNT_ID,
            "eventCategory": "Management",
        },
    }


@contextlib.contextmanager
def rotation_semantics(emit_event: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    from moto.awslambda.models import LambdaBackend
    from moto.secretsmanager.exceptions import InvalidRequestException
    from moto.secretsmanager.models import SecretsManagerBackend

    original_rotate = SecretsManagerBackend.rotate_secret
    original_invoke = LambdaBackend.invoke

    def rotate_secret(self: Any, secret_id: str, *args: Any, **kwargs: Any) -> str:
        secret = self.describe_secret(secret_id) if self._is_valid_identifier(secret_id) else None
        if secret is not None and any(
            "AWSPENDING" in v["version_stages"] and "AWSCURRENT" not in v["version_stages"]
            for v in secret.versions.values()
        ):
            raise InvalidRequestException(
                "A previous rotation isn't complete. That rotation will be reattempted."
            )
        if secret is not None and not kwargs.get("rotation_lambda_arn") and not args:
            # AWS rotates with the stored configuration; moto would forget the function.
            kwargs["rotation_lambda_arn"] = secret.rotation_lambda_arn or None
        failed: list[tuple[str, str]] = []

        def invoke(
            backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
            response_headers: Any,
        ) -> Any:  # fmt: skip
            step = json.loads(body).get("Step", "?") if isinstance(body, str) else "?"
            if failed:
                return b'{"skipped": "an earlier step failed"}'
            own_headers: dict[str, Any] = {}
            payload = original_invoke(backend, function_name, qualifier, body, headers, own_headers)
            if own_headers.get("x-amz-function-error"):
                failed.append((step, function_name))
            return payload

        with mock.patch.object(LambdaBackend, "invoke", invoke):
            result = original_rotate(self, secret_id, *args, **kwargs)
        if failed and secret is not None:
            current = next(
                (v for v, d in secret.versions.items() if "AWSCURRENT" in d["version_stages"]),
                None,
            )
            secret.set_default_version_id(current)  # moto moved it to the failed version
            step, function = failed[0]
            emit_event(rotation_failed_event(secret.arn, function, step))
        return result

    original_list_versions = SecretsManagerBackend.list_secret_version_ids

    def list_secret_version_ids(self: Any, secret_id: str) -> str:
        listed = json.loads(original_list_versions(self, secret_id))
        versions = self.secrets[secret_id].versions
        for version in listed["Versions"]:
            created = versions[version["VersionId"]].get("createdate")
            if created is not None:
                version["CreatedDate"] = created
        return json.dumps(listed)

    with (
        mock.patch.object(SecretsManagerBackend, "rotate_secret", rotate_secret),
        mock.patch.object(
            SecretsManagerBackend, "list_secret_version_ids", list_secret_version_ids
        ),
    ):
        yield


# ---- the stack's secrets ----------------------------------------------------------------------
def create_secret(properties: dict[str, Any], default_name: str) -> PhysicalResource:
    """``properties``: the resource's, resolved; ``default_name`` when they name none."""
    name = properties.get("Name") or default_name
    value = properties.get("SecretString")
    generate = properties.get("GenerateSecretString")
    if value is None and generate is not None:
        value = _generated_value(generate)
    kwargs: dict[str, Any] = {"Name": name, "SecretString": value or ""}
    if properties.get("Description"):
        kwargs["Description"] = properties["Description"]
    if properties.get("Tags"):
        kwargs["Tags"] = properties["Tags"]
    arn = aws_client("secretsmanager").create_secret(**kwargs)["ARN"]
    return PhysicalResource(ref=arn, attributes={"Id": arn})


def create_rotation_schedule(properties: dict[str, Any]) -> PhysicalResource:
    """Configure rotation (``properties``: the resource's, resolved); like CloudFormation
    (RotateImmediatelyOnUpdate defaults to true), the first rotation runs at once."""
    rules = {
        key: int(value) if key == "AutomaticallyAfterDays" else value
        for key, value in (properties.get("RotationRules") or {}).items()
    }
    aws_client("secretsmanager").rotate_secret(
        SecretId=properties["SecretId"],
        RotationLambdaARN=properties["RotationLambdaARN"],
        RotationRules=rules,  # type: ignore[arg-type]
        RotateImmediately=bool(properties.get("RotateImmediatelyOnUpdate", True)),
    )
    return PhysicalResource(ref=f"{properties['SecretId']}|rotation")


def _generated_value(generate: dict[str, Any]) -> str:
    length = int(generate.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits
    if not generate.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?[]^_{|}~"
    excluded = set(str(generate.get("ExcludeCharacters", "")))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    value = "".join(secrets.choice(alphabet) for _ in range(length))
    template = generate.get("SecretStringTemplate")
    if template is None:
        return value
    document = json.loads(template)
    document[generate["GenerateStringKey"]] = value
    return json.dumps(document)
