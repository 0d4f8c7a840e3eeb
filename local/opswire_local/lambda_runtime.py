"""Run our real Lambda handlers in-process, in place of moto's Docker runner.

``LambdaFunction._invoke_lambda`` is the single place where moto would start a container. Replacing
it with a lookup from function name to our imported handler makes every path moto knows (direct
Invoke, Step Functions tasks, SNS -> Lambda) run our code. Handlers share one process, so each
invocation runs under a lock with the function's own environment applied and restored.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from opswire_local.template import ACCOUNT_ID, REGION


@dataclass
class FunctionSpec:
    """One function of the template, as the local runtime needs it."""

    logical_id: str
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout_seconds: int = 30
    memory_mb: int = 128
    dead_letter_arn: str | None = None
    max_async_retries: int = 2

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class InvocationRecord:
    function: str
    request_id: str
    error_type: str | None
    error_message: str | None


class InProcessLambdaRuntime:
    """Maps function names to handlers and runs them with their own environment."""

    def __init__(self, base_environment: dict[str, str]) -> None:
        self._base_environment = base_environment
        self._functions: dict[str, FunctionSpec] = {}
        self._modules: dict[str, ModuleType] = {}
        # Handlers mutate os.environ while they run: one invocation at a time. Re-entrant so a
        # handler that invokes another function synchronously does not deadlock.
        self._lock = threading.RLock()
        self.invocations: list[InvocationRecord] = []

    def register(self, spec: FunctionSpec) -> None:
        self._functions[spec.name] = spec

    def spec(self, function_name: str) -> FunctionSpec:
        name = function_name.rsplit(":function:", 1)[-1].split(":", 1)[0]
        try:
            return self._functions[name]
        except KeyError:
            raise KeyError(f"no local handler for Lambda function {function_name!r}") from None

    def invoke(self, function_name: str, event: Any) -> tuple[str, bool]:
        """Run the handler; return ``(payload JSON, errored)`` as the Lambda service would."""
        spec = self.spec(function_name)
        context = LambdaContext(
            function_name=spec.name,
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
        )
        with self._lock, self._environment(spec):
            try:
                handler = self._handler(spec)
                result = handler(event, context)
                payload = json.dumps(result)
            except Exception as exc:  # the Lambda service turns any exception into a payload
                self.invocations.append(
                    InvocationRecord(
                        spec.name, context.aws_request_id, type(exc).__name__, str(exc)
                    )
                )
                error = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_exception(exc)[-5:],
                }
                return json.dumps(error), True
        self.invocations.append(InvocationRecord(spec.name, context.aws_request_id, None, None))
        return payload, False

    def _handler(self, spec: FunctionSpec) -> Any:
        module_name, _, attribute = spec.handler.rpartition(".")
        module = self._modules.get(spec.name)
        if module is None:
            module = _import_from_dir(spec.code_dir, module_name, f"opswire_fn_{spec.logical_id}")
            self._modules[spec.name] = module
        return getattr(module, attribute)

    @contextlib.contextmanager
    def _environment(self, spec: FunctionSpec) -> Iterator[None]:
        saved = dict(os.environ)
        os.environ.update(self._base_environment)
        os.environ.update(spec.environment)
        os.environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "_HANDLER": spec.handler,
            }
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _import_from_dir(code_dir: Path, module_name: str, unique_name: str) -> ModuleType:
    """Import ``code_dir/module_name.py`` under a unique name (every function has an ``app``)."""
    path = code_dir / (module_name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(unique_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import handler module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(code_dir))
    try:
        sys.modules[unique_name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(code_dir))
    return module


def install_moto_patch(runtime: InProcessLambdaRuntime) -> contextlib.AbstractContextManager[Any]:
    """Route moto's Lambda execution to ``runtime`` for as long as the context is open."""
    from moto.awslambda.models import LambdaFunction

    def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload, errored = runtime.invoke(self.function_name, {} if event is None else event)
        return payload, errored, ""

    return mock.patch.object(LambdaFunction, "_invoke_lambda", invoke_in_process)
