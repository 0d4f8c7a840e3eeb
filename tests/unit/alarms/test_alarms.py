"""parse_alarm: every real alarm shape -> one Alarm; everything else -> AlarmParseError."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from opswire.alarms.models.alarm import Alarm, AlarmMetric
from opswire.alarms.models.envelope import AlarmEnvelope, AlarmSource
from opswire.alarms.parse import parse_alarm
from opswire.alarms.regions import region_code
from opswire.core.errors import AlarmParseError
from tests.conftest import EVENTS

DATA = Path(__file__).parent / "data"
ACCOUNT = "123456789012"

EXPECTED_SAMPLES = {
    "sns/alarm-metric-alarm.json",
    "sns/alarm-metric-ok.json",
    "sns/alarm-metric-math.json",
    "sns/alarm-anomaly-detection.json",
    "sns/alarm-composite.json",
    "sns/alarm-insufficient-data.json",
    "sns/alarm-metric-resolved.json",
    *(
        f"sns/alarm-flapping-{i}-{state}.json"
        for i, state in enumerate(["alarm", "ok"] * 3, start=1)
    ),
    "eventbridge/alarm-metric-alarm.json",
    "eventbridge/alarm-metric-ok.json",
    "eventbridge/alarm-metric-math.json",
    "eventbridge/alarm-anomaly-detection.json",
    "eventbridge/alarm-composite.json",
    "eventbridge/alarm-tags.json",
    "lambda-action/alarm-metric-alarm.json",
    "lambda-action/alarm-composite.json",
}
ALL_SAMPLES = sorted(p.relative_to(EVENTS).as_posix() for p in EVENTS.glob("*/alarm-*.json"))


def load(relative: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((EVENTS / relative).read_text())
    return payload


def source_of(relative: str) -> AlarmSource:
    source = relative.split("/", 1)[0]
    assert source in ("sns", "eventbridge", "lambda-action")
    return source  # type: ignore[return-value]


def parse(source: AlarmSource, payload: dict[str, Any]) -> Alarm:
    return parse_alarm(AlarmEnvelope(source=source, payload=payload))


def parse_sample(relative: str) -> Alarm:
    return parse(source_of(relative), load(relative))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


API_5XX_METRIC = AlarmMetric(
    namespace="AWS/ApiGateway",
    metric_name="5XXError",
    dimensions={"ApiName": "orders-api", "Stage": "prod"},
    statistic="Sum",
    period=60,
)


# --- every sample ----------------------------------------------------------------------------


def test_the_documented_samples_exist() -> None:
    assert set(ALL_SAMPLES) == EXPECTED_SAMPLES


@pytest.mark.parametrize("relative", ALL_SAMPLES)
def test_every_sample_parses_into_a_consistent_alarm(relative: str) -> None:
    alarm = parse_sample(relative)

    assert alarm.source == source_of(relative)
    assert alarm.account_id == ACCOUNT
    assert alarm.region in {"eu-west-1", "us-east-1"}
    assert alarm.arn == f"arn:aws:cloudwatch:{alarm.region}:{ACCOUNT}:alarm:{alarm.name}"
    assert alarm.state_changed_at.tzinfo is not None
    assert alarm.state_changed_at.utcoffset() is not None
    assert not alarm.state_changed_at.utcoffset()
    assert alarm.reason
    assert alarm.console_url == (
        f"https://{alarm.region}.console.aws.amazon.com/cloudwatch/home?region={alarm.region}"
        f"#alarmsV2:alarm/{alarm.name}"
    )
    if alarm.kind == "composite":
        assert alarm.alarm_rule and alarm.metric is None and not alarm.metrics
    else:
        assert alarm.alarm_rule is None and not alarm.triggering_alarms


@pytest.mark.parametrize("relative", ALL_SAMPLES)
def test_alarm_survives_the_json_hop_between_workflow_tasks(relative: str) -> None:
    alarm = parse_sample(relative)
    dumped = alarm.model_dump(mode="json")

    assert json.loads(json.dumps(dumped)) == dumped
    assert dumped["console_url"] == alarm.console_url
    assert Alarm.model_validate(dumped) == alarm


# --- SNS -------------------------------------------------------------------------------------


def test_sns_single_metric_alarm() -> None:
    alarm = parse_sample("sns/alarm-metric-alarm.json")

    assert alarm.name == "api-5xx-errors-high"
    assert alarm.kind == "metric"
    assert (alarm.state, alarm.previous_state) == ("ALARM", "OK")
    assert alarm.region == "eu-west-1"  # from the ARN; the message says "EU (Ireland)"
    assert alarm.metric == API_5XX_METRIC  # "SUM" normalized to the API spelling
    assert alarm.metrics == ()
    assert alarm.expression is None
    assert alarm.threshold == 5.0
    assert alarm.comparison_operator == "GreaterThanOrEqualToThreshold"
    assert (alarm.evaluation_periods, alarm.datapoints_to_alarm) == (3, 2)
    assert alarm.treat_missing_data == "notBreaching"  # "- TreatMissingData:   notBreaching"
    assert alarm.state_changed_at == at("2026-03-14T09:21:07.412+00:00")
    assert alarm.configuration_updated_at == at("2026-02-27T16:03:11.920+00:00")
    assert alarm.description is not None and alarm.description.startswith("orders-api (prod)")
    assert alarm.reason_data is not None
    assert alarm.reason_data["recentDatapoints"] == [9.0, 3.0, 17.0]
    assert alarm.reason_data["threshold"] == 5.0
    assert alarm.tags == {}


def test_sns_ok_transition_in_us_east_1() -> None:
    alarm = parse_sample("sns/alarm-metric-ok.json")

    assert (alarm.state, alarm.previous_state) == ("OK", "ALARM")
    assert alarm.region == "us-east-1"
    assert alarm.metric == AlarmMetric(
        namespace="AWS/RDS",
        metric_name="CPUUtilization",
        dimensions={"DBInstanceIdentifier": "orders-db"},
        statistic="Average",
        period=300,
        unit="Percent",
    )
    assert alarm.threshold == 80.0
    assert alarm.treat_missing_data == "missing"
    assert alarm.reason_data is None  # this message carries no NewStateReasonData


def test_sns_insufficient_data_with_an_extended_statistic() -> None:
    alarm = parse_sample("sns/alarm-insufficient-data.json")

    assert (alarm.state, alarm.previous_state) == ("INSUFFICIENT_DATA", "OK")
    assert alarm.description is None
    assert alarm.metric is not None
    assert alarm.metric.statistic == "p99"
    assert alarm.metric.metric_name == "TargetResponseTime"
    assert set(alarm.metric.dimensions) == {"LoadBalancer", "TargetGroup"}
    assert alarm.threshold == 1.5


def test_sns_metric_math_alarm() -> None:
    alarm = parse_sample("sns/alarm-metric-math.json")

    assert alarm.kind == "metric_math"
    assert alarm.expression == "100 * errors / requests"
    assert alarm.metric is None
    assert [(q.id, q.return_data) for q in alarm.metrics] == [
        ("e1", True),
        ("errors", False),
        ("requests", False),
    ]
    errors = alarm.metrics[1].metric
    assert errors is not None
    assert (errors.namespace, errors.metric_name, errors.statistic, errors.period) == (
        "AWS/ApiGateway",
        "5XXError",
        "Sum",
        300,
    )
    assert errors.dimensions == {"ApiName": "orders-api", "Stage": "prod"}
    assert alarm.metrics[0].label == "5XX rate (%)"
    assert alarm.threshold == 2.0
    assert alarm.comparison_operator == "GreaterThanThreshold"


def test_sns_anomaly_detection_alarm() -> None:
    alarm = parse_sample("sns/alarm-anomaly-detection.json")

    assert alarm.kind == "anomaly_detection"
    assert alarm.threshold is None
    assert alarm.threshold_metric_id == "ad1"
    assert alarm.expression == "ANOMALY_DETECTION_BAND(m1, 2)"
    assert alarm.comparison_operator == "LessThanLowerOrGreaterThanUpperThreshold"
    assert alarm.metric is not None
    assert (alarm.metric.metric_name, alarm.metric.statistic) == ("Latency", "Average")
    assert alarm.region == "us-east-1"


def test_sns_composite_alarm_with_triggering_children() -> None:
    alarm = parse_sample("sns/alarm-composite.json")

    assert alarm.kind == "composite"
    assert alarm.alarm_rule == 'ALARM("api-5xx-rate-high") AND ALARM("checkout-latency-p99-high")'
    assert [(c.name, c.state) for c in alarm.triggering_alarms] == [
        ("api-5xx-rate-high", "ALARM"),
        ("checkout-latency-p99-high", "ALARM"),
    ]
    first = alarm.triggering_alarms[0]
    assert first.arn == f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:api-5xx-rate-high"
    assert first.state_changed_at == at("2026-03-14T09:21:09.870+00:00")
    assert alarm.threshold is None and alarm.metric is None


def test_sns_triggering_children_given_as_plain_arns() -> None:
    payload = load("sns/alarm-composite.json")
    child = f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:api-5xx-rate-high"
    payload["TriggeringChildren"] = [child]

    alarm = parse("sns", payload)

    assert [(c.arn, c.name, c.state) for c in alarm.triggering_alarms] == [
        (child, "api-5xx-rate-high", None)
    ]


def test_sns_tags_are_read_from_alarm_tags() -> None:
    payload = load("sns/alarm-metric-alarm.json")
    payload["AlarmTags"] = {"team": "orders", "env": "prod"}
    payload["AlarmTagsStatus"] = "SUCCESS"

    assert parse("sns", payload).tags == {"team": "orders", "env": "prod"}


def test_sns_without_arn_maps_the_region_display_name() -> None:
    payload = load("sns/alarm-metric-alarm.json")
    del payload["AlarmArn"]
    payload["Region"] = "US West (Oregon)"

    alarm = parse("sns", payload)

    assert alarm.region == "us-west-2"
    assert alarm.arn is None
    assert alarm.account_id == ACCOUNT
    assert alarm.console_url.startswith("https://us-west-2.console.aws.amazon.com/")


def test_sns_region_from_the_arn_wins_over_the_display_name() -> None:
    payload = load("sns/alarm-metric-alarm.json")
    payload["Region"] = "US East (N. Virginia)"

    assert parse("sns", payload).region == "eu-west-1"


def test_alarm_names_with_colons_and_spaces() -> None:
    payload = load("sns/alarm-metric-alarm.json")
    name = "orders: 5xx errors high"
    payload["AlarmName"] = name
    payload["AlarmArn"] = f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:{name}"

    alarm = parse("sns", payload)

    assert alarm.name == name
    assert alarm.region == "eu-west-1"
    assert alarm.console_url.endswith("#alarmsV2:alarm/orders%3A%205xx%20errors%20high")


def test_gov_cloud_alarm_links_to_the_gov_cloud_console() -> None:
    payload = load("sns/alarm-metric-alarm.json")
    payload["AlarmArn"] = f"arn:aws-us-gov:cloudwatch:us-gov-west-1:{ACCOUNT}:alarm:x"
    payload["Region"] = "AWS GovCloud (US-West)"

    alarm = parse("sns", payload)

    assert (alarm.partition, alarm.region) == ("aws-us-gov", "us-gov-west-1")
    assert alarm.console_url.startswith(
        "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#"
    )


def test_offset_and_naive_timestamps_are_normalized_to_utc() -> None:
    payload = load("sns/alarm-metric-alarm.json")
    payload["StateChangeTime"] = "2026-03-14T10:21:07.412+0100"
    assert parse("sns", payload).state_changed_at == datetime(2026, 3, 14, 9, 21, 7, 412000, UTC)

    payload["StateChangeTime"] = "2026-03-14T09:21:07"
    assert parse("sns", payload).state_changed_at == datetime(2026, 3, 14, 9, 21, 7, tzinfo=UTC)


# --- EventBridge -----------------------------------------------------------------------------


def test_eventbridge_metric_alarm() -> None:
    alarm = parse_sample("eventbridge/alarm-metric-alarm.json")

    assert alarm.kind == "metric"
    assert (alarm.state, alarm.previous_state) == ("ALARM", "OK")
    assert alarm.metric == API_5XX_METRIC
    assert len(alarm.metrics) == 1
    assert alarm.threshold == 5.0  # only known from reasonData on this door
    assert alarm.comparison_operator is None  # not carried by EventBridge: not guessed
    assert alarm.state_changed_at == at("2026-03-14T09:21:07.412+00:00")


def test_eventbridge_ok_transition() -> None:
    alarm = parse_sample("eventbridge/alarm-metric-ok.json")

    assert (alarm.state, alarm.previous_state) == ("OK", "ALARM")
    assert alarm.reason_data is not None
    assert alarm.reason_data["recentDatapoints"] == [0.0, 1.0, 0.0]


def test_eventbridge_metric_math_matches_the_sns_view_of_the_same_alarm() -> None:
    via_eventbridge = parse_sample("eventbridge/alarm-metric-math.json")
    via_sns = parse_sample("sns/alarm-metric-math.json")

    assert via_eventbridge.kind == via_sns.kind == "metric_math"
    assert via_eventbridge.expression == via_sns.expression
    assert via_eventbridge.metrics == via_sns.metrics
    assert via_eventbridge.threshold == via_sns.threshold == 2.0
    assert (via_eventbridge.name, via_eventbridge.arn, via_eventbridge.region) == (
        via_sns.name,
        via_sns.arn,
        via_sns.region,
    )


def test_eventbridge_anomaly_detection_alarm() -> None:
    alarm = parse_sample("eventbridge/alarm-anomaly-detection.json")

    assert alarm.kind == "anomaly_detection"
    assert alarm.threshold_metric_id == "ad1"
    assert alarm.threshold is None
    assert alarm.expression == "ANOMALY_DETECTION_BAND(m1, 2)"
    assert alarm.metric is not None and alarm.metric.metric_name == "Latency"
    assert alarm.reason_data is not None
    assert alarm.reason_data["recentUpperThresholds"][-1] == 231.7


def test_eventbridge_anomaly_detection_without_threshold_metric_id() -> None:
    """Older events omit ``thresholdMetricId``: the band expression identifies the alarm."""
    payload = load("eventbridge/alarm-anomaly-detection.json")
    del payload["detail"]["configuration"]["thresholdMetricId"]

    alarm = parse("eventbridge", payload)

    assert (alarm.kind, alarm.threshold_metric_id) == ("anomaly_detection", "ad1")


def test_eventbridge_composite_alarm() -> None:
    alarm = parse_sample("eventbridge/alarm-composite.json")

    assert alarm.kind == "composite"
    assert alarm.alarm_rule is not None and "checkout-latency-p99-high" in alarm.alarm_rule
    assert [(c.name, c.state) for c in alarm.triggering_alarms] == [
        ("api-5xx-rate-high", "ALARM"),
        ("checkout-latency-p99-high", "ALARM"),
    ]
    assert alarm.previous_state == "OK"


def test_eventbridge_alarm_tags() -> None:
    alarm = parse_sample("eventbridge/alarm-tags.json")

    assert alarm.tags == {"team": "payments", "env": "prod", "severity": "critical"}
    assert alarm.metric is not None
    assert (alarm.metric.namespace, alarm.metric.unit) == ("AWS/SQS", "Seconds")
    assert alarm.threshold == 600.0


def test_eventbridge_state_timestamp_falls_back_to_the_event_time() -> None:
    payload = load("eventbridge/alarm-metric-alarm.json")
    del payload["detail"]["state"]["timestamp"]

    assert parse("eventbridge", payload).state_changed_at == at("2026-03-14T09:21:07+00:00")


def test_unreadable_reason_data_is_dropped_not_fatal() -> None:
    payload = load("eventbridge/alarm-metric-alarm.json")
    payload["detail"]["state"]["reasonData"] = "{not json"

    alarm = parse("eventbridge", payload)

    assert alarm.reason_data is None
    assert alarm.threshold is None


# --- Lambda alarm actions --------------------------------------------------------------------


def test_lambda_action_metric_alarm() -> None:
    alarm = parse_sample("lambda-action/alarm-metric-alarm.json")

    assert alarm.kind == "metric"
    assert alarm.name == "orders-worker-errors-high"
    assert alarm.metric == AlarmMetric(
        namespace="AWS/Lambda",
        metric_name="Errors",
        dimensions={"FunctionName": "orders-worker"},
        statistic="Sum",
        period=300,
        unit="Count",
    )
    assert alarm.threshold == 10.0
    assert (alarm.state, alarm.previous_state) == ("ALARM", "OK")


def test_lambda_action_composite_alarm_with_suppressed_actions() -> None:
    alarm = parse_sample("lambda-action/alarm-composite.json")

    assert alarm.kind == "composite"
    assert [c.name for c in alarm.triggering_alarms] == [
        "api-5xx-rate-high",
        "checkout-latency-p99-high",
    ]
    assert alarm.actions_suppressed_by == "WaitPeriod"
    assert alarm.actions_suppressed_reason == "Actions suppressed by WaitPeriod"


# --- region names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("US East (N. Virginia)", "us-east-1"),
        ("US West (Oregon)", "us-west-2"),
        ("EU (Ireland)", "eu-west-1"),
        ("Europe (Ireland)", "eu-west-1"),
        ("EU - Ireland", "eu-west-1"),
        ("EU (Frankfurt)", "eu-central-1"),
        ("Europe (Stockholm)", "eu-north-1"),
        ("Asia Pacific (Tokyo)", "ap-northeast-1"),
        ("South America (São Paulo)", "sa-east-1"),
        ("Canada (Central)", "ca-central-1"),
        ("AWS GovCloud (US)", "us-gov-west-1"),
        ("  eu-west-1 ", "eu-west-1"),
    ],
)
def test_region_display_names_map_to_codes(name: str, code: str) -> None:
    assert region_code(name) == code


@pytest.mark.parametrize("name", ["Atlantis (Central)", "", "EU", "eu-west"])
def test_unknown_region_names_map_to_none(name: str) -> None:
    assert region_code(name) is None


def test_unknown_region_without_an_arn_is_a_parse_error() -> None:
    payload = load("sns/alarm-metric-alarm.json")
    del payload["AlarmArn"]
    payload["Region"] = "Atlantis (Central)"

    with pytest.raises(AlarmParseError, match=r"unknown region 'Atlantis \(Central\)'"):
        parse("sns", payload)


# --- invalid input ---------------------------------------------------------------------------


def test_invalid_sample_sns_message_without_a_state() -> None:
    payload = json.loads((DATA / "alarm-invalid-sns-missing-state.json").read_text())

    with pytest.raises(AlarmParseError, match="missing required field 'NewStateValue'"):
        parse("sns", payload)


def test_invalid_sample_eventbridge_event_that_is_not_an_alarm() -> None:
    payload = json.loads((DATA / "alarm-invalid-eventbridge-not-an-alarm.json").read_text())

    with pytest.raises(AlarmParseError, match="EC2 Instance State-change Notification"):
        parse("eventbridge", payload)


def _without(payload: dict[str, Any], *path: str | int) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    target: Any = result
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return result


def _with(payload: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    target: Any = result
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return result


SNS_METRIC = load("sns/alarm-metric-alarm.json")
SNS_MATH = load("sns/alarm-metric-math.json")
EB_METRIC = load("eventbridge/alarm-metric-alarm.json")
ACTION_METRIC = load("lambda-action/alarm-metric-alarm.json")


@pytest.mark.parametrize(
    ("source", "payload", "message"),
    [
        ("sns", {}, "missing required field 'AlarmName'"),
        ("sns", _with(SNS_METRIC, "PANIC", "NewStateValue"), "'NewStateValue' is 'PANIC'"),
        ("sns", _with(SNS_METRIC, "yesterday", "StateChangeTime"), "not a timestamp"),
        ("sns", _without(SNS_METRIC, "StateChangeTime"), "'StateChangeTime'"),
        ("sns", _without(SNS_METRIC, "Trigger"), "neither 'Trigger'"),
        ("sns", _with(SNS_METRIC, [], "Trigger"), "'Trigger' should be an object"),
        ("sns", _without(SNS_METRIC, "Trigger", "MetricName"), "neither 'MetricName'"),
        ("sns", _without(SNS_METRIC, "Trigger", "Namespace"), "'Trigger.Namespace'"),
        ("sns", _with(SNS_METRIC, "lots", "Trigger", "Threshold"), "'Trigger.Threshold'"),
        ("sns", _with(SNS_MATH, "m1", "Trigger", "Metrics", 1), r"'Trigger.Metrics\[1\]'"),
        (
            "sns",
            _without(SNS_MATH, "Trigger", "Metrics", 1, "MetricStat", "Metric"),
            r"'Trigger.Metrics\[1\].MetricStat.Metric'",
        ),
        (
            "sns",
            _without(_without(SNS_METRIC, "AlarmArn"), "AWSAccountId"),
            "no account",
        ),
        ("eventbridge", {}, "'detail-type' is None"),
        ("eventbridge", _without(EB_METRIC, "detail"), "missing required field 'detail'"),
        ("eventbridge", _without(EB_METRIC, "detail", "state"), "'detail.state'"),
        (
            "eventbridge",
            _without(EB_METRIC, "detail", "state", "value"),
            "'detail.state.value'",
        ),
        (
            "eventbridge",
            _with(EB_METRIC, {"description": "x"}, "detail", "configuration"),
            "neither 'metrics'",
        ),
        (
            "eventbridge",
            _without(EB_METRIC, "detail", "configuration", "metrics", 0, "metricStat", "metric"),
            r"'detail.configuration.metrics\[0\].metricStat.metric'",
        ),
        (
            "eventbridge",
            _without(_with(EB_METRIC, [], "resources"), "region"),
            "no region",
        ),
        ("lambda-action", {}, "missing required field 'alarmData'"),
        ("lambda-action", _with(ACTION_METRIC, "x", "alarmData"), "'alarmData' should be"),
        (
            "lambda-action",
            _without(ACTION_METRIC, "alarmData", "configuration"),
            "'alarmData.configuration'",
        ),
        (
            "lambda-action",
            _with(ACTION_METRIC, "WARNING", "alarmData", "state", "value"),
            "expected one of ALARM, OK, INSUFFICIENT_DATA",
        ),
    ],
)
def test_invalid_alarms_raise_a_parse_error_naming_the_problem(
    source: AlarmSource, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(AlarmParseError, match=message):
        parse(source, payload)


@pytest.mark.parametrize(
    ("source", "payload", "message"),
    [
        ("sns", {"Records": [{"Sns": {"Message": "{}"}}]}, "SNS envelope"),
        ("sns", EB_METRIC, "payload is an EventBridge event"),
        ("eventbridge", ACTION_METRIC, "payload is a Lambda alarm-action payload"),
        ("lambda-action", SNS_METRIC, "payload is an SNS alarm message"),
    ],
)
def test_payload_through_the_wrong_door_says_what_it_is(
    source: AlarmSource, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(AlarmParseError, match=message):
        parse(source, payload)


def _mutations(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """(path, replacement) pairs: every key removed (``...``) and every value swapped for
    values of the wrong type, at every depth."""
    found: list[tuple[tuple[Any, ...], Any]] = []
    wrong_types: tuple[Any, ...] = (None, 7, "x", [], {}, True)
    if isinstance(node, dict):
        for key, child in node.items():
            found.append(((*path, key), ...))
            found.extend(((*path, key), bad) for bad in wrong_types)
            found.extend(_mutations(child, (*path, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append(((*path, index), "x"))
            found.extend(_mutations(child, (*path, index)))
    return found


@pytest.mark.parametrize("relative", ALL_SAMPLES)
def test_no_malformed_payload_escapes_as_anything_but_alarm_parse_error(relative: str) -> None:
    source, original = source_of(relative), load(relative)
    mutations = _mutations(original)
    assert len(mutations) > 50

    for path, replacement in mutations:
        payload = copy.deepcopy(original)
        target: Any = payload
        for key in path[:-1]:
            target = target[key]
        if replacement is ...:
            del target[path[-1]]
        else:
            target[path[-1]] = replacement
        try:
            parse(source, payload)
        except AlarmParseError as exc:
            assert str(exc), path
        except Exception as exc:  # the point of the test: report which mutation leaked
            pytest.fail(f"{relative} {path} -> {replacement!r} raised {exc!r}")


def test_the_model_rejects_naive_datetimes_and_bad_region_codes() -> None:
    alarm = parse_sample("sns/alarm-metric-alarm.json")
    fields = alarm.model_dump()

    with pytest.raises(ValidationError):
        Alarm.model_validate({**fields, "state_changed_at": datetime(2026, 3, 14, 9, 21)})
    with pytest.raises(ValidationError):
        Alarm.model_validate({**fields, "region": "EU (Ireland)"})


def test_a_model_validation_failure_is_reported_as_a_parse_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defence in depth: should a value slip past the field checks, pydantic's error must still
    surface as the workflow's permanent ``AlarmParseError``, naming the field."""
    from opswire.alarms import parse as alarm_parse

    monkeypatch.setattr(alarm_parse, "_treat_missing_data", lambda value: ["not", "a", "str"])

    with pytest.raises(AlarmParseError, match=r"invalid alarm.*treat_missing_data") as caught:
        parse_sample("sns/alarm-metric-alarm.json")
    assert isinstance(caught.value.__cause__, ValidationError)
