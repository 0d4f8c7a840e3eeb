"""At most one side effect per key: Powertools Idempotency with its records in the incident table.

A notify task that Step Functions retries (a Lambda service error, a timeout after Slack already
answered, a redrive) must not post the same message twice. Each send is wrapped in
``OnceOnly.run(key, call)``: the first call stores the result under ``key`` (an ``INPROGRESS``
record, then ``COMPLETED`` with the result); a later call with the same key returns the stored
result without calling again. A failed call deletes its record, so a retry sends for real.

Records: ``pk = IDEMPOTENCY#<namespace>``, ``sk = <namespace>#<md5 of the key>``, ``ttl`` (the
table's TTL attribute) a day later.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opswire.core.errors import RetryableError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

RECORD_TTL_SECONDS = 24 * 3600


class OnceOnly:
    """Runs ``call`` once per ``key`` (a JSON-able dict); returns the first call's result."""

    def __init__(
        self,
        table_name: str,
        namespace: str,
        busy_error: type[RetryableError] = RetryableError,
        context: "LambdaContext | None" = None,
    ) -> None:
        """``busy_error``: raised when the same key is being sent right now by another
        invocation, or the record store is unavailable (the workflow retries it by name)."""
        self._table = table_name
        self._namespace = namespace
        self._busy_error = busy_error
        self._context = context

    def run(self, key: dict[str, Any], call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        # Imported here: the idempotency package imports boto3 (cold start, see opswire.core.aws).
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
        )

        from opswire.core.aws import dynamodb_client

        config = IdempotencyConfig(expires_after_seconds=RECORD_TTL_SECONDS)
        if self._context is not None:
            # Without it an invocation that times out mid-send would block the key for a day.
            config.register_lambda_context(self._context)
        persistence = DynamoDBPersistenceLayer(
            table_name=self._table,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value=f"IDEMPOTENCY#{self._namespace}",
            expiry_attr="ttl",
            boto3_client=dynamodb_client(),
        )

        def send(key: dict[str, Any]) -> dict[str, Any]:
            return call()

        once = idempotent_function(
            send,
            data_keyword_argument="key",
            persistence_store=persistence,
            config=config,
            key_prefix=self._namespace,
        )
        try:
            result: dict[str, Any] = once(key=key)
        except IdempotencyAlreadyInProgressError as exc:
            raise self._busy_error(
                f"{self._namespace}: the same message is being sent by another invocation"
            ) from exc
        except IdempotencyPersistenceLayerError as exc:
            raise self._busy_error(
                f"{self._namespace}: idempotency records unavailable ({exc.message})"
            ) from exc
        return result


class Always:
    """No idempotency store configured: every call runs (unit tests, minimal stacks)."""

    def run(self, key: dict[str, Any], call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return call()
