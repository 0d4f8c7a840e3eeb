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

Each door reads the payload into an ``_Header`` (the state change) and the alarm's definition;
``_alarm`` builds the one ``Alarm`` from them. Metric queries are read by
``opswire.alarms.parse_metrics``, composite children by ``opswire.alarms.parse_composite``.

Pure code: no AWS calls, so a parse failure is always permanent (``AlarmParseError``).
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from opswire.alarms.models.alarm import Alarm, AlarmState, MetricQuery, TriggeringAlarm
from opswire.alarms.models.envelope import AlarmEnvelope, AlarmSource
from opswire.alarms.parse_composite import triggering_from_reason_data, triggering_from_sns
from opswire.alarms.parse_fields import AlarmArn, Fields, scalar_text
from opswire.alarms.parse_metrics import (
    CAMEL_QUERY,
    SNS_QUERY,
    Definition,
    definition_from_queries,
    metric_query,
    sns_single_metric,
)
from opswire.alarms.regions import region_code
from opswire.core.errors import AlarmParseError

EVENTBRIDGE_DETAIL_TYPE = "CloudWatch Alarm State Change"

_SHAPES: dict[AlarmSource, str] = {
    "sns": "SNS alarm message",
    "eventbridge": "EventBridge alarm event",
    "lambda-action": "Lambda alarm-action payload",
}

_TREAT_MISSING_PREFIX = re.compile(r"^-?\s*TreatMissingData:\s*", re.IGNORECASE)


def parse_alarm(envelope: AlarmEnvelope) -> Alarm:
    """Normalize the alarm in ``envelope``; raise ``AlarmParseError`` if it is not one."""
    shape = _SHAPES[envelope.source]
    _reject_other_shapes(envelope.source, envelope.payload, shape)
    parser = _PARSERS[envelope.source]
    payload = envelope.payload
    if envelope.source == "sns" and envelope.sns is not None:
        payload = _with_topic_region(payload, envelope.sns.topic_arn)
    try:
        return parser(Fields(payload, "", shape))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or '<alarm>'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise AlarmParseError(f"{shape}: invalid alarm ({problems})") from exc


# --- what every door reads -------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    """The state change an alarm reports, whatever its kind."""

    source: AlarmSource
    name: str
    arn: str | None
    partition: str
    account_id: str
    region: str
    description: str | None
    state: AlarmState
    previous_state: AlarmState | None
    reason: str
    reason_data: dict[str, Any] | None
    state_changed_at: datetime
    tags: dict[str, str]
    configuration_updated_at: datetime | None = None
    actions_suppressed_by: str | None = None
    actions_suppressed_reason: str | None = None


@dataclass(frozen=True)
class _Evaluation:
    """How a metric alarm evaluates its datapoints (as far as the producer says)."""

    comparison_operator: str | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None


@dataclass(frozen=True)
class _Body:
    """What the alarm is defined on: metric queries and a threshold, or a composite rule."""

    definition: Definition
    evaluation: _Evaluation = _Evaluation()
    metrics: tuple[MetricQuery, ...] = ()
    threshold: float | None = None
    alarm_rule: str | None = None
    triggering_alarms: tuple[TriggeringAlarm, ...] = ()


def _composite(alarm_rule: str, triggering_alarms: tuple[TriggeringAlarm, ...]) -> _Body:
    return _Body(
        definition=Definition("composite", None, None, None),
        alarm_rule=alarm_rule,
        triggering_alarms=triggering_alarms,
    )


def _alarm(header: _Header, body: _Body) -> Alarm:
    """The one ``Alarm``; pydantic's validation errors are turned into ``AlarmParseError`` by
    ``parse_alarm``."""
    return Alarm(
        source=header.source,
        name=header.name,
        arn=header.arn,
        partition=header.partition,
        account_id=header.account_id,
        region=header.region,
        description=header.description,
        state=header.state,
        previous_state=header.previous_state,
        reason=header.reason,
        reason_data=header.reason_data,
        state_changed_at=header.state_changed_at,
        configuration_updated_at=header.configuration_updated_at,
        kind=body.definition.kind,
        metric=body.definition.metric,
        metrics=body.metrics,
        expression=body.definition.expression,
        threshold=body.threshold,
        threshold_metric_id=body.definition.threshold_metric_id,
        comparison_operator=body.evaluation.comparison_operator,
        evaluation_periods=body.evaluation.evaluation_periods,
        datapoints_to_alarm=body.evaluation.datapoints_to_alarm,
        treat_missing_data=body.evaluation.treat_missing_data,
        alarm_rule=body.alarm_rule,
        triggering_alarms=body.triggering_alarms,
        actions_suppressed_by=header.actions_suppressed_by,
        actions_suppressed_reason=header.actions_suppressed_reason,
        tags=header.tags,
    )


# --- SNS -------------------------------------------------------------------------------------


def _parse_sns(msg: Fields) -> Alarm:
    arn = msg.opt_str("AlarmArn")
    parsed_arn = AlarmArn.parse(arn)
    name = msg.opt_str("AlarmName") or (parsed_arn.name if parsed_arn else None)
    if not name:
        raise msg.missing("AlarmName")
    reason_data = _json_object(msg.raw("NewStateReasonData"))
    header = _Header(
        source="sns",
        name=name,
        arn=arn,
        partition=parsed_arn.partition if parsed_arn else "aws",
        account_id=_account(msg, msg.opt_str("AWSAccountId"), parsed_arn, "AWSAccountId"),
        region=_region(msg, parsed_arn, msg.opt_str("Region"), "Region"),
        description=msg.opt_str("AlarmDescription") or None,
        state=msg.state("NewStateValue"),
        previous_state=msg.opt_state("OldStateValue"),
        reason=msg.opt_str("NewStateReason") or "",
        reason_data=reason_data,
        state_changed_at=msg.time("StateChangeTime"),
        configuration_updated_at=msg.opt_time("AlarmConfigurationUpdatedTimestamp"),
        tags=_tags(msg.raw("AlarmTags")),
    )

    alarm_rule = msg.opt_str("AlarmRule")
    if alarm_rule is not None:
        triggering = triggering_from_reason_data(reason_data) or triggering_from_sns(
            msg.opt_list("TriggeringChildren")
        )
        return _alarm(header, _composite(alarm_rule, triggering))

    trigger = msg.opt_obj("Trigger")
    if trigger is None:
        raise AlarmParseError(
            f"{msg.shape}: neither 'Trigger' (metric alarm) nor 'AlarmRule' (composite alarm) "
            "is present"
        )
    return _alarm(header, _sns_metric_body(trigger))


def _sns_metric_body(trigger: Fields) -> _Body:
    """``Trigger``: a classic single metric (``MetricName``) or metric queries (``Metrics``)."""
    evaluation = _Evaluation(
        comparison_operator=trigger.opt_str("ComparisonOperator"),
        evaluation_periods=trigger.opt_int("EvaluationPeriods"),
        datapoints_to_alarm=trigger.opt_int("DatapointsToAlarm"),
        treat_missing_data=_treat_missing_data(trigger.opt_str("TreatMissingData")),
    )
    raw_queries = trigger.opt_list("Metrics")
    if raw_queries:
        queries = tuple(
            metric_query(query, SNS_QUERY) for query in trigger.objs("Metrics", raw_queries)
        )
        definition = definition_from_queries(queries, trigger.opt_str("ThresholdMetricId"))
        threshold = (
            None if definition.kind == "anomaly_detection" else trigger.opt_float("Threshold")
        )
        return _Body(definition, evaluation, metrics=queries, threshold=threshold)
    if trigger.opt_str("MetricName") is None:
        raise AlarmParseError(
            f"{trigger.shape}: 'Trigger' has neither 'MetricName' (single metric) nor 'Metrics' "
            "(metric math / anomaly detection)"
        )
    metric = sns_single_metric(trigger)
    return _Body(
        Definition("metric", metric, None, None),
        evaluation,
        threshold=trigger.opt_float("Threshold"),
    )


# --- EventBridge and alarm actions -----------------------------------------------------------


@dataclass(frozen=True)
class _Outside:
    """What EventBridge and alarm-action payloads say around the camelCase alarm body."""

    arn: str | None
    account: str | None
    account_field: str
    region: str | None
    event_time: datetime | None
    tags: object


def _parse_eventbridge(event: Fields) -> Alarm:
    detail_type = event.opt_str("detail-type")
    if detail_type != EVENTBRIDGE_DETAIL_TYPE:
        raise AlarmParseError(
            f"{event.shape}: 'detail-type' is {detail_type!r}, expected {EVENTBRIDGE_DETAIL_TYPE!r}"
        )
    detail = event.obj("detail")
    resources = [r for r in event.opt_list("resources") if isinstance(r, str)]
    arn = next((r for r in resources if ":alarm:" in r), resources[0] if resources else None)
    outside = _Outside(
        arn=arn,
        account=event.opt_str("account"),
        account_field="account",
        region=event.opt_str("region"),
        event_time=event.opt_time("time"),
        tags=detail.raw("alarmTags"),
    )
    return _parse_alarm_data("eventbridge", detail, outside)


def _parse_lambda_action(payload: Fields) -> Alarm:
    data = payload.obj("alarmData")
    outside = _Outside(
        arn=payload.opt_str("alarmArn"),
        account=payload.opt_str("accountId"),
        account_field="accountId",
        region=payload.opt_str("region"),
        event_time=payload.opt_time("time"),
        tags=data.raw("alarmTags", payload.raw("alarmTags")),
    )
    return _parse_alarm_data("lambda-action", data, outside)


_PARSERS: dict[AlarmSource, Callable[[Fields], Alarm]] = {
    "sns": _parse_sns,
    "eventbridge": _parse_eventbridge,
    "lambda-action": _parse_lambda_action,
}


def _parse_alarm_data(source: AlarmSource, data: Fields, outside: _Outside) -> Alarm:
    """The camelCase alarm body shared by EventBridge (``detail``) and alarm actions
    (``alarmData``)."""
    parsed_arn = AlarmArn.parse(outside.arn)
    name = data.opt_str("alarmName") or (parsed_arn.name if parsed_arn else None)
    if not name:
        raise data.missing("alarmName")
    state = data.obj("state")
    previous = data.opt_obj("previousState")
    config = data.obj("configuration")
    reason_data = _json_object(state.raw("reasonData"))
    changed_at = state.opt_time("timestamp") or outside.event_time
    if changed_at is None:
        raise state.missing("timestamp")
    header = _Header(
        source=source,
        name=name,
        arn=outside.arn,
        partition=parsed_arn.partition if parsed_arn else "aws",
        account_id=_account(data, outside.account, parsed_arn, outside.account_field),
        region=_region(data, parsed_arn, outside.region, "region"),
        description=config.opt_str("description") or None,
        state=state.state("value"),
        previous_state=previous.opt_state("value") if previous else None,
        reason=state.opt_str("reason") or "",
        reason_data=reason_data,
        state_changed_at=changed_at,
        actions_suppressed_by=state.opt_str("actionsSuppressedBy"),
        actions_suppressed_reason=state.opt_str("actionsSuppressedReason"),
        tags=_tags(outside.tags),
    )

    alarm_rule = config.opt_str("alarmRule")
    if alarm_rule is not None:
        return _alarm(header, _composite(alarm_rule, triggering_from_reason_data(reason_data)))
    return _alarm(header, _camel_metric_body(config, state, reason_data))


def _camel_metric_body(config: Fields, state: Fields, reason_data: dict[str, Any] | None) -> _Body:
    """``configuration.metrics``; the threshold falls back to ``state.reasonData.threshold``."""
    raw_queries = config.opt_list("metrics")
    if not raw_queries:
        raise AlarmParseError(
            f"{config.shape}: '{config.path}' has neither 'metrics' (metric alarm) nor "
            "'alarmRule' (composite alarm)"
        )
    queries = tuple(
        metric_query(query, CAMEL_QUERY) for query in config.objs("metrics", raw_queries)
    )
    definition = definition_from_queries(queries, config.opt_str("thresholdMetricId"))
    threshold: float | None = None
    if definition.kind != "anomaly_detection":
        threshold = config.opt_float("threshold")
        if threshold is None and reason_data is not None:
            reason = Fields(reason_data, f"{state.path}.reasonData", state.shape)
            threshold = reason.opt_float("threshold")
    evaluation = _Evaluation(
        comparison_operator=config.opt_str("comparisonOperator"),
        evaluation_periods=config.opt_int("evaluationPeriods"),
        datapoints_to_alarm=config.opt_int("datapointsToAlarm"),
        treat_missing_data=_treat_missing_data(config.opt_str("treatMissingData")),
    )
    return _Body(definition, evaluation, metrics=queries, threshold=threshold)


# --- small helpers ---------------------------------------------------------------------------


def _region(obj: Fields, arn: AlarmArn | None, declared: str | None, field: str) -> str:
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


def _with_topic_region(payload: dict[str, Any], topic_arn: str) -> dict[str, Any]:
    """An SNS alarm message without a readable ``AlarmArn`` whose ``Region`` is no display name
    we know: the alarm is in the region of the topic it was published to (CloudWatch publishes
    to topics of the alarm's own region only)."""
    arn = payload.get("AlarmArn")
    if isinstance(arn, str) and AlarmArn.parse(arn) is not None:
        return payload
    declared = payload.get("Region")
    if isinstance(declared, str) and region_code(declared) is not None:
        return payload
    topic_region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else ""
    if region_code(topic_region) is None:
        return payload
    return {**payload, "Region": topic_region}


def _account(obj: Fields, declared: str | None, arn: AlarmArn | None, field: str) -> str:
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


def _json_object(value: object) -> dict[str, Any] | None:
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


def _tags(value: object) -> dict[str, str]:
    """Alarm tags as an object, or as ``[{"Key", "Value"}]`` / ``[{"key", "value"}]``."""
    if isinstance(value, Mapping):
        return {str(k): scalar_text(v) for k, v in value.items()}
    tags: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                key = item.get("Key", item.get("key"))
                if isinstance(key, str):
                    tags[key] = scalar_text(item.get("Value", item.get("value")))
    return tags


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
