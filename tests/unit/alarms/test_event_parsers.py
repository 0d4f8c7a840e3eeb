"""parse_subject and the event parsers: every real-shaped sample, every severity mapping, the
generic fallback, and the alarm region fallback."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opswire.alarms.events import platform, security
from opswire.alarms.events.eventbridge import PARSERS
from opswire.alarms.events.notifications import severity_from_words
from opswire.alarms.models.alarm import Alarm
from opswire.alarms.models.envelope import AlarmEnvelope, SnsDelivery
from opswire.alarms.models.event import OpsEvent
from opswire.alarms.regions import region_code
from opswire.alarms.subject import parse_subject
from tests.conftest import EVENTS

TOPIC = "arn:aws:sns:eu-west-1:123456789012:opswire-alarms"
SNS = SnsDelivery(
    message_id="m-1", topic_arn=TOPIC, timestamp="2026-03-14T09:21:07.462Z", subject=None
)


def eventbridge(relative: str) -> OpsEvent | Alarm:
    payload = json.loads((EVENTS / relative).read_text())
    return parse_subject(AlarmEnvelope(source="eventbridge", payload=payload))


def via_sns(message: str, subject: str | None = None) -> OpsEvent | Alarm:
    """As AlarmIngestFunction builds the envelope: a JSON object as payload, else text."""
    try:
        payload: Any = json.loads(message)
    except ValueError:
        payload = None
    sns = SNS.model_copy(update={"subject": subject})
    if isinstance(payload, dict):
        return parse_subject(AlarmEnvelope(source="sns", payload=payload, sns=sns))
    return parse_subject(AlarmEnvelope(source="sns", payload={}, sns=sns, text=message))


def event(subject: OpsEvent | Alarm) -> OpsEvent:
    assert isinstance(subject, OpsEvent), subject
    return subject


# (sample, kind, severity, status, what the title names)
EVENTBRIDGE_SAMPLES = [
    ("guardduty-finding.json", "guardduty_finding", "medium", "open", "SSH brute force"),
    ("guardduty-finding-updated.json", "guardduty_finding", "high", "open", "SSH brute force"),
    ("guardduty-finding-archived.json", "guardduty_finding", "high", "resolved", "SSH brute"),
    ("securityhub-finding-imported.json", "securityhub_finding", "high", "open", "S3.8"),
    ("securityhub-finding-resolved.json", "securityhub_finding", "high", "resolved", "S3.8"),
    ("health-event-open.json", "health_event", "high", "open", "EC2: Operational issue"),
    ("health-event-closed.json", "health_event", "info", "resolved", "EC2: Operational issue"),
    ("ecs-deployment-failed.json", "ecs_deployment", "high", "open", "deployment failed"),
    ("ecs-deployment-completed.json", "ecs_deployment", "info", "resolved", "completed"),
    ("ecs-task-stopped-error.json", "ecs_task_stopped", "medium", None, "service:orders-api"),
    ("codepipeline-execution-failed.json", "codepipeline_execution", "high", "open", "orders-"),
    ("codebuild-build-failed.json", "codebuild_build", "medium", "open", "orders-api-build"),
    ("backup-job-failed.json", "backup_job", "high", "open", "db:orders-prod"),
    ("glue-job-failed.json", "glue_job", "high", "open", "orders-nightly-etl"),
    ("rds-db-instance-event.json", "rds_event", "high", None, "failover started"),
    ("signin-root-console-login.json", "console_signin", "critical", None, "Root user"),
    ("signin-console-login-no-mfa.json", "console_signin", "high", None, "without MFA: jdoe"),
    ("cost-anomaly-detected.json", "cost_anomaly", "high", "open", "$1,222.55 more"),
]


@pytest.mark.parametrize(
    ("relative", "kind", "severity", "status", "title"),
    EVENTBRIDGE_SAMPLES,
    ids=[s[0] for s in EVENTBRIDGE_SAMPLES],
)
def test_every_eventbridge_sample_becomes_its_kind_with_severity_and_status(
    relative: str, kind: str, severity: str, status: str | None, title: str
) -> None:
    parsed = event(eventbridge(f"eventbridge/{relative}"))

    assert (parsed.kind, parsed.severity, parsed.status) == (kind, severity, status)
    assert title in parsed.title
    assert parsed.account_id == "123456789012"
    assert parsed.door == "eventbridge"
    assert parsed.raw == json.loads((EVENTS / "eventbridge" / relative).read_text())
    assert parsed.console_url is None or parsed.console_url.startswith("https://")
    # every event survives the JSON round trip the workflow puts it through
    assert OpsEvent.model_validate(parsed.model_dump(mode="json")) == parsed


def test_every_known_source_has_a_sample() -> None:
    parsed_kinds = {k for _s, k, *_ in EVENTBRIDGE_SAMPLES}
    sources = {source for source, _detail in PARSERS} | {"aws.rds"}
    samples = [json.loads((EVENTS / "eventbridge" / s[0]).read_text()) for s in EVENTBRIDGE_SAMPLES]
    assert sources <= {s["source"] for s in samples}
    assert len(parsed_kinds) == 12


def test_a_finding_keeps_its_dedupe_key_across_updates_and_archiving() -> None:
    keys = {
        event(eventbridge(f"eventbridge/{name}")).dedupe_key
        for name in (
            "guardduty-finding.json",
            "guardduty-finding-updated.json",
            "guardduty-finding-archived.json",
        )
    }
    assert len(keys) == 1


def test_a_failure_and_the_next_success_share_a_key_so_the_success_resolves() -> None:
    failed = event(eventbridge("eventbridge/ecs-deployment-failed.json"))
    completed = event(eventbridge("eventbridge/ecs-deployment-completed.json"))
    assert failed.dedupe_key == completed.dedupe_key
    opened = event(eventbridge("eventbridge/health-event-open.json"))
    closed = event(eventbridge("eventbridge/health-event-closed.json"))
    assert opened.dedupe_key == closed.dedupe_key
    assert closed.updated_at > opened.updated_at


def test_guardduty_fields_where_and_what() -> None:
    finding = event(eventbridge("eventbridge/guardduty-finding-updated.json"))

    (resource,) = finding.resources
    assert (resource.type, resource.id) == ("EC2 instance", "i-0b5f8c3b9d1e2a4f6")
    assert resource.tags == {"Name": "bastion", "team": "platform"}
    assert finding.tags["team"] == "platform"
    assert dict(finding.facts)["Count"] == "14"
    assert finding.source_severity == "8"
    assert finding.updated_at == datetime(2026, 3, 14, 15, 40, 3, 118000, tzinfo=UTC)
    assert "fId=16afba5c5c43e07c9e3e5e2e544e95df" in (finding.console_url or "")


def test_security_hub_gives_the_remediation_as_what_to_do() -> None:
    finding = event(eventbridge("eventbridge/securityhub-finding-imported.json"))
    assert finding.recommendation is not None
    assert "https://docs.aws.amazon.com/console/securityhub/S3.8/remediation" in (
        finding.recommendation
    )
    assert finding.resources[0].tags == {"team": "orders", "environment": "prod"}


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (None, "medium"),
        (0.5, "info"),
        (1, "low"),
        (3.9, "low"),
        (4, "medium"),
        (6.9, "medium"),
        (7, "high"),
        (8.9, "high"),
        (9, "critical"),
        (10, "critical"),
    ],
)
def test_guardduty_severity_mapping(score: float | None, severity: str) -> None:
    assert security.guardduty_severity(score) == severity


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("CRITICAL", "critical"),
        ("HIGH", "high"),
        ("MEDIUM", "medium"),
        ("LOW", "low"),
        ("INFORMATIONAL", "info"),
        ("informational", "info"),
        ("SOMETHING", "medium"),
    ],
)
def test_security_hub_severity_mapping(label: str, severity: str) -> None:
    assert security.securityhub_severity(label) == severity


@pytest.mark.parametrize(
    ("category", "severity"),
    [
        ("issue", "high"),
        ("investigation", "high"),
        ("scheduledChange", "medium"),
        ("accountNotification", "low"),
        ("new", "medium"),
    ],
)
def test_health_severity_mapping(category: str, severity: str) -> None:
    assert platform.health_severity(category) == severity


@pytest.mark.parametrize(
    ("event_type", "severity"), [("ERROR", "high"), ("WARN", "medium"), ("INFO", "info")]
)
def test_ecs_deployment_severity_mapping(event_type: str, severity: str) -> None:
    assert platform.ecs_deployment_severity(event_type) == severity


@pytest.mark.parametrize(
    ("stop_code", "failed", "severity"),
    [
        ("TaskFailedToStart", False, "high"),
        ("EssentialContainerExited", False, "medium"),
        ("SpotInterruption", True, "low"),
        ("UserInitiated", False, "info"),
        ("ServiceSchedulerInitiated", True, "medium"),
    ],
)
def test_ecs_task_severity_mapping(stop_code: str, failed: bool, severity: str) -> None:
    assert platform.ecs_task_severity(stop_code, failed) == severity


@pytest.mark.parametrize(
    ("categories", "severity"),
    [
        (["failure"], "high"),
        (["failover"], "high"),
        (["low storage"], "high"),
        (["availability"], "medium"),
        (["maintenance", "notification"], "low"),
        (["notification"], "info"),
        ([], "info"),
    ],
)
def test_rds_severity_mapping(categories: list[str], severity: str) -> None:
    assert platform.rds_severity(categories) == severity


@pytest.mark.parametrize(
    ("impact", "severity"),
    [
        (None, "medium"),
        (0.0, "low"),
        (99.99, "low"),
        (100.0, "medium"),
        (999.0, "medium"),
        (1000.0, "high"),
        (25000.0, "high"),
    ],
)
def test_cost_anomaly_severity_mapping(impact: float | None, severity: str) -> None:
    assert security.cost_anomaly_severity(impact) == severity


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("Replication task has failed", "high"),
        ("the job is failing", "high"),
        ("instance stopped", "medium"),
        ("Backup completed successfully", "info"),
    ],
)
def test_severity_from_words(text: str, severity: str) -> None:
    assert severity_from_words(text) == severity


@pytest.mark.parametrize(
    ("status", "record", "resolved"),
    [
        ("NEW", "ACTIVE", False),
        ("NOTIFIED", "ACTIVE", False),
        ("RESOLVED", "ACTIVE", True),
        ("SUPPRESSED", "ACTIVE", True),
        ("NEW", "ARCHIVED", True),
    ],
)
def test_security_hub_resolution(status: str, record: str, resolved: bool) -> None:
    payload = json.loads((EVENTS / "eventbridge/securityhub-finding-imported.json").read_text())
    payload["detail"]["findings"][0]["Workflow"]["Status"] = status
    payload["detail"]["findings"][0]["RecordState"] = record
    parsed = event(parse_subject(AlarmEnvelope(source="eventbridge", payload=payload)))
    assert parsed.status == ("resolved" if resolved else "open")


def test_a_failed_root_sign_in_is_still_critical() -> None:
    payload = json.loads((EVENTS / "eventbridge/signin-root-console-login.json").read_text())
    payload["detail"]["responseElements"]["ConsoleLogin"] = "Failure"
    parsed = event(parse_subject(AlarmEnvelope(source="eventbridge", payload=payload)))
    assert parsed.severity == "critical"
    assert parsed.title == "Failed root user sign-in to the console"


# ---- through SNS --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["guardduty-finding.json", "health-event-open.json", "ecs-deployment-failed.json"]
)
def test_eventbridge_events_forwarded_through_sns_parse_as_through_eventbridge(name: str) -> None:
    direct = event(eventbridge(f"eventbridge/{name}"))
    forwarded = event(via_sns((EVENTS / "sns" / name).read_text()))
    assert forwarded.door == "sns"
    assert forwarded.model_dump(exclude={"door"}) == direct.model_dump(exclude={"door"})


@pytest.mark.parametrize(
    ("name", "service", "severity", "status", "resource"),
    [
        ("rds-event-notification.json", "RDS", "high", None, "orders-prod"),
        ("dms-event-notification.json", "DMS", "high", None, "orders-cdc"),
        ("elastic-beanstalk-health.txt", "Elastic Beanstalk", "high", "open", "orders-web-prod"),
        (
            "backup-job-failed.txt",
            "AWS Backup",
            "high",
            "open",
            "arn:aws:rds:eu-west-1:123456789012:db:orders-prod",
        ),
        (
            "backup-job-completed.txt",
            "AWS Backup",
            "info",
            "resolved",
            "arn:aws:rds:eu-west-1:123456789012:db:orders-prod",
        ),
    ],
)
def test_aws_service_notifications_in_their_own_format(
    name: str, service: str, severity: str, status: str | None, resource: str
) -> None:
    parsed = event(via_sns((EVENTS / "sns" / name).read_text()))
    assert parsed.kind == "service_notification"
    assert (parsed.service, parsed.severity, parsed.status) == (service, severity, status)
    assert parsed.resources[0].id == resource
    assert parsed.region == "eu-west-1"


def test_backup_failure_and_success_share_a_key() -> None:
    failed = event(via_sns((EVENTS / "sns/backup-job-failed.txt").read_text()))
    completed = event(via_sns((EVENTS / "sns/backup-job-completed.txt").read_text()))
    assert failed.dedupe_key == completed.dedupe_key


def test_elastic_beanstalk_back_to_ok_resolves_the_environment() -> None:
    text = (EVENTS / "sns/elastic-beanstalk-health.txt").read_text()
    severe = event(via_sns(text))
    ok = event(via_sns(text.replace("from Ok to Severe", "from Severe to Ok")))
    assert ok.status == "resolved" and ok.dedupe_key == severe.dedupe_key


def test_plain_text_is_a_generic_notification_with_the_subject_and_the_text() -> None:
    text = (EVENTS / "sns/plain-text.txt").read_text()
    parsed = event(via_sns(text, subject="orders-api deploy"))

    assert parsed.kind == "notification"
    assert parsed.title == "orders-api deploy"
    assert "3 failing smoke tests" in parsed.summary
    assert parsed.raw == text
    assert (parsed.account_id, parsed.region) == ("123456789012", "eu-west-1")


def test_plain_text_without_subject_is_titled_by_its_first_line() -> None:
    parsed = event(via_sns("\n\n  disk almost full on build-3\nmore detail"))
    assert parsed.title == "disk almost full on build-3"


def test_identical_messages_share_a_key_and_different_ones_do_not() -> None:
    one, again = event(via_sns("hello", "s")), event(via_sns("hello", "s"))
    other = event(via_sns("hello there", "s"))
    assert one.dedupe_key == again.dedupe_key != other.dedupe_key


@pytest.mark.parametrize("message", ["[1, 2]", '"ALARM"', "42", "null", ""])
def test_json_that_is_no_object_is_read_as_text(message: str) -> None:
    parsed = event(via_sns(message, subject="odd"))
    assert parsed.kind == "notification" and parsed.raw == message


def test_unknown_json_is_a_generic_notification_with_a_readable_excerpt() -> None:
    parsed = event(via_sns((EVENTS / "sns/unknown-json.json").read_text(), "nightly export"))
    assert parsed.kind == "notification"
    assert parsed.title == "nightly export"
    assert '"rows_exported": 182733' in parsed.summary


def test_an_unknown_eventbridge_event_is_a_notification_naming_source_and_type() -> None:
    payload = {
        "version": "0",
        "id": "e-1",
        "detail-type": "Inspector2 Finding",
        "source": "aws.inspector2",
        "account": "123456789012",
        "time": "2026-03-14T09:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:ecr:eu-west-1:123456789012:repository/orders"],
        "detail": {"severity": "HIGH"},
    }
    parsed = event(parse_subject(AlarmEnvelope(source="eventbridge", payload=payload)))
    assert parsed.kind == "notification"
    assert parsed.title == "Inspector2 Finding (aws.inspector2)"
    assert ("Resources", "arn:aws:ecr:eu-west-1:123456789012:repository/orders") in parsed.facts


def test_a_known_event_with_fields_missing_still_says_what_it_is() -> None:
    payload = json.loads((EVENTS / "eventbridge/guardduty-finding.json").read_text())
    for field in ("title", "type", "accountId", "severity", "updatedAt"):
        payload["detail"][field] = ""
    payload["account"] = ""
    parsed = event(parse_subject(AlarmEnvelope(source="eventbridge", payload=payload)))
    assert parsed.kind == "guardduty_finding"
    assert (parsed.title, parsed.account_id) == ("unknown finding type", "unknown")
    assert (parsed.severity, parsed.source_severity) == ("medium", "")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from([*sorted(PARSERS), ("aws.rds", "RDS DB Instance Event")]),
    detail=JSON,
    extra=st.dictionaries(st.sampled_from(["account", "region", "time", "id"]), JSON),
)
def test_no_event_of_a_known_source_fails_whatever_its_detail(
    kind: tuple[str, str], detail: Any, extra: dict[str, Any]
) -> None:
    payload = {"source": kind[0], "detail-type": kind[1], "detail": detail, **extra}
    parsed = event(parse_subject(AlarmEnvelope(source="eventbridge", payload=payload)))
    assert parsed.title and parsed.dedupe_key and parsed.account_id
    json.dumps(parsed.model_dump(mode="json"))


def test_an_unreadable_alarm_becomes_a_notification_saying_why() -> None:
    payload = json.loads((EVENTS / "sns/alarm-metric-alarm.json").read_text())
    del payload["NewStateValue"]
    parsed = event(parse_subject(AlarmEnvelope(source="sns", payload=payload, sns=SNS)))
    assert parsed.kind == "notification"
    assert "not readable as an alarm" in dict(parsed.facts)["Note"]


def test_a_cloudwatch_alarm_through_sns_is_still_an_alarm() -> None:
    payload = json.loads((EVENTS / "sns/alarm-metric-alarm.json").read_text())
    parsed = parse_subject(AlarmEnvelope(source="sns", payload=payload, sns=SNS))
    assert isinstance(parsed, Alarm) and parsed.name == "api-5xx-errors-high"


def test_an_eventbridge_alarm_forwarded_through_sns_is_an_alarm() -> None:
    payload = json.loads((EVENTS / "eventbridge/alarm-metric-alarm.json").read_text())
    parsed = parse_subject(AlarmEnvelope(source="sns", payload=payload, sns=SNS))
    assert isinstance(parsed, Alarm) and parsed.source == "eventbridge"


# ---- alarm regions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("US (Virginia)", "us-east-1"),
        ("US (N. Virginia)", "us-east-1"),
        ("US (Ohio)", "us-east-2"),
        ("US (Oregon)", "us-west-2"),
        ("US (N. California)", "us-west-1"),
        ("Europe (Ireland)", "eu-west-1"),
    ],
)
def test_region_display_names(name: str, code: str) -> None:
    assert region_code(name) == code


def test_an_alarm_without_arn_and_a_display_name_region_maps_the_name() -> None:
    payload = json.loads((EVENTS / "sns/cloudwatch-alarm-display-region.json").read_text())
    parsed = parse_subject(AlarmEnvelope(source="sns", payload=payload, sns=SNS))
    assert isinstance(parsed, Alarm)
    assert (parsed.region, parsed.arn) == ("us-east-1", None)


def test_an_alarm_without_arn_and_an_unknown_region_takes_the_topics_region() -> None:
    payload = json.loads((EVENTS / "sns/cloudwatch-alarm-unknown-region.json").read_text())
    parsed = parse_subject(AlarmEnvelope(source="sns", payload=payload, sns=SNS))
    assert isinstance(parsed, Alarm)
    assert parsed.region == "eu-west-1"


def test_samples_directory_has_no_stray_files() -> None:
    names = {p.name for p in (EVENTS / "sns").iterdir()} | {
        p.name for p in (EVENTS / "eventbridge").iterdir()
    }
    assert all(Path(n).suffix in (".json", ".txt") for n in names)


@pytest.mark.parametrize("time", [1e30, -1e30, 1773480000, 1773480000000, "not a time", None])
def test_an_event_time_of_any_shape_gives_a_time(time: Any) -> None:
    payload = json.loads((EVENTS / "eventbridge/glue-job-failed.json").read_text())
    payload["time"] = time
    parsed = event(parse_subject(AlarmEnvelope(source="eventbridge", payload=payload)))
    assert parsed.kind == "glue_job"
    if time in (1773480000, 1773480000000):
        assert parsed.updated_at == datetime.fromtimestamp(1773480000, UTC)


def test_a_huge_event_keeps_the_start_of_its_raw_text_only() -> None:
    payload = json.loads((EVENTS / "eventbridge/securityhub-finding-imported.json").read_text())
    payload["detail"]["findings"][0]["ProductFields"]["blob"] = "x" * 200_000
    parsed = event(parse_subject(AlarmEnvelope(source="eventbridge", payload=payload)))

    assert isinstance(parsed.raw, str) and len(parsed.raw) < 33_000
    assert parsed.raw.endswith("characters in all)")
    assert parsed.title.startswith("S3.8")  # parsed from the whole event
    assert len(json.dumps(parsed.model_dump(mode="json"))) < 40_000
