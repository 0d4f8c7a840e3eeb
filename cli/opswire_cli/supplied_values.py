"""Secret values the team supplies (``value_from: {file|env|stdin}`` in a spec), read here at
apply time and handed to the workflow by reference.

Each value is checked for its rotation kind, then stored with the operator's credentials in a
staging secret ``opswire-supplied/<stack>/<execution>/<secret name>``; the spec the workflow
gets says ``value_from: {staged: <that name>}``. The apply task copies the value into the
spec's secret and deletes the staging secret, so the value is never in the plan, the Step
Functions input or history, a log line or a file of ours. Secrets that exist already keep
their value (nothing is staged for them); what a failed or rejected run left staged is deleted
here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO


def staging_names(prefix: str, execution: str) -> str:
    return f"{prefix}{execution}/"


def read_supplied(source: dict[str, Any], base: Path, stdin: TextIO, where: str) -> str:
    """The value ``source`` (a spec's ``value_from``) points at; a relative file is relative
    to the spec's directory."""
    from opswire.core.errors import SpecValidationError

    if source.get("file"):
        path = Path(source["file"])
        path = path if path.is_absolute() else base / path
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecValidationError(
                [f"{where}.file: cannot read {path}: {exc.strerror}"]
            ) from None
    if source.get("env"):
        value = os.environ.get(str(source["env"]))
        if value is None:
            raise SpecValidationError([f"{where}.env: ${source['env']} is not set"])
        return value
    return stdin.read()


def check_supplied_values(
    document: dict[str, Any], base: Path, rotated_prefix: str, client: Any
) -> None:
    """Read and check every ``file`` and ``env`` value the spec points at (``stdin`` is read by
    apply only), keeping none: ``plan`` refuses a missing file, an unset variable or a value
    without the fields of its kind. A secret that exists already (``client``: Secrets Manager)
    is skipped: its value is set once, at creation, so the team need not keep the file.
    ``rotated_prefix``: the stack's RotatedSecretPrefix (the master secret of a rotated
    alternating user's must be under it)."""
    for secret in document.get("secrets") or []:
        source = secret.get("value_from") or {}
        if (source.get("file") or source.get("env")) and not _exists(client, secret["name"]):
            where = f"secrets[{secret['name']}].value_from"
            text = read_supplied(source, base, sys.stdin, where)
            _checked(text, secret, where, rotated_prefix)


def _checked(text: str, secret: dict[str, Any], where: str, rotated_prefix: str) -> str:
    """The secret JSON of a supplied value (``SpecValidationError`` when it is wrong)."""
    from opswire.provisioning.wiring import supplied_secret_json

    kind = secret.get("rotation_kind", "generic")
    rotated = rotated_prefix if secret.get("rotation_days") else ""
    return supplied_secret_json(text, kind, where, rotated)


def stage_supplied_values(
    document: dict[str, Any],
    client: Any,
    prefix: str,
    execution: str,
    base: Path,
    stdin: TextIO | None = None,
    rotated_prefix: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """``document`` (the spec as JSON) with every ``value_from`` of a secret that does not
    exist yet replaced by the staging secret holding its value; the names staged. Each value
    is checked as ``check_supplied_values`` checks it."""
    from opswire.core.errors import SpecValidationError

    secrets = [dict(s) for s in document.get("secrets") or []]
    readers = [s for s in secrets if (s.get("value_from") or {}).get("stdin")]
    if len(readers) > 1:
        raise SpecValidationError(["secrets: value_from stdin is for one secret only"])
    staged: list[str] = []
    try:
        for secret in secrets:
            source = secret.get("value_from") or {}
            if not any(source.get(k) for k in ("file", "env", "stdin")) or _exists(
                client, secret["name"]
            ):
                continue
            where = f"secrets[{secret['name']}].value_from"
            text = read_supplied(source, base, stdin or sys.stdin, where)
            value = _checked(text, secret, where, rotated_prefix)
            name = staging_names(prefix, execution) + secret["name"]
            client.create_secret(
                Name=name,
                SecretString=value,
                Description=f"opswire: value_from of {secret['name']}, deleted by apply",
            )
            staged.append(name)
            secret["value_from"] = {"staged": name}
    except BaseException:
        discard_staged(client, prefix, execution)
        raise
    return {**document, "secrets": secrets}, staged


def discard_staged(client: Any, prefix: str, execution: str) -> list[str]:
    """Delete what is still staged for ``execution`` (apply deletes what it used)."""
    from botocore.exceptions import ClientError

    names = [
        str(s["Name"])
        for page in client.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [staging_names(prefix, execution)]}]
        )
        for s in page["SecretList"]
        if str(s["Name"]).startswith(staging_names(prefix, execution))
    ]
    for name in names:
        try:
            client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
    return names


def _exists(client: Any, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        described = client.describe_secret(SecretId=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return not described.get("DeletedDate")
