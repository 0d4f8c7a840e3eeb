"""Slack and email rendering of a parsed Alarm: facts, colours, escaping and limits."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from opswire.alarms import parse_alarm
from opswire.models.alarm import Alarm, TriggeringAlarm
from opswire.models.envelope import AlarmEnvelope, AlarmSource
from opswire.notifications.render import (
    EMAIL_SUBJECT_MAX,
    SLACK_FIELD_MAX,
    SLACK_HEADER_MAX,
    SLACK_MAX_FIELDS,
    SLACK_SECTION_TEXT_MAX,
    EmailContent,
    render_alarm_email,
    render_slack_message,
)

EVENTS = Path(__file__).parents[2] / "events"

# Text that is correctly escaped for Slack: no raw "<" or ">", and every "&" starts an entity.
ESCAPED_MRKDWN = re.compile(r"(?:[^&<>]|&amp;|&lt;|&gt;)*", re.DOTALL)


def sample(relative: str) -> Alarm:
    source: AlarmSource = relative.split("/", 1)[0]  # type: ignore[assignment]
    payload = json.loads((EVENTS / relative).read_text())
    return parse_alarm(AlarmEnvelope(source=source, payload=payload))


def blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    [attachment] = message["attachments"]
    result: list[dict[str, Any]] = attachment["blocks"]
    return result


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn string Slack will parse, including the fallback ``text``."""
    texts = [message["text"]]
    for block in blocks(message):
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                texts.append(obj["text"])
    return texts


def field_texts(message: dict[str, Any]) -> list[str]:
    return [f["text"] for block in blocks(message) for f in block.get("fields", [])]


def header_text(message: dict[str, Any]) -> str:
    [header] = [b for b in blocks(message) if b["type"] == "header"]
    text: str = header["text"]["text"]
    return text


def all_text(message: dict[str, Any]) -> str:
    return "\n".join([header_text(message), *mrkdwn_texts(message)])


def button_url(message: dict[str, Any]) -> str:
    [actions] = [b for b in blocks(message) if b["type"] == "actions"]
    [button] = actions["elements"]
    url: str = button["url"]
    return url


# --- Slack -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "color", "emoji"),
    [
        ("sns/alarm-metric-alarm.json", "#D00000", ":red_circle:"),
        ("sns/alarm-metric-ok.json", "#2EB886", ":large_green_circle:"),
        ("sns/alarm-insufficient-data.json", "#DAA038", ":large_yellow_circle:"),
    ],
)
def test_slack_colour_and_header_follow_the_state(relative: str, color: str, emoji: str) -> None:
    alarm = sample(relative)
    message = render_slack_message(alarm)

    assert message["attachments"][0]["color"] == color
    assert header_text(message) == f"{emoji} {alarm.state}: {alarm.name}"
    assert message["text"].startswith(f"{alarm.state}: {alarm.name} in {alarm.region}")


def test_slack_metric_alarm_carries_every_fact() -> None:
    alarm = sample("sns/alarm-metric-alarm.json")
    message = render_slack_message(alarm)
    fields = field_texts(message)

    assert "*State*\nALARM (was OK)" in fields
    assert "*Alarm*\napi-5xx-errors-high" in fields
    assert "*Account / region*\n123456789012 / eu-west-1" in fields
    assert "*Changed at*\n2026-03-14 09:21:07 UTC" in fields
    assert (
        "*Metric*\nAWS/ApiGateway 5XXError (ApiName=orders-api, Stage=prod) · Sum over 1 min"
        in fields
    )
    assert "*Threshold*\n&gt;= 5 (GreaterThanOrEqualToThreshold), 2 of 3 datapoints" in fields
    assert "*Recent datapoints*\n9, 3, 17" in fields
    text = all_text(message)
    assert "Threshold Crossed: 2 out of the last 3 datapoints" in text
    assert "Runbook: https://wiki.example.com/runbooks/orders-api-5xx" in text
    assert button_url(message) == alarm.console_url


def test_slack_ok_message_says_what_it_recovered_from() -> None:
    message = render_slack_message(sample("eventbridge/alarm-metric-ok.json"))

    assert "*State*\nOK (was ALARM)" in field_texts(message)
    assert message["text"] == "OK: api-5xx-errors-high in eu-west-1 (was ALARM)"


def test_slack_metric_math_shows_the_expression_and_its_inputs() -> None:
    fields = field_texts(render_slack_message(sample("eventbridge/alarm-metric-math.json")))

    assert "*Expression*\n100 * errors / requests" in fields
    inputs = next(f for f in fields if f.startswith("*Inputs*"))
    assert "errors = AWS/ApiGateway 5XXError" in inputs
    assert "requests = AWS/ApiGateway Count" in inputs
    assert "*Threshold*\n2" in fields  # EventBridge carries no operator: shown bare


def test_slack_anomaly_alarm_shows_the_band_not_a_threshold() -> None:
    fields = field_texts(render_slack_message(sample("sns/alarm-anomaly-detection.json")))

    threshold = next(f for f in fields if f.startswith("*Threshold*"))
    assert "anomaly band ad1" in threshold
    assert "ANOMALY_DETECTION_BAND(m1, 2)" in threshold
    assert "LessThanLowerOrGreaterThanUpperThreshold" in threshold
    assert any(f.startswith("*Metric*\nAWS/ApiGateway Latency") for f in fields)


def test_slack_anomaly_alarm_shows_the_latest_expected_band() -> None:
    fields = field_texts(render_slack_message(sample("eventbridge/alarm-anomaly-detection.json")))

    assert any("expected 91.2 to 231.7" in f for f in fields)


def test_slack_composite_alarm_shows_rule_and_triggering_alarms() -> None:
    fields = field_texts(render_slack_message(sample("lambda-action/alarm-composite.json")))

    assert (
        '*Alarm rule*\nALARM("api-5xx-rate-high") AND ALARM("checkout-latency-p99-high")' in fields
    )
    assert (
        "*Triggering alarms*\n• api-5xx-rate-high (ALARM)\n• checkout-latency-p99-high (ALARM)"
        in fields
    )
    assert "*Actions suppressed*\nActions suppressed by WaitPeriod" in fields
    assert not any(f.startswith("*Threshold*") for f in fields)


def test_slack_shows_tags() -> None:
    fields = field_texts(render_slack_message(sample("eventbridge/alarm-tags.json")))

    assert "*Tags*\nenv=prod, severity=critical, team=payments" in fields


@pytest.mark.parametrize(
    "relative", sorted(p.relative_to(EVENTS).as_posix() for p in EVENTS.glob("*/alarm-*.json"))
)
def test_every_sample_renders_within_slack_limits(relative: str) -> None:
    message = render_slack_message(sample(relative))

    assert json.loads(json.dumps(message)) == message
    assert len(header_text(message)) <= SLACK_HEADER_MAX
    assert 1 <= len(field_texts(message)) <= SLACK_MAX_FIELDS
    for text in mrkdwn_texts(message):
        assert ESCAPED_MRKDWN.fullmatch(text), text


HOSTILE_NAME = "<script>alert(1)</script> & <!channel>"
HOSTILE_REASON = "Ping <!here> & see <https://evil.example|the docs> > now"


def hostile(alarm: Alarm) -> Alarm:
    return alarm.model_copy(
        update={
            "name": HOSTILE_NAME,
            "reason": HOSTILE_REASON,
            "description": "<b>bold</b> & co",
            "tags": {"owner": "<@U123>"},
        }
    )


def test_slack_escapes_alarm_provided_text() -> None:
    message = render_slack_message(hostile(sample("sns/alarm-metric-alarm.json")))

    for text in mrkdwn_texts(message):
        assert ESCAPED_MRKDWN.fullmatch(text), text
    joined = "\n".join(mrkdwn_texts(message))
    assert "<!channel>" not in joined and "<!here>" not in joined and "<script>" not in joined
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in joined
    assert "Ping &lt;!here&gt; &amp; see &lt;https://evil.example|the docs&gt; &gt; now" in joined
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in joined
    assert "*Tags*\nowner=&lt;@U123&gt;" in field_texts(message)


def test_slack_console_link_quotes_the_alarm_name() -> None:
    message = render_slack_message(hostile(sample("sns/alarm-metric-alarm.json")))

    assert button_url(message).endswith(
        "#alarmsV2:alarm/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%20%26%20%3C%21channel%3E"
    )


def test_slack_truncates_long_text_at_the_block_kit_limits() -> None:
    base = sample("sns/alarm-composite.json")
    children = tuple(
        TriggeringAlarm(arn=f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:c{i}", name=f"c{i}")
        for i in range(400)
    )
    alarm = base.model_copy(
        update={
            "name": "n" * 255,
            "reason": "&" * 4000,
            "description": "d<" * 2000,
            "alarm_rule": " OR ".join(f'ALARM("child-{i}")' for i in range(300)),
            "triggering_alarms": children,
            "tags": {f"key{i}": "v&" * 40 for i in range(50)},
        }
    )

    message = render_slack_message(alarm)
    header = header_text(message)
    sections = [
        b["text"]["text"] for b in blocks(message) if b["type"] == "section" and "text" in b
    ]
    fields = field_texts(message)

    assert len(header) == SLACK_HEADER_MAX and header.endswith("…")
    assert len(sections) == 2
    for text in sections:
        assert len(text) <= SLACK_SECTION_TEXT_MAX and text.endswith("…")
        assert ESCAPED_MRKDWN.fullmatch(text.removesuffix("…")), "entity cut in half"
    assert len(fields) <= SLACK_MAX_FIELDS
    long_fields = [f for f in fields if f.endswith("…")]
    assert {f.split("\n", 1)[0] for f in long_fields} == {
        "*Alarm rule*",
        "*Triggering alarms*",
        "*Tags*",
    }
    for text in fields:
        assert len(text) <= SLACK_FIELD_MAX
        assert ESCAPED_MRKDWN.fullmatch(text.removesuffix("…")), "entity cut in half"


# --- email -----------------------------------------------------------------------------------


def test_email_subject_and_parts_carry_the_facts() -> None:
    alarm = sample("sns/alarm-metric-alarm.json")
    email = render_alarm_email(alarm)

    assert isinstance(email, EmailContent)
    assert email.subject == "[ALARM] api-5xx-errors-high in eu-west-1"
    for part in (email.text, email.html):
        assert "api-5xx-errors-high" in part
        assert "ALARM (was OK)" in part
        assert "123456789012 / eu-west-1" in part
        assert "AWS/ApiGateway 5XXError (ApiName=orders-api, Stage=prod)" in part
        assert "GreaterThanOrEqualToThreshold" in part
        assert "Threshold Crossed: 2 out of the last 3 datapoints" in part
        assert "Runbook: https://wiki.example.com/runbooks/orders-api-5xx" in part
    assert f"Open in the CloudWatch console: {alarm.console_url}" in email.text
    assert f'<a href="{alarm.console_url}"' in email.html
    assert "#D00000" in email.html


@pytest.mark.parametrize(
    ("relative", "subject"),
    [
        ("sns/alarm-metric-ok.json", "[OK] orders-db-cpu-high in us-east-1"),
        (
            "sns/alarm-insufficient-data.json",
            "[INSUFFICIENT_DATA] checkout-latency-p99-high in eu-west-1",
        ),
        ("eventbridge/alarm-composite.json", "[ALARM] orders-service-degraded in eu-west-1"),
    ],
)
def test_email_subject_by_state(relative: str, subject: str) -> None:
    assert render_alarm_email(sample(relative)).subject == subject


def test_email_composite_lists_rule_and_children() -> None:
    email = render_alarm_email(sample("sns/alarm-composite.json"))

    assert 'ALARM("api-5xx-rate-high") AND ALARM("checkout-latency-p99-high")' in email.text
    assert "• api-5xx-rate-high (ALARM)" in email.text
    assert "• checkout-latency-p99-high (ALARM)" in email.html
    assert "ALARM(&quot;api-5xx-rate-high&quot;)" in email.html


def test_email_html_escapes_alarm_provided_text() -> None:
    email = render_alarm_email(hostile(sample("sns/alarm-metric-alarm.json")))

    assert "<script>" not in email.html and "<b>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in email.html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in email.html
    assert "see &lt;https://evil.example|the docs&gt; &gt; now" in email.html
    # the plain-text part is not HTML: it keeps the text as it is
    assert HOSTILE_REASON in email.text


@pytest.mark.parametrize(
    "name", ["line\nbreak", "carriage\rreturn", "tab\tand\u2028separator", "x" * 500]
)
def test_email_subject_is_one_bounded_line(name: str) -> None:
    alarm = sample("sns/alarm-metric-alarm.json").model_copy(update={"name": name})
    subject = render_alarm_email(alarm).subject

    assert len(subject) <= EMAIL_SUBJECT_MAX
    assert not re.search(r"[\r\n\t\u2028\u2029]", subject)
    assert subject.startswith("[ALARM] ") and subject.endswith(" in eu-west-1")
    assert header_text(render_slack_message(alarm)).count("\n") == 0


def test_an_alarm_with_every_optional_fact_stays_within_ten_fields() -> None:
    alarm = sample("eventbridge/alarm-metric-math.json").model_copy(
        update={
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": 3,
            "datapoints_to_alarm": 2,
            "actions_suppressed_by": "Alarm",
            "tags": {"team": "orders"},
        }
    )
    fields = field_texts(render_slack_message(alarm))

    assert len(fields) == SLACK_MAX_FIELDS
    assert "*Threshold*\n&gt; 2 (GreaterThanThreshold), 2 of 3 datapoints" in fields
    assert "*Actions suppressed*\nby Alarm" in fields
    assert "*Tags*\nteam=orders" in fields
