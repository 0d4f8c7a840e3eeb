"""Every CloudWatch alarm shape -> one ``Alarm``.

Three doors, two spellings:

- ``sns``: the alarm JSON CloudWatch publishes to a topic (PascalCase: ``AlarmName``,
  ``NewStateValue``, ``Trigger`` for metric alarms, ``AlarmRule`` for composite alarms). Its
  ``Region`` is a display name ("EU (Ireland)"), so the region is read from ``AlarmArn`` first.
- ``eventbridge``: the whole "CloudWatch Alarm State Change" event (camelCase under ``detail``).
- ``lambda-action``: what an alarm's Lambda action receives (the same camelCase under
  ``alarmData``, with ``alarmArn``/``accountId``/``region`` at the top).

EventBridge and alarm-action payloads carry no comparison operator or evaluation settings; their
threshold only appears in ``reasonData``. Those fields stay None rather than being guessed.

Pure code: no AWS calls, so a parse failure is always permanent (``AlarmParseError``).
"""

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from opswire.errors import AlarmParseError
from opswire.models.alarm import (
    ALARM_STATES,
    REGION_CODE_PATTERN,
    Alarm,
    AlarmKind,
    AlarmMetric,
    AlarmState,
    MetricQuery,
    TriggeringAlarm,
)
from opswire.models.envelope import AlarmEnvelope, AlarmSource

EVENTBRIDGE_DETAIL_TYPE = "CloudWatch Alarm State Change"

_SHAPES: dict[AlarmSource, str] = {
    "sns": "SNS alarm message",
    "eventbridge": "EventBridge alarm event",
    "lambda-action": "Lambda alarm-action payload",
}

# Display names CloudWatch puts in the SNS ``Region`` field, by region code. Both the old
# "EU (...)" and the newer "Europe (...)" spellings are matched (see ``_region_key``).
_REGION_NAMES: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-east-2": "Asia Pacific (Taipei)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)",
    "ap-southeast-5": "Asia Pacific (Malaysia)",
    "ap-southeast-7": "Asia Pacific (Thailand)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-south-1": "EU (Milan)",
    "eu-south-2": "EU (Spain)",
    "eu-north-1": "EU (Stockholm)",
    "il-central-1": "Israel (Tel Aviv)",
    "me-south-1": "Middle East (Bahrain)",
    "me-central-1": "Middle East (UAE)",
    "mx-central-1": "Mexico (Central)",
    "sa-east-1": "South America (Sao Paulo)",
    "us-gov-east-1": "AWS GovCloud (US-East)",
    "us-gov-west-1": "AWS GovCloud (US-West)",
    "cn-north-1": "China (Beijing)",
    "cn-northwest-1": "China (Ningxia)",
}

# SNS spells the statistic in upper snake case; everything else uses the API spelling.
_SNS_STATISTICS = {
    "AVERAGE": "Average",
    "SUM": "Sum",
    "SAMPLE_COUNT": "SampleCount",
    "MINIMUM": "Minimum",
    "MAXIMUM": "Maximum",
}

_BAND_EXPRESSION = re.compile(r"^\s*ANOMALY_DETECTION_BAND\s*\(\s*([^,)\s]+)", re.IGNORECASE)
_TREAT_MISSING_PREFIX = re.compile(r"^-?\s*TreatMissingData:\s*", re.IGNORECASE)


def _region_key(name: str) -> str:
    """Comparison key: "EU (Ireland)", "Europe (Ireland)", "eu - ireland" -> "euireland"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]", "", ascii_name.lower())
    return key.replace("europe", "eu", 1) if key.startswith("europe") else key


_REGION_CODES_BY_KEY = {_region_key(name): code for code, name in _REGION_NAMES.items()}
_REGION_CODES_BY_KEY[_region_key("AWS GovCloud (US)")] = "us-gov-west-1"


def region_code(name: str) -> str | None:
    """The region code for a CloudWatch region display name (or a code), None if unknown."""
    candidate = name.strip()
    if re.fullmatch(REGION_CODE_PATTERN, candidate):
        return candidate
    return _REGION_CODES_BY_KEY.get(_region_key(candidate))


def parse_alarm(envelope: AlarmEnvelope) -> Alarm:
    """Normalize the alarm in ``envelope``; raise ``AlarmParseError`` if it is not one."""
    shape = _SHAPES[envelope.source]
    _reject_other_shapes(envelope.source, envelope.payload, shape)
    parser = _PARSERS[envelope.source]
    try:
        return parser(_Obj(envelope.payload, "", shape))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or '<alarm>'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise AlarmParseError(f"{shape}: invalid alarm ({problems})") from exc


# --- the three doors -------------------------------------------------------------------------


def _parse_sns(msg: "_Obj") -> Alarm:
    arn = msg.opt_str("AlarmArn")
    parsed_arn = _AlarmArn.parse(arn)
    name = msg.opt_str("AlarmName") or (parsed_arn.name if parsed_arn else None)
    if not name:
        raise msg.missing("AlarmName")
    reason_data = _json_object(msg.get("NewStateReasonData"))
    common: dict[str, Any] = {
        "source": "sns",
        "name": name,
        "arn": arn,
        "partition": parsed_arn.partition if parsed_arn else "aws",
        "account_id": _account(msg, msg.opt_str("AWSAccountId"), parsed_arn, "AWSAccountId"),
        "region": _region(msg, parsed_arn, msg.opt_str("Region"), "Region"),
        "description": msg.opt_str("AlarmDescription") or None,
        "state": msg.state("NewStateValue"),
        "previous_state": msg.opt_state("OldStateValue"),
        "reason": msg.opt_str("NewStateReason") or "",
        "reason_data": reason_data,
        "state_changed_at": msg.time("StateChangeTime"),
        "configuration_updated_at": msg.opt_time("AlarmConfigurationUpdatedTimestamp"),
        "tags": _tags(msg.get("AlarmTags")),
    }

    alarm_rule = msg.opt_str("AlarmRule")
    if alarm_rule is not None:
        triggering = _triggering_from_reason_data(reason_data) or _triggering_from_sns(
            msg.opt_list("TriggeringChildren")
        )
        return Alarm(
            **common, kind="composite", alarm_rule=alarm_rule, triggering_alarms=triggering
        )

    trigger = msg.opt_obj("Trigger")
    if trigger is None:
        raise AlarmParseError(
            f"{msg.shape}: neither 'Trigger' (metric alarm) nor 'AlarmRule' (composite alarm) "
            "is present"
        )
    evaluation = {
        "comparison_operator": trigger.opt_str("ComparisonOperator"),
        "evaluation_periods": trigger.opt_int("EvaluationPeriods"),
        "datapoints_to_alarm": trigger.opt_int("DatapointsToAlarm"),
        "treat_missing_data": _treat_missing_data(trigger.opt_str("TreatMissingData")),
    }
    raw_queries = trigger.opt_list("Metrics")
    if raw_queries:
        queries = tuple(_sns_query(query) for query in trigger.objs("Metrics", raw_queries))
        definition = _definition_from_queries(queries, trigger.opt_str("ThresholdMetricId"))
        threshold = (
            None if definition.kind == "anomaly_detection" else trigger.opt_float("Threshold")
        )
        return Alarm(
            **common,
            **evaluation,
            kind=definition.kind,
            metric=definition.metric,
            metrics=queries,
            expression=definition.expression,
            threshold=threshold,
            threshold_metric_id=definition.threshold_metric_id,
        )
    if trigger.opt_str("MetricName") is None:
        raise AlarmParseError(
            f"{msg.shape}: 'Trigger' has neither 'MetricName' (single metric) nor 'Metrics' "
            "(metric math / anomaly detection)"
        )
    return Alarm(
        **common,
        **evaluation,
        kind="metric",
        metric=_sns_single_metric(trigger),
        threshold=trigger.opt_float("Threshold"),
    )


def _parse_eventbridge(event: "_Obj") -> Alarm:
    detail_type = event.opt_str("detail-type")
    if detail_type != EVENTBRIDGE_DETAIL_TYPE:
        raise AlarmParseError(
            f"{event.shape}: 'detail-type' is {detail_type!r}, expected {EVENTBRIDGE_DETAIL_TYPE!r}"
        )
    detail = event.obj("detail")
    resources = [r for r in event.opt_list("resources") if isinstance(r, str)]
    arn = next((r for r in resources if ":alarm:" in r), resources[0] if resources else None)
    return _parse_alarm_data(
        "eventbridge",
        detail,
        arn=arn,
        account=event.opt_str("account"),
        account_field="account",
        region=event.opt_str("region"),
        event_time=event.opt_time("time"),
        tags=detail.get("alarmTags"),
    )


def _parse_lambda_action(payload: "_Obj") -> Alarm:
    data = payload.obj("alarmData")
    return _parse_alarm_data(
        "lambda-action",
        data,
        arn=payload.opt_str("alarmArn"),
        account=payload.opt_str("accountId"),
        account_field="accountId",
        region=payload.opt_str("region"),
        event_time=payload.opt_time("time"),
        tags=data.get("alarmTags", payload.get("alarmTags")),
    )


_PARSERS: dict[AlarmSource, Callable[["_Obj"], Alarm]] = {
    "sns": _parse_sns,
    "eventbridge": _parse_eventbridge,
    "lambda-action": _parse_lambda_action,
}


def _parse_alarm_data(
    source: AlarmSource,
    data: "_Obj",
    *,
    arn: str | None,
    account: str | None,
    account_field: str,
    region: str | None,
    event_time: datetime | None,
    tags: Any,
) -> Alarm:
    """The camelCase alarm body shared by EventBridge (``detail``) and alarm actions
    (``alarmData``)."""
    parsed_arn = _AlarmArn.parse(arn)
    name = data.opt_str("alarmName") or (parsed_arn.name if parsed_arn else None)
    if not name:
        raise data.missing("alarmName")
    state = data.obj("state")
    previous = data.opt_obj("previousState")
    config = data.obj("configuration")
    reason_data = _json_object(state.get("reasonData"))
    changed_at = state.opt_time("timestamp") or event_time
    if changed_at is None:
        raise state.missing("timestamp")
    common: dict[str, Any] = {
        "source": source,
        "name": name,
        "arn": arn,
        "partition": parsed_arn.partition if parsed_arn else "aws",
        "account_id": _account(data, account, parsed_arn, account_field),
        "region": _region(data, parsed_arn, region, "region"),
        "description": config.opt_str("description") or None,
        "state": state.state("value"),
        "previous_state": previous.opt_state("value") if previous else None,
        "reason": state.opt_str("reason") or "",
        "reason_data": reason_data,
        "state_changed_at": changed_at,
        "actions_suppressed_by": state.opt_str("actionsSuppressedBy"),
        "actions_suppressed_reason": state.opt_str("actionsSuppressedReason"),
        "tags": _tags(tags),
    }

    alarm_rule = config.opt_str("alarmRule")
    if alarm_rule is not None:
        return Alarm(
            **common,
            kind="composite",
            alarm_rule=alarm_rule,
            triggering_alarms=_triggering_from_reason_data(reason_data),
        )

    raw_queries = config.opt_list("metrics")
    if not raw_queries:
        raise AlarmParseError(
            f"{config.shape}: '{config.path}' has neither 'metrics' (metric alarm) nor "
            "'alarmRule' (composite alarm)"
        )
    queries = tuple(_camel_query(query) for query in config.objs("metrics", raw_queries))
    definition = _definition_from_queries(queries, config.opt_str("thresholdMetricId"))
    threshold: float | None = None
    if definition.kind != "anomaly_detection":
        threshold = config.opt_float("threshold")
        if threshold is None and reason_data is not None:
            threshold = _Obj(reason_data, f"{state.path}.reasonData", data.shape).opt_float(
                "threshold"
            )
    return Alarm(
        **common,
        kind=definition.kind,
        metric=definition.metric,
        metrics=queries,
        expression=definition.expression,
        threshold=threshold,
        threshold_metric_id=definition.threshold_metric_id,
        comparison_operator=config.opt_str("comparisonOperator"),
        evaluation_periods=config.opt_int("evaluationPeriods"),
        datapoints_to_alarm=config.opt_int("datapointsToAlarm"),
        treat_missing_data=_treat_missing_data(config.opt_str("treatMissingData")),
    )


# --- metric definitions ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Definition:
    kind: AlarmKind
    metric: AlarmMetric | None
    expression: str | None
    threshold_metric_id: str | None


def _definition_from_queries(
    queries: tuple[MetricQuery, ...], threshold_metric_id: str | None
) -> _Definition:
    """Classify an alarm defined by metric queries and pick what it alarms on."""
    by_id = {query.id: query for query in queries}
    band = by_id.get(threshold_metric_id) if threshold_metric_id else None
    if band is None:
        band = next(
            (q for q in queries if q.expression and _BAND_EXPRESSION.match(q.expression)), None
        )
    if band is not None or threshold_metric_id:
        modelled = None
        match = _BAND_EXPRESSION.match(band.expression or "") if band else None
        if match and match.group(1) in by_id:
            modelled = by_id[match.group(1)].metric
        if modelled is None:
            modelled = next((q.metric for q in queries if q.metric is not None), None)
        return _Definition(
            kind="anomaly_detection",
            metric=modelled,
            expression=band.expression if band else None,
            threshold_metric_id=threshold_metric_id or (band.id if band else None),
        )

    returned = [q for q in queries if q.return_data] or list(queries)
    primary = next((q for q in returned if q.expression), returned[0])
    if primary.expression:
        return _Definition("metric_math", None, primary.expression, None)
    return _Definition("metric", primary.metric, None, None)


def _sns_single_metric(trigger: "_Obj") -> AlarmMetric:
    extended = trigger.opt_str("ExtendedStatistic")
    statistic = trigger.opt_str("Statistic")
    if extended and (trigger.opt_str("StatisticType") == "ExtendedStatistic" or not statistic):
        stat: str | None = extended
    else:
        stat = _SNS_STATISTICS.get(statistic or "", statistic)
    return AlarmMetric(
        namespace=trigger.req_str("Namespace"),
        metric_name=trigger.req_str("MetricName"),
        dimensions=_sns_dimensions(trigger, "Dimensions"),
        statistic=stat,
        period=trigger.opt_int("Period"),
        unit=trigger.opt_str("Unit"),
    )


def _sns_query(query: "_Obj") -> MetricQuery:
    metric = None
    stat = query.opt_obj("MetricStat")
    if stat is not None:
        inner = stat.obj("Metric")
        metric = AlarmMetric(
            namespace=inner.req_str("Namespace"),
            metric_name=inner.req_str("MetricName"),
            dimensions=_sns_dimensions(inner, "Dimensions"),
            statistic=stat.opt_str("Stat"),
            period=stat.opt_int("Period"),
            unit=stat.opt_str("Unit"),
            account_id=query.opt_str("AccountId"),
        )
    return MetricQuery(
        id=query.req_str("Id"),
        expression=query.opt_str("Expression"),
        label=query.opt_str("Label"),
        metric=metric,
        return_data=query.opt_bool("ReturnData", default=True),
    )


def _camel_query(query: "_Obj") -> MetricQuery:
    metric = None
    stat = query.opt_obj("metricStat")
    if stat is not None:
        inner = stat.obj("metric")
        dimensions = inner.opt_obj("dimensions")
        metric = AlarmMetric(
            namespace=inner.req_str("namespace"),
            metric_name=inner.req_str("name"),
            dimensions=(
                {str(k): _scalar_text(v) for k, v in dimensions.data.items()} if dimensions else {}
            ),
            statistic=stat.opt_str("stat"),
            period=stat.opt_int("period"),
            unit=stat.opt_str("unit"),
            account_id=query.opt_str("accountId"),
        )
    return MetricQuery(
        id=query.req_str("id"),
        expression=query.opt_str("expression"),
        label=query.opt_str("label"),
        metric=metric,
        return_data=query.opt_bool("returnData", default=True),
    )


def _sns_dimensions(obj: "_Obj", key: str) -> dict[str, str]:
    """SNS dimensions: ``[{"value": ..., "name": ...}]`` (API-style capitalized keys accepted)."""
    dimensions: dict[str, str] = {}
    for item in obj.objs(key, obj.opt_list(key)):
        dim_name = item.get("name", item.get("Name"))
        if not isinstance(dim_name, str):
            raise item.missing("name")
        dimensions[dim_name] = _scalar_text(item.get("value", item.get("Value")))
    return dimensions


# --- composite alarms ------------------------------------------------------------------------


def _triggering_from_reason_data(reason_data: dict[str, Any] | None) -> tuple[TriggeringAlarm, ...]:
    entries = (reason_data or {}).get("triggeringAlarms")
    if not isinstance(entries, list):
        return ()
    children = []
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("arn"), str):
            state = entry.get("state")
            if not isinstance(state, Mapping):
                state = {}
            children.append(_child(entry["arn"], state.get("value"), state.get("timestamp")))
    return tuple(children)


def _triggering_from_sns(entries: list[Any]) -> tuple[TriggeringAlarm, ...]:
    """SNS ``TriggeringChildren``: ``[{"Arn", "State": {"Value", "Timestamp"}}]`` or ARNs."""
    children = []
    for entry in entries:
        if isinstance(entry, str) and entry:
            children.append(_child(entry, None, None))
        elif isinstance(entry, Mapping) and isinstance(entry.get("Arn"), str):
            state = entry.get("State")
            if not isinstance(state, Mapping):
                state = {}
            children.append(_child(entry["Arn"], state.get("Value"), state.get("Timestamp")))
    return tuple(children)


def _child(arn: str, state: Any, timestamp: Any) -> TriggeringAlarm:
    """A child's state is informative only: an odd value is dropped rather than failing."""
    parsed = _AlarmArn.parse(arn)
    changed_at = None
    if isinstance(timestamp, str):
        try:
            changed_at = _parse_timestamp(timestamp)
        except ValueError:
            changed_at = None
    return TriggeringAlarm(
        arn=arn,
        name=parsed.name if parsed else arn,
        state=_as_state(state),
        state_changed_at=changed_at,
    )


# --- small helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _AlarmArn:
    partition: str
    region: str
    account_id: str
    name: str

    @classmethod
    def parse(cls, arn: str | None) -> "_AlarmArn | None":
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


def _region(obj: "_Obj", arn: _AlarmArn | None, declared: str | None, field: str) -> str:
    if arn is not None:
        return arn.region
    if not declared:
        raise AlarmParseError(
            f"{obj.shape}: no region: neither a parseable alarm ARN nor '{field}' is present"
        )
    code = region_code(declared)
    if code is None:
        raise AlarmParseError(
            f"{obj.shape}: unknown region {declared!r} and no alarm ARN to read the region from"
        )
    return code


def _account(obj: "_Obj", declared: str | None, arn: _AlarmArn | None, field: str) -> str:
    account = declared or (arn.account_id if arn else None)
    if not account:
        raise AlarmParseError(
            f"{obj.shape}: no account: neither '{field}' nor a parseable alarm ARN is present"
        )
    return account


def _treat_missing_data(value: str | None) -> str | None:
    """SNS sends e.g. ``"- TreatMissingData:                    missing"``; keep the value."""
    if value is None:
        return None
    return _TREAT_MISSING_PREFIX.sub("", value).strip() or None


def _json_object(value: Any) -> dict[str, Any] | None:
    """``reasonData`` is a JSON string; it is context, so unreadable data becomes None."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _tags(value: Any) -> dict[str, str]:
    """Alarm tags as an object, or as ``[{"Key", "Value"}]`` / ``[{"key", "value"}]``."""
    if isinstance(value, Mapping):
        return {str(k): _scalar_text(v) for k, v in value.items()}
    tags: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                key = item.get("Key", item.get("key"))
                if isinstance(key, str):
                    tags[key] = _scalar_text(item.get("Value", item.get("value")))
    return tags


def _scalar_text(value: Any) -> str:
    return "" if value is None else str(value)


def _as_state(value: Any) -> AlarmState | None:
    for state in ALARM_STATES:
        if value == state:
            return state
    return None


def _parse_timestamp(value: str) -> datetime:
    """CloudWatch writes ``2021-01-01T00:00:00.000+0000``; EventBridge ``...T17:04:40Z``."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _reject_other_shapes(source: AlarmSource, payload: Mapping[str, Any], shape: str) -> None:
    """Name the shape the payload actually has when it came through the wrong door."""
    if "Records" in payload or {"TopicArn", "Message"} <= payload.keys():
        actual = "an SNS envelope (pass the decoded Sns.Message as the payload)"
    elif "detail-type" in payload and source != "eventbridge":
        actual = "an EventBridge event"
    elif "alarmData" in payload and source != "lambda-action":
        actual = "a Lambda alarm-action payload"
    elif "NewStateValue" in payload and source != "sns":
        actual = "an SNS alarm message"
    else:
        return
    raise AlarmParseError(f"expected a {shape} but the payload is {actual}")


class _Obj:
    """A JSON object plus where it sits, so every error names the exact field."""

    def __init__(self, data: Mapping[str, Any], path: str, shape: str) -> None:
        self.data = data
        self.path = path
        self.shape = shape

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

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

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

    def obj(self, key: str) -> "_Obj":
        value = self.opt_obj(key)
        if value is None:
            raise self.missing(key)
        return value

    def opt_obj(self, key: str) -> "_Obj | None":
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self._wrong(key, "an object")
        return _Obj(value, self._where(key), self.shape)

    def opt_list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return value

    def objs(self, key: str, items: list[Any]) -> list["_Obj"]:
        """``items`` (the list at ``key``) as objects; a non-object entry is an error."""
        result = []
        for index, item in enumerate(items):
            where = f"{self._where(key)}[{index}]"
            if not isinstance(item, Mapping):
                raise AlarmParseError(f"{self.shape}: '{where}' should be an object")
            result.append(_Obj(item, where, self.shape))
        return result

    def state(self, key: str) -> AlarmState:
        value = self.data.get(key)
        if value is None:
            raise self.missing(key)
        state = _as_state(value)
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
            return _parse_timestamp(value)
        except ValueError:
            raise AlarmParseError(
                f"{self.shape}: field '{self._where(key)}' is not a timestamp: {value[:64]!r}"
            ) from None
