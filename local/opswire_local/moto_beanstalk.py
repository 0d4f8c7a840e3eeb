"""Elastic Beanstalk operations moto 5.2 lacks, for the local platform and the tests.

moto knows applications and environments (CreateApplication, CreateEnvironment,
DescribeEnvironments) but not application versions or updates. ``beanstalk_semantics()`` adds:

- CreateApplicationVersion: the source bundle is read from (moto) S3. With ``Process=True`` the
  version answers PROCESSING to ``Behaviour.processing_polls`` DescribeApplicationVersions calls,
  then PROCESSED when the bundle holds a Dockerrun.aws.json naming an image (FAILED otherwise, or
  when the image tag starts with ``UNPROCESSABLE_TAG_PREFIX``).
- DescribeApplicationVersions (by label), and DescribeEnvironments filtered by ApplicationName /
  EnvironmentNames as AWS does (moto returns every environment).
- UpdateEnvironment(VersionLabel): refused unless the environment is Ready (OperationInProgress)
  and the version PROCESSED (InvalidParameterValue), as EB does. The environment is then
  "Updating" (health Grey) for ``Behaviour.update_polls`` DescribeEnvironments answers and
  settles by the image tag of the version: Ready/Green on the new label; a tag starting with
  ``FAILING_TAG_PREFIX`` goes Red on the new label; a tag starting with ``REVERT_TAG_PREFIX``
  ends Ready/Green on the previous label (EB rolled back by itself). ``set_outcome`` decides
  the next settlement of one environment from a test.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from unittest import mock

from moto.core.exceptions import ServiceException

FAILING_TAG_PREFIX = "fail"
REVERT_TAG_PREFIX = "revert"
UNPROCESSABLE_TAG_PREFIX = "unprocessable"

Outcome = Literal["green", "red", "revert"]


@dataclass
class Behaviour:
    processing_polls: int = 1
    """DescribeApplicationVersions answers that still say PROCESSING after the create."""
    update_polls: int = 1
    """DescribeEnvironments answers that still say Updating after an UpdateEnvironment."""
    keep_health_while_updating: bool = False
    """Health stays what it was during an update (as EB's does until instances report),
    instead of Grey."""


class _OperationInProgress(ServiceException):
    code = "OperationInProgressFailure"


class _InvalidParameterValue(ServiceException):
    code = "InvalidParameterValue"


_LOCK = threading.Lock()
# (application, environment) -> the outcome of its next settlement (a label: that label, Green).
_FORCED: dict[tuple[str, str], str] = {}


def set_outcome(application: str, environment: str, outcome: Outcome | str) -> None:
    """The next update of the environment settles as ``outcome``: "green", "red", "revert"
    (Ready/Green on the previous label) or any other string: Ready/Green on that label."""
    with _LOCK:
        _FORCED[(application, environment)] = outcome


def settle(
    application: str,
    environment: str,
    *,
    version_label: str,
    status: str = "Ready",
    health: str = "Green",
    account_id: str = "123456789012",
    region: str = "us-east-1",
) -> None:
    """Put an environment in a state at once (the local platform: a fresh environment runs its
    initial version, Ready and Green)."""
    from moto.elasticbeanstalk.models import eb_backends

    env: Any = eb_backends[account_id][region].applications[application].environments[environment]
    with _LOCK:
        _set(env, status=status, health=health, label=version_label)
        env.opswire_pending = None


def _set(env: Any, *, status: str, health: str, label: str) -> None:
    from moto.core.utils import utcnow

    env.status = status
    env.health = health
    env.health_status = {"Green": "Ok", "Yellow": "Warning", "Red": "Severe"}.get(health, "No Data")
    env.version_label = label
    env.date_updated = utcnow()


def _image_of(bundle: bytes) -> str:
    """The image a source bundle names ("" when it is not a Dockerrun v1 bundle)."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            document = json.loads(archive.read("Dockerrun.aws.json"))
    except (zipfile.BadZipFile, KeyError, ValueError):
        try:
            document = json.loads(bundle)  # a bare Dockerrun.aws.json is a valid bundle too
        except ValueError:
            return ""
    if not isinstance(document, dict) or str(document.get("AWSEBDockerrunVersion")) != "1":
        return ""
    image = (document.get("Image") or {}).get("Name")
    return str(image) if image else ""


def _tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.rpartition(":")[2] if ":" in last else "latest"


@contextlib.contextmanager
def beanstalk_semantics(behaviour: Behaviour | None = None) -> Iterator[Behaviour]:
    """Patch moto's Elastic Beanstalk responses (while the context is open)."""
    from moto.elasticbeanstalk.responses import EBResponse

    rules = behaviour or Behaviour()
    patches = contextlib.ExitStack()
    for name, function in (
        ("create_application_version", _create_application_version),
        ("describe_application_versions", _describe_application_versions),
        ("update_environment", _update_environment),
        ("describe_environments", _describe_environments),
    ):
        method = functools.partialmethod(function, rules)
        patches.enter_context(mock.patch.object(EBResponse, name, method, create=True))
    with _LOCK:
        _FORCED.clear()  # outcomes set for an earlier stack do not leak into this one
    try:
        with patches:
            yield rules
    finally:
        with _LOCK:
            _FORCED.clear()


# ---- the patched EBResponse actions (``response``: moto's EBResponse of the request) ----------
def _backend(response: Any) -> Any:
    from moto.elasticbeanstalk.models import eb_backends

    return eb_backends[response.current_account][response.region]


def _versions(response: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """The application versions of the backend: (application, label) -> version."""
    eb = _backend(response)
    store: dict[tuple[str, str], dict[str, Any]] | None = getattr(eb, "opswire_versions", None)
    if store is None:
        store = {}
        eb.opswire_versions = store
    return store


def _application(response: Any, name: str) -> Any:
    app = _backend(response).applications.get(name)
    if app is None:
        raise _InvalidParameterValue(f"No Application named '{name}' found.")
    return app


def _bundle_image(response: Any, source: dict[str, Any]) -> tuple[bool, str]:
    """Whether the source bundle exists in (moto) S3, and the image it names."""
    from moto.s3.models import s3_backends

    if not source:
        return False, ""
    try:
        key = s3_backends[response.current_account][response.partition].get_object(
            source["S3Bucket"], source["S3Key"]
        )
    except Exception as exc:  # moto raises its own MissingKey / MissingBucket
        raise _InvalidParameterValue(
            f"Unable to download from S3 location (Bucket: {source.get('S3Bucket')} "
            f"Key: {source.get('S3Key')})."
        ) from exc
    if key is None:
        return False, ""
    return True, _image_of(bytes(key.value))


def _create_application_version(response: Any, rules: Behaviour) -> Any:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow

    app_name = response._get_param("ApplicationName")
    app = _application(response, app_name)
    label = response._get_param("VersionLabel")
    store = _versions(response)
    with _LOCK:
        if (app_name, label) in store:
            raise _InvalidParameterValue(f"Application Version {label} already exists.")
        source = response._get_param("SourceBundle") or {}
        bundle_found, image = _bundle_image(response, source)
        process = str(response._get_param("Process", False)).lower() == "true"
        processable = (
            bundle_found and image and not _tag(image).startswith(UNPROCESSABLE_TAG_PREFIX)
        )
        arn = app.arn.replace(":application/", ":applicationversion/")
        version = {
            "ApplicationVersionArn": f"{arn}/{label}",
            "ApplicationName": app_name,
            "VersionLabel": label,
            "Description": response._get_param("Description") or "",
            "SourceBundle": source or None,
            "DateCreated": utcnow(),
            "DateUpdated": utcnow(),
            "Status": "PROCESSING" if process else "UNPROCESSED",
            "opswire": {
                "image": image,
                "polls_left": rules.processing_polls,
                "result": "PROCESSED" if processable else "FAILED",
            },
        }
        if not process and not source:
            version["Status"] = "PROCESSED"  # the sample application
        store[(app_name, label)] = version
    return ActionResult({"ApplicationVersion": _public(version)})


def _describe_application_versions(response: Any, rules: Behaviour) -> Any:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow

    app_name = response._get_param("ApplicationName")
    labels = response._get_param("VersionLabels") or []
    answer = []
    with _LOCK:
        for (name, label), version in _versions(response).items():
            if (app_name and name != app_name) or (labels and label not in labels):
                continue
            hidden = version["opswire"]
            if version["Status"] == "PROCESSING":
                if hidden["polls_left"] > 0:
                    hidden["polls_left"] -= 1
                else:
                    version["Status"] = hidden["result"]
                    version["DateUpdated"] = utcnow()
            answer.append(_public(version))
    return ActionResult({"ApplicationVersions": answer})


def _update_environment(response: Any, rules: Behaviour) -> Any:
    from moto.core.responses import ActionResult

    app_name = response._get_param("ApplicationName")
    env_name = response._get_param("EnvironmentName")
    label = response._get_param("VersionLabel")
    env = _application(response, app_name).environments.get(env_name)
    if env is None:
        raise _InvalidParameterValue(f"No Environment found for EnvironmentName = '{env_name}'.")
    with _LOCK:
        if env.status != "Ready":
            raise _OperationInProgress(
                f"Environment named {env_name} is in an invalid state for this operation. "
                f"Must be Ready."
            )
        if label:
            version = _versions(response).get((app_name, label))
            _start_update(env, app_name, env_name, label, version, rules)
    return ActionResult(env)


def _start_update(
    env: Any,
    app_name: str,
    env_name: str,
    label: str,
    version: dict[str, Any] | None,
    rules: Behaviour,
) -> None:
    """The environment starts Updating to ``version`` (refused unless it can be deployed)."""
    from moto.core.utils import utcnow

    if version is None:
        raise _InvalidParameterValue(f"No Application Version named '{label}' found.")
    if version["Status"] not in ("PROCESSED", "UNPROCESSED"):
        raise _InvalidParameterValue(
            f"Application version {label} is {version['Status']}: it cannot be deployed."
        )
    env.opswire_pending = {
        "polls_left": rules.update_polls,
        "label": label,
        "previous": str(env.version_label),
        "image": version["opswire"]["image"],
        "forced": _FORCED.pop((app_name, env_name), None),
    }
    env.status = "Updating"
    if not rules.keep_health_while_updating:
        env.health, env.health_status = "Grey", "Pending"
    env.abortable_operation_in_progress = True
    env.date_updated = utcnow()


def _describe_environments(response: Any, rules: Behaviour) -> Any:
    from moto.core.responses import ActionResult

    app_name = response._get_param("ApplicationName")
    names = response._get_param("EnvironmentNames") or []
    answer = []
    with _LOCK:
        for env in _backend(response).describe_environments():
            if (app_name and env.application_name != app_name) or (
                names and env.environment_name not in names
            ):
                continue
            _advance(env)
            answer.append(env)
    return ActionResult({"Environments": answer})


def _advance(env: Any) -> None:
    """One DescribeEnvironments answer of an updating environment; settle when it is time."""
    pending = getattr(env, "opswire_pending", None)
    if not pending:
        return
    if pending["polls_left"] > 0:
        pending["polls_left"] -= 1
        return
    env.opswire_pending = None
    env.abortable_operation_in_progress = False
    forced = pending["forced"]
    tag = _tag(pending["image"])
    if forced == "red" or (forced is None and tag.startswith(FAILING_TAG_PREFIX)):
        _set(env, status="Ready", health="Red", label=pending["label"])
    elif forced == "revert" or (forced is None and tag.startswith(REVERT_TAG_PREFIX)):
        _set(env, status="Ready", health="Green", label=pending["previous"])
    elif forced not in (None, "green"):
        _set(env, status="Ready", health="Green", label=forced)
    else:
        _set(env, status="Ready", health="Green", label=pending["label"])


def _public(version: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in version.items() if k != "opswire" and v is not None}
