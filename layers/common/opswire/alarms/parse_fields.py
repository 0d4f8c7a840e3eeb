"""Typed reads of the producer's JSON, so that every parse error names the exact field.

``Fields`` is one JSON object of an alarm payload plus where it sits in the payload
(``Trigger.Metrics[1].MetricStat``) and which payload shape it belongs to ("SNS alarm
message"). Each read returns a typed value or raises ``AlarmParseError`` naming the field; the
coercions are CloudWatch's own looseness (numbers as strings, ``"true"`` for true).
``AlarmArn``, ``as_state`` and ``parse_timestamp`` read the values inside those fields.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opswire.alarms.models.alarm import ALARM_STATES, REGION_CODE_PATTERN, AlarmState
from opswire.core.errors import AlarmParseError


@dataclass(frozen=True)
class Fields:
    """A JSON object of the payload, where it sits (``path``, "" for the payload itself) and the
    payload shape named in errors."""

    data: Mapping[str, Any]
    path: str
    shape: str

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def missing(self, key: str) -> AlarmParseError:
        return AlarmParseError(f"{self.shape}: missing required field '{self._where(key)}'")

    def _wrong(self, key: str, expected: str) -> AlarmParseError:
        value = self.data.get(key)
        return AlarmParseError(
            f"{self.shape}: field '{self._where(key)}' should be {expected}, "
            f"got {type(value).__name__}"
        )

    def raw(self, key: str, default: object = None) -> object:
        """The value as the producer sent it, for readers that accept several spellings."""
        value: object = self.data.get(key, default)
        return value

    def req_str(self, key: str) -> str:
        value = self.opt_str(key)
        if not value:
            raise self.missing(key)
        return value

    def opt_str(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self._wrong(key, "a string")

    def opt_int(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise self._wrong(key, "an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise self._wrong(key, "an integer")

    def opt_float(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise self._wrong(key, "a number")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise self._wrong(key, "a number")

    def opt_bool(self, key: str, *, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise self._wrong(key, "a boolean")

    def obj(self, key: str) -> "Fields":
        value = self.opt_obj(key)
        if value is None:
            raise self.missing(key)
        return value

    def opt_obj(self, key: str) -> "Fields | None":
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self._wrong(key, "an object")
        return Fields(value, self._where(key), self.shape)

    def opt_list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return value

    def objs(self, key: str, items: list[Any]) -> list["Fields"]:
        """``items`` (the list at ``key``) as objects; a non-object entry is an error."""
        result = []
        for index, item in enumerate(items):
            where = f"{self._where(key)}[{index}]"
            if not isinstance(item, Mapping):
                raise AlarmParseError(f"{self.shape}: '{where}' should be an object")
            result.append(Fields(item, where, self.shape))
        return result

    def state(self, key: str) -> AlarmState:
        value = self.data.get(key)
        if value is None:
            raise self.missing(key)
        state = as_state(value)
        if state is None:
            raise AlarmParseError(
                f"{self.shape}: field '{self._where(key)}' is {value!r}, "
                f"expected one of {', '.join(ALARM_STATES)}"
            )
        return state

    def opt_state(self, key: str) -> AlarmState | None:
        return None if self.data.get(key) is None else self.state(key)

    def time(self, key: str) -> datetime:
        value = self.opt_time(key)
        if value is None:
            raise self.missing(key)
        return value

    def opt_time(self, key: str) -> datetime | None:
        value = self.opt_str(key)
        if not value:
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            raise AlarmParseError(
                f"{self.shape}: field '{self._where(key)}' is not a timestamp: {value[:64]!r}"
            ) from None


def as_state(value: object) -> AlarmState | None:
    for state in ALARM_STATES:
        if value == state:
            return state
    return None


def parse_timestamp(value: str) -> datetime:
    """CloudWatch writes ``2021-01-01T00:00:00.000+0000``; EventBridge ``...T17:04:40Z``."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def scalar_text(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class AlarmArn:
    partition: str
    region: str
    account_id: str
    name: str

    @classmethod
    def parse(cls, arn: str | None) -> "AlarmArn | None":
        """``arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>``; None otherwise.
        Alarm names may contain ``:``, hence the bounded split."""
        if not arn:
            return None
        parts = arn.split(":", 6)
        if len(parts) != 7 or parts[0] != "arn" or parts[2] != "cloudwatch":
            return None
        _, partition, _, region, account, resource, name = parts
        if resource != "alarm" or not name or not re.fullmatch(REGION_CODE_PATTERN, region):
            return None
        return cls(partition=partition, region=region, account_id=account, name=name)
