"""Where moto differs from AWS in ways the workflows notice, and the fake AWS environment.

- ``aws_test_environment``: fake credentials and a region for the platform's own clients.
- ``patch_sns_lambda_delivery``: moto's SNS -> Lambda record has a fixed MessageId and TopicArn;
  here the function gets the record AWS sends, as an asynchronous invocation.
- ``atomic_dynamodb_writes``: DynamoDB applies a conditional write atomically; moto does not lock.
- ``scale_step_functions_time``: Wait states and Retry intervals sleep ``scale`` x their time.
- ``iam_user_permissions_boundaries``: IAM users keep their permissions boundary (moto 5.2
  ignores it on CreateUser and has no Put/DeleteUserPermissionsBoundary).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from unittest import mock

from opswire_local.events import sns_lambda_record
from opswire_local.template import REGION

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@contextlib.contextmanager
def aws_test_environment(shared: Mapping[str, str] | None = None) -> Iterator[None]:
    """Fake credentials and a region for the platform's own clients; nothing reaches AWS.

    ``shared``: variables every function of the stack has (``Template.shared_environment``),
    set for the whole process as Lambda sets them before any module is imported: code the CLI
    imports from the layer before a handler runs (the silences' incident store imports
    ``opswire.core.observability``) must see the same Powertools configuration."""
    variables = {**(shared or {}), **_FAKE_AWS_ENV}
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def patch_sns_lambda_delivery(
    invoke_async: Callable[[str, Any], Any],
) -> contextlib.AbstractContextManager[Any]:
    """SNS -> Lambda with the record AWS sends (moto's has a fixed MessageId and TopicArn), as an
    asynchronous invocation (``invoke_async(function name, event)``: retries, then the function's
    dead-letter queue)."""
    from moto.sns.models import Subscription

    original = Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, *args: Any,
                **kwargs: Any) -> None:  # fmt: skip
        if self.protocol != "lambda":
            return original(self, message, message_id, subject, message_attributes, *args, **kwargs)
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
            message_attributes, message
        ):
            return None
        if kwargs.get("message_structure") == "json":
            structured = json.loads(message)
            message = structured.get("lambda", structured["default"])
        record = sns_lambda_record(
            self.arn, self.topic.arn, message_id, message, subject, message_attributes
        )
        invoke_async(self.endpoint, {"Records": [record]})
        return None

    return mock.patch.object(Subscription, "publish", publish)


def atomic_dynamodb_writes() -> contextlib.ExitStack:
    """DynamoDB evaluates a write's condition and applies it atomically; moto does not lock, so
    two threads can both pass the same condition. Serialize moto's item writes to match AWS."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    patches = contextlib.ExitStack()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        patches.enter_context(mock.patch.object(DynamoDBBackend, name, locked))
    return patches


def scale_step_functions_time(
    scale: float, on_wait: Callable[[], None] | None = None
) -> contextlib.ExitStack:
    """Wait states and Retry intervals really sleep in moto; locally they sleep ``scale`` x.
    ``on_wait`` is called when an execution enters a Wait state (its history says so by then):
    ``Executions.settle`` looks at once, before a short Wait is over."""
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def scaled_wait(self: Any, env: Any, wait_seconds: float) -> None:
        if on_wait is not None:
            on_wait()
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)

    patches = contextlib.ExitStack()
    scaled_time = SimpleNamespace(sleep=lambda seconds: time.sleep(seconds * scale))
    patches.enter_context(mock.patch.object(retrier_decl, "time", scaled_time))
    patches.enter_context(
        mock.patch.object(wait_function.WaitFunction, "_wait_interval", scaled_wait)
    )
    return patches


_VALID_DEFINITIONS: set[str] = set()
"""Definitions moto's ASL parser accepted in this process (tests start many platforms)."""


@contextlib.contextmanager
def validate_definitions_at_first_start() -> Iterator[None]:
    """moto parses a definition to validate it at every CreateStateMachine: 0.1-0.7 s each (the
    first parse in a process warms the ASL parser up), for three state machines at every start,
    where a delivery starts one. Here a definition is validated when an execution of it first
    starts in this process, with moto's own check and its InvalidDefinition error, before the
    execution is created. (AWS refuses it at CreateStateMachine; `make validate` (statelint) and
    tests/unit/template/test_state_machine_definitions.py check every definition of the
    repository before that.)"""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    validate = StepFunctionsParserBackend._validate_definition
    original_start = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        definition = self.describe_state_machine(state_machine_arn).definition
        if definition not in _VALID_DEFINITIONS:
            validate(definition=definition)
            _VALID_DEFINITIONS.add(definition)
        return original_start(self, state_machine_arn, *args, **kwargs)

    def accept(definition: str) -> None:
        """At CreateStateMachine: validated at the first start instead."""

    with (
        mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(accept)),
        mock.patch.object(StepFunctionsParserBackend, "start_execution", start_execution),
    ):
        yield


_USER_BOUNDARY = "opswire_permissions_boundary_arn"
"""The attribute of moto's ``User`` that holds the user's permissions boundary (an ARN)."""


@contextlib.contextmanager
def iam_user_permissions_boundaries() -> Iterator[None]:
    """IAM users keep their permissions boundary as AWS does (moto 5.2 keeps it on roles only):
    CreateUser keeps ``PermissionsBoundary``, PutUserPermissionsBoundary and
    DeleteUserPermissionsBoundary set and remove it, and CreateUser and GetUser answer it as
    ``{PermissionsBoundaryType, PermissionsBoundaryArn}``. ListUsers leaves it out, as AWS's
    does. The boundary ARN is checked as moto checks a role's (a policy ARN; the policy itself
    need not exist)."""
    from moto.core.responses import EmptyResult
    from moto.core.serialize import never_return
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    original_create = IamResponse.create_user

    def create_user(self: Any) -> Any:
        boundary = _valid_boundary(self)
        result = original_create(self)
        if boundary:
            setattr(self.backend.get_user(self._get_param("UserName")), _USER_BOUNDARY, boundary)
        return result

    def put_user_permissions_boundary(self: Any) -> Any:
        boundary = _valid_boundary(self)
        user = self.backend.get_user(self._get_param("UserName"))  # NoSuchEntity, as AWS
        setattr(user, _USER_BOUNDARY, boundary)
        return EmptyResult()

    def delete_user_permissions_boundary(self: Any) -> Any:
        user = self.backend.get_user(self._get_param("UserName"))
        setattr(user, _USER_BOUNDARY, None)
        return EmptyResult()

    def permissions_boundary(user: Any) -> dict[str, str] | None:
        arn = getattr(user, _USER_BOUNDARY, None)
        if not arn:
            return None
        return {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": arn,
        }

    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch.object(IamResponse, "create_user", create_user))
        for name, action in (
            ("put_user_permissions_boundary", put_user_permissions_boundary),
            ("delete_user_permissions_boundary", delete_user_permissions_boundary),
        ):
            patches.enter_context(mock.patch.object(IamResponse, name, action, create=True))
        patches.enter_context(
            mock.patch.object(
                User, "permissions_boundary", property(permissions_boundary), create=True
            )
        )
        patches.enter_context(
            mock.patch.dict(
                IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER,
                {"ListUsersResponse.Users.User.PermissionsBoundary": never_return},
            )
        )
        yield


def _valid_boundary(response: Any) -> str | None:
    """The request's ``PermissionsBoundary``; refused as moto refuses a role's invalid one."""
    from moto.iam.exceptions import IAMException

    boundary = response._get_param("PermissionsBoundary")
    if boundary and not response.backend.policy_arn_regex.match(boundary):
        raise IAMException(
            "InvalidParameterValue",
            f"Value ({boundary}) for parameter PermissionsBoundary is invalid.",
        )
    return str(boundary) if boundary else None
