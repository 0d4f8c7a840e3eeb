"""One normalized CloudWatch alarm, whatever door it came through and whatever its kind.

``opswire.alarms.parse.parse_alarm`` builds it from an SNS message, an EventBridge event or a
Lambda alarm-action payload; the notify tasks receive it back as JSON
(``model_dump(mode="json")``), so every field must survive a JSON round trip.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, computed_field

from opswire.alarms.models.envelope import AlarmSource

AlarmState = Literal["ALARM", "OK", "INSUFFICIENT_DATA"]
AlarmKind = Literal["metric", "metric_math", "anomaly_detection", "composite"]

ALARM_STATES: tuple[AlarmState, ...] = ("ALARM", "OK", "INSUFFICIENT_DATA")

# "eu-west-1", "us-gov-west-1", "ap-southeast-4", ...
REGION_CODE_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d+$"

# The commercial console has regional hosts; China and GovCloud are addressed by ``?region=``.
_CONSOLE_HOSTS = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalized to UTC; a naive one is rejected."""


class AlarmMetric(BaseModel):
    """One CloudWatch metric and how the alarm aggregates it."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    metric_name: str
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: str | None = None
    """A statistic ("Average", "Sum", ...) or an extended statistic ("p99", "TM(10%:90%)")."""
    period: int | None = None
    """Seconds."""
    unit: str | None = None
    account_id: str | None = None
    """Set on cross-account metric math queries only."""


class MetricQuery(BaseModel):
    """One entry of a metric math / anomaly detection alarm's ``Metrics`` list."""

    model_config = ConfigDict(frozen=True)

    id: str
    expression: str | None = None
    label: str | None = None
    metric: AlarmMetric | None = None
    return_data: bool = False


class TriggeringAlarm(BaseModel):
    """A child alarm whose state change moved a composite alarm."""

    model_config = ConfigDict(frozen=True)

    arn: str
    name: str
    state: AlarmState | None = None
    state_changed_at: UtcDatetime | None = None


class Alarm(BaseModel):
    """A CloudWatch alarm state change, normalized.

    ``kind`` decides which of the definition fields are meaningful:

    - ``metric``: ``metric`` (plus ``threshold`` / ``comparison_operator`` when the producer
      sends them: SNS always does; EventBridge and alarm actions only carry the threshold, in
      ``reason_data``).
    - ``metric_math``: ``expression`` (the query that returns data) and ``metrics``.
    - ``anomaly_detection``: ``metric`` (the modelled metric), ``expression`` (the
      ``ANOMALY_DETECTION_BAND(...)`` query), ``threshold_metric_id`` and ``metrics``;
      ``threshold`` is None.
    - ``composite``: ``alarm_rule`` and ``triggering_alarms``.
    """

    model_config = ConfigDict(frozen=True)

    source: AlarmSource
    name: str = Field(min_length=1)
    arn: str | None = None
    partition: str = "aws"
    account_id: str = Field(min_length=1)
    region: str = Field(pattern=REGION_CODE_PATTERN)
    description: str | None = None

    state: AlarmState
    previous_state: AlarmState | None = None
    reason: str = ""
    reason_data: dict[str, Any] | None = None
    """Parsed ``NewStateReasonData`` / ``reasonData``: recentDatapoints, threshold, startDate,
    recentLowerThresholds / recentUpperThresholds (anomaly bands), triggeringAlarms, ..."""
    state_changed_at: UtcDatetime
    configuration_updated_at: UtcDatetime | None = None

    kind: AlarmKind
    metric: AlarmMetric | None = None
    metrics: tuple[MetricQuery, ...] = ()
    """The metric data queries as configured; empty for a classic single-metric SNS alarm."""
    expression: str | None = None
    threshold: float | None = None
    threshold_metric_id: str | None = None
    comparison_operator: str | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None

    alarm_rule: str | None = None
    triggering_alarms: tuple[TriggeringAlarm, ...] = ()
    actions_suppressed_by: str | None = None
    """Composite alarms with an actions suppressor: "Alarm", "WaitPeriod" or "ExtensionPeriod"."""
    actions_suppressed_reason: str | None = None

    tags: dict[str, str] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def console_url(self) -> str:
        """Deep link to this alarm in the CloudWatch console."""
        host = _CONSOLE_HOSTS.get(self.partition, _CONSOLE_HOSTS["aws"]).format(region=self.region)
        return (
            f"{host}/cloudwatch/home?region={self.region}"
            f"#alarmsV2:alarm/{quote(self.name, safe='')}"
        )
