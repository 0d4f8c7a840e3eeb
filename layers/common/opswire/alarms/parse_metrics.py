"""What a metric alarm watches: its metric data queries, or SNS's classic single metric.

A metric math or anomaly detection alarm is a list of metric data queries. SNS spells them as
the CloudWatch API does (``Id``, ``MetricStat.Metric.MetricName``, dimensions as a
``[{"name", "value"}]`` list); EventBridge and alarm actions in camelCase (``id``,
``metricStat.metric.name``, dimensions as an object). One reader, ``metric_query``, reads both:
a ``QuerySpelling`` names the keys of each.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from opswire.alarms.models.alarm import AlarmKind, AlarmMetric, MetricQuery
from opswire.alarms.parse_fields import Fields, scalar_text

# SNS spells the statistic in upper snake case; everything else uses the API spelling.
_SNS_STATISTICS = {
    "AVERAGE": "Average",
    "SUM": "Sum",
    "SAMPLE_COUNT": "SampleCount",
    "MINIMUM": "Minimum",
    "MAXIMUM": "Maximum",
}

_BAND_EXPRESSION = re.compile(r"^\s*ANOMALY_DETECTION_BAND\s*\(\s*([^,)\s]+)", re.IGNORECASE)


def dimension_list(obj: Fields, key: str) -> dict[str, str]:
    """SNS dimensions: ``[{"value": ..., "name": ...}]`` (API-style capitalized keys accepted)."""
    dimensions: dict[str, str] = {}
    for item in obj.objs(key, obj.opt_list(key)):
        dim_name = item.raw("name", item.raw("Name"))
        if not isinstance(dim_name, str):
            raise item.missing("name")
        dimensions[dim_name] = scalar_text(item.raw("value", item.raw("Value")))
    return dimensions


def dimension_object(obj: Fields, key: str) -> dict[str, str]:
    """EventBridge and alarm-action dimensions: ``{"<name>": "<value>"}``."""
    dimensions = obj.opt_obj(key)
    if dimensions is None:
        return {}
    return {str(k): scalar_text(v) for k, v in dimensions.data.items()}


@dataclass(frozen=True)
class QuerySpelling:
    """The keys of one metric data query (and of its ``MetricStat``) in one producer's JSON."""

    id: str
    expression: str
    label: str
    return_data: str
    account_id: str
    metric_stat: str
    stat: str
    period: str
    unit: str
    metric: str
    namespace: str
    metric_name: str
    dimensions: str
    read_dimensions: Callable[[Fields, str], dict[str, str]]
    dimensions_first: bool
    """Read ``dimensions`` before the namespace and metric name. Only the first problem of a
    payload is reported: camelCase payloads have always had their dimensions checked first,
    SNS payloads after the names, and each keeps its order."""


SNS_QUERY = QuerySpelling(
    id="Id",
    expression="Expression",
    label="Label",
    return_data="ReturnData",
    account_id="AccountId",
    metric_stat="MetricStat",
    stat="Stat",
    period="Period",
    unit="Unit",
    metric="Metric",
    namespace="Namespace",
    metric_name="MetricName",
    dimensions="Dimensions",
    read_dimensions=dimension_list,
    dimensions_first=False,
)
"""SNS ``Trigger.Metrics[]``."""

CAMEL_QUERY = QuerySpelling(
    id="id",
    expression="expression",
    label="label",
    return_data="returnData",
    account_id="accountId",
    metric_stat="metricStat",
    stat="stat",
    period="period",
    unit="unit",
    metric="metric",
    namespace="namespace",
    metric_name="name",
    dimensions="dimensions",
    read_dimensions=dimension_object,
    dimensions_first=True,
)
"""EventBridge ``detail.configuration.metrics[]`` and alarm-action
``alarmData.configuration.metrics[]``."""


def metric_query(query: Fields, spelling: QuerySpelling) -> MetricQuery:
    """One metric data query: a metric (``MetricStat``) or an ``Expression`` over others."""
    stat = query.opt_obj(spelling.metric_stat)
    metric = _stat_metric(query, stat, spelling) if stat is not None else None
    return MetricQuery(
        id=query.req_str(spelling.id),
        expression=query.opt_str(spelling.expression),
        label=query.opt_str(spelling.label),
        metric=metric,
        return_data=query.opt_bool(spelling.return_data, default=True),
    )


def _stat_metric(query: Fields, stat: Fields, spelling: QuerySpelling) -> AlarmMetric:
    inner = stat.obj(spelling.metric)
    if spelling.dimensions_first:
        dimensions = spelling.read_dimensions(inner, spelling.dimensions)
        namespace = inner.req_str(spelling.namespace)
        metric_name = inner.req_str(spelling.metric_name)
    else:
        namespace = inner.req_str(spelling.namespace)
        metric_name = inner.req_str(spelling.metric_name)
        dimensions = spelling.read_dimensions(inner, spelling.dimensions)
    return AlarmMetric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic=stat.opt_str(spelling.stat),
        period=stat.opt_int(spelling.period),
        unit=stat.opt_str(spelling.unit),
        account_id=query.opt_str(spelling.account_id),
    )


def sns_single_metric(trigger: Fields) -> AlarmMetric:
    """A classic SNS metric alarm: the metric is spelled out on ``Trigger`` itself."""
    extended = trigger.opt_str("ExtendedStatistic")
    statistic = trigger.opt_str("Statistic")
    if extended and (trigger.opt_str("StatisticType") == "ExtendedStatistic" or not statistic):
        stat: str | None = extended
    else:
        stat = _SNS_STATISTICS.get(statistic or "", statistic)
    return AlarmMetric(
        namespace=trigger.req_str("Namespace"),
        metric_name=trigger.req_str("MetricName"),
        dimensions=dimension_list(trigger, "Dimensions"),
        statistic=stat,
        period=trigger.opt_int("Period"),
        unit=trigger.opt_str("Unit"),
    )


@dataclass(frozen=True)
class Definition:
    """What an alarm alarms on: its kind and, by kind, the metric (the modelled one for an
    anomaly band), the expression and the band's query id."""

    kind: AlarmKind
    metric: AlarmMetric | None
    expression: str | None
    threshold_metric_id: str | None


def definition_from_queries(
    queries: tuple[MetricQuery, ...], threshold_metric_id: str | None
) -> Definition:
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
        return Definition(
            kind="anomaly_detection",
            metric=modelled,
            expression=band.expression if band else None,
            threshold_metric_id=threshold_metric_id or (band.id if band else None),
        )

    returned = [q for q in queries if q.return_data] or list(queries)
    primary = next((q for q in returned if q.expression), returned[0])
    if primary.expression:
        return Definition("metric_math", None, primary.expression, None)
    return Definition("metric", primary.metric, None, None)
