"""Incidents and silences in one DynamoDB table (``pk``/``sk``), written with conditions.

Items:
- ``pk=INCIDENT#<key>, sk=STATE``: the incident (JSON in ``data``), ``version`` for optimistic
  concurrency, ``ttl`` 90 days after the last change;
- ``pk=SILENCE, sk=<silence id>``: a silence, ``ttl`` a day after it ends.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opswire.alarms.incidents import record_outcome
from opswire.alarms.models.incident import Incident, Silence
from opswire.channels.ports import Delivery
from opswire.core.errors import (
    IncidentConflictError,
    IncidentNotFoundError,
    PermanentError,
    RetryableError,
)

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

_INCIDENT_TTL = timedelta(days=90)
_SILENCE_PK = "SILENCE"


class IncidentStore:
    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def client(self) -> "DynamoDBClient":
        if self._client is None:
            from opswire.core.aws import dynamodb_client

            self._client = dynamodb_client()
        return self._client

    # ---- incidents ------------------------------------------------------------------------------
    def get_incident(self, key: str) -> Incident | None:
        item = self._call(
            "GetItem",
            lambda: self.client.get_item(
                TableName=self._table,
                Key={"pk": {"S": f"INCIDENT#{key}"}, "sk": {"S": "STATE"}},
                ConsistentRead=True,
            ),
        ).get("Item")
        return None if item is None else Incident.model_validate_json(item["data"]["S"])

    def save_incident(self, incident: Incident) -> Incident:
        """Write ``incident`` if nobody wrote since it was read (``incident.version``); returns
        it with the new version. A concurrent writer makes this raise IncidentConflictError."""
        saved = incident.model_copy(update={"version": incident.version + 1})
        expires = int((datetime.now(UTC) + _INCIDENT_TTL).timestamp())
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if incident.version == 0
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(incident.version)}},
            }
        )
        self._call(
            "PutItem",
            lambda: self.client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"INCIDENT#{incident.key}"},
                    "sk": {"S": "STATE"},
                    "data": {"S": saved.model_dump_json()},
                    "version": {"N": str(saved.version)},
                    "episode": {"N": str(saved.episode)},
                    "ttl": {"N": str(expires)},
                },
                **condition,
            ),
        )
        return saved

    def update_incident(
        self, key: str, change: Callable[[Incident], Incident | None]
    ) -> Incident | None:
        """Read the incident, apply ``change`` and write the result conditionally; when another
        writer came in between, read again and apply ``change`` again. Returns the written
        incident, or None when there is no incident or ``change`` wants nothing written."""
        for _attempt in range(5):
            incident = self.get_incident(key)
            if incident is None:
                return None
            changed = change(incident)
            if changed is None:
                return None
            try:
                return self.save_incident(changed)
            except IncidentConflictError:
                continue
        raise IncidentConflictError(f"incident {key} kept changing while it was being updated")

    def record_delivery(self, key: str, episode: int, delivery: Delivery) -> Incident | None:
        """Remember where the episode's first messages went (Slack thread, email Message-ID).
        Only the first delivery of an episode sets them; a newer episode is left alone."""

        def change(incident: Incident) -> Incident | None:
            if incident.episode != episode:
                return None
            updated, _new_failures = record_outcome(incident, delivery, {}, ())
            return updated

        return self.update_incident(key, change)

    def acknowledge(self, incident_id: str, by: str, at: datetime) -> Incident:
        """Acknowledge the episode ``incident_id`` (``<key>-<episode>``): no more reminders."""
        key, _, episode_text = incident_id.rpartition("-")
        if not key or not episode_text.isdigit():
            raise IncidentNotFoundError(f"{incident_id!r} is not an incident id")
        for _attempt in range(5):
            incident = self.get_incident(key)
            if incident is None or incident.episode != int(episode_text):
                raise IncidentNotFoundError(f"incident {incident_id} does not exist (any more)")
            if incident.acknowledged_at is not None:
                return incident
            try:
                return self.save_incident(
                    incident.model_copy(update={"acknowledged_by": by, "acknowledged_at": at})
                )
            except IncidentConflictError:
                continue
        raise IncidentConflictError(f"incident {incident_id} kept changing while acknowledging")

    # ---- silences -------------------------------------------------------------------------------
    def put_silence(self, silence: Silence) -> None:
        expires = int((silence.ends_at + timedelta(days=1)).timestamp())
        self._call(
            "PutItem",
            lambda: self.client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": _SILENCE_PK},
                    "sk": {"S": silence.silence_id},
                    "data": {"S": silence.model_dump_json()},
                    "ttl": {"N": str(expires)},
                },
            ),
        )

    def list_silences(self) -> list[Silence]:
        silences: list[Silence] = []
        paginator = self.client.get_paginator("query")
        try:
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": _SILENCE_PK}},
            ):
                silences.extend(
                    Silence.model_validate_json(item["data"]["S"]) for item in page["Items"]
                )
        except ClientError as exc:
            raise _translate("Query", exc) from exc
        return silences

    def delete_silence(self, silence_id: str) -> bool:
        """Remove a silence; False if there was none with that id."""
        response = self._call(
            "DeleteItem",
            lambda: self.client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": _SILENCE_PK}, "sk": {"S": silence_id}},
                ReturnValues="ALL_OLD",
            ),
        )
        return "Attributes" in response

    def _call(self, operation: str, call: Any) -> Any:
        try:
            return call()
        except ClientError as exc:
            raise _translate(operation, exc) from exc


def _translate(operation: str, exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    if code == "ConditionalCheckFailedException":
        return IncidentConflictError(f"DynamoDB {operation}: written concurrently")
    if code in {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }:
        return RetryableError(f"DynamoDB {operation} failed: {code}")
    return PermanentError(f"DynamoDB {operation} failed: {code}")
