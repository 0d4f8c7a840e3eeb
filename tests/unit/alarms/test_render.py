"""Slack and email rendering of a parsed Alarm, alone or as an incident message of each kind:
facts, colours, escaping, limits, buttons, threading subjects."""

import json
import re
from typing import Any

import pytest

from opswire.alarms.models.alarm import Alarm, TriggeringAlarm
from opswire.alarms.models.envelope import AlarmEnvelope, AlarmSource
from opswire.alarms.models.incident import NotificationKind
from opswire.alarms.parse import parse_alarm
from opswire.alarms.render import MessageContext, human_duration
from opswire.alarms.render_email import EMAIL_SUBJECT_MAX, render_alarm_email
from opswire.alarms.render_slack import (
    SLACK_FIELD_MAX,
    SLACK_HEADER_MAX,
    SLACK_MAX_FIELDS,
    SLACK_SECTION_TEXT_MAX,
    render_slack_message,
    render_slack_reply,
)
from opswire.channels.ports import EmailContent
from tests.conftest import EVENTS

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


# --- incidents: one message per kind ---------------------------------------------------------

INCIDENT_ID = "72bd97d3a3f45018a41be7c5-1"


def context(kind: NotificationKind = "opened", **changes: Any) -> MessageContext:
    fields: dict[str, Any] = {"kind": kind, "incident_id": INCIDENT_ID, "severity": "critical"}
    fields.update(changes)
    return MessageContext(**fields)


def test_without_a_context_the_message_is_the_plain_alarm_message() -> None:
    alarm = sample("sns/alarm-metric-alarm.json")
    plain = render_slack_message(alarm)
    opened = render_slack_message(alarm, context("opened"))

    assert opened["text"] == plain["text"]
    assert header_text(opened) == header_text(plain)
    assert len(blocks(opened)) == len(blocks(plain)) + 1  # the incident line


@pytest.mark.parametrize(
    ("relative", "kind", "color", "header"),
    [
        ("sns/alarm-metric-alarm.json", "opened", "#D00000", ":red_circle: ALARM"),
        ("eventbridge/alarm-metric-ok.json", "resolved", "#2EB886", ":white_check_mark: RESOLVED"),
        ("sns/alarm-metric-alarm.json", "flapping", "#E8912D", ":warning: FLAPPING"),
        ("sns/alarm-metric-alarm.json", "reminder", "#D00000", ":rotating_light: STILL IN ALARM"),
        (
            "sns/alarm-insufficient-data.json",
            "state_change",
            "#DAA038",
            ":large_yellow_circle: INSUFFICIENT_DATA",
        ),
    ],
)
def test_slack_colour_and_header_follow_the_kind(
    relative: str, kind: NotificationKind, color: str, header: str
) -> None:
    alarm = sample(relative)
    message = render_slack_message(alarm, context(kind))

    assert message["attachments"][0]["color"] == color
    assert header_text(message) == f"{header}: {alarm.name}"


def test_slack_resolved_says_how_long_it_lasted_and_names_the_incident() -> None:
    alarm = sample("eventbridge/alarm-metric-ok.json")
    message = render_slack_message(
        alarm, context("resolved", duration_seconds=1320, acknowledged_by="alice (Slack)")
    )

    assert message["text"] == "RESOLVED: api-5xx-errors-high in eu-west-1 after 22 min"
    status = blocks(message)[1]["text"]["text"]
    assert status.startswith("Resolved after 22 min: back to OK at 09:43:07 UTC.")
    assert "Acknowledged by alice (Slack)." in status
    assert f"Incident `{INCIDENT_ID}` · severity *critical*" in status


def test_slack_flapping_and_reminder_summaries() -> None:
    alarm = sample("sns/alarm-metric-alarm.json")
    flapping = render_slack_message(alarm, context("flapping", transitions=5))
    reminder = render_slack_message(
        alarm,
        context(
            "reminder",
            elapsed_seconds=2100,
            reminder_count=2,
            escalated_to=("lead@example.com",),
            paged=True,
        ),
    )

    assert "Flapping: 5 state changes in a short time, now ALARM." in all_text(flapping)
    assert reminder["text"] == "STILL IN ALARM: api-5xx-errors-high in eu-west-1 for 35 min"
    assert (
        "Still in ALARM for 35 min, not acknowledged (reminder 2). Escalated to "
        "lead@example.com. On-call paged." in all_text(reminder)
    )


def test_slack_mention_here_is_the_only_unescaped_markup() -> None:
    message = render_slack_message(
        hostile(sample("sns/alarm-metric-alarm.json")), context(mention_here=True)
    )

    assert message["text"].startswith("<!here> ALARM: &lt;script&gt;")
    for text in mrkdwn_texts(message):
        assert ESCAPED_MRKDWN.fullmatch(text.removeprefix("<!here> ")), text


def test_slack_acknowledge_button_only_while_acknowledgeable() -> None:
    alarm = sample("sns/alarm-metric-alarm.json")

    def ack_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            e
            for b in blocks(message)
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("action_id") == "acknowledge"
        ]

    [button] = ack_buttons(render_slack_message(alarm, context(ack_button=True)))
    assert button["value"] == INCIDENT_ID
    assert button["text"]["text"] == "Acknowledge"
    assert ack_buttons(render_slack_message(alarm, context())) == []
    assert (
        ack_buttons(render_slack_message(alarm, context(ack_button=True, acknowledged_by="bob")))
        == []
    )
    ok = sample("eventbridge/alarm-metric-ok.json")
    assert ack_buttons(render_slack_message(ok, context("resolved", ack_button=True))) == []


def test_slack_runbook_link_is_a_button_and_other_runbooks_are_escaped_text() -> None:
    alarm = sample("sns/alarm-metric-alarm.json")
    linked = render_slack_message(alarm, context(runbook="https://runbooks.example.com/5xx"))
    [actions] = [b for b in blocks(linked) if b["type"] == "actions"]
    assert [e.get("url") for e in actions["elements"]] == [
        alarm.console_url,
        "https://runbooks.example.com/5xx",
    ]

    text = render_slack_message(alarm, context(runbook="see <wiki> & page 4"))
    assert "*Runbook*\nsee &lt;wiki&gt; &amp; page 4" in mrkdwn_texts(text)


def test_slack_log_lines_are_escaped_and_cannot_close_their_code_block() -> None:
    message = render_slack_message(
        sample("sns/alarm-metric-alarm.json"),
        context(
            log_group="/aws/lambda/orders",
            log_lines=("ERROR <!channel> failed & retried", "x ``` y\nz"),
        ),
    )
    [logs] = [t for t in mrkdwn_texts(message) if t.startswith("*Recent log lines*")]

    assert logs == (
        "*Recent log lines* (`/aws/lambda/orders`)\n"
        "```ERROR &lt;!channel&gt; failed &amp; retried\nx ` ` ` y z```"
    )


def test_slack_thread_reply_is_one_escaped_line_about_the_change() -> None:
    alarm = hostile(sample("eventbridge/alarm-metric-ok.json"))
    reply = render_slack_reply(alarm, context("resolved", duration_seconds=90, reply=True))

    assert reply["text"].startswith(":white_check_mark: *RESOLVED*: Resolved after 1 min")
    assert ESCAPED_MRKDWN.fullmatch(reply["text"])


@pytest.mark.parametrize(
    "relative", sorted(p.relative_to(EVENTS).as_posix() for p in EVENTS.glob("*/alarm-*.json"))
)
@pytest.mark.parametrize("kind", ["opened", "state_change", "resolved", "flapping", "reminder"])
def test_every_sample_and_kind_renders_within_slack_limits(
    relative: str, kind: NotificationKind
) -> None:
    alarm = sample(relative)
    full = context(
        kind,
        duration_seconds=600,
        elapsed_seconds=600,
        reminder_count=1,
        runbook="https://runbooks.example.com/x",
        log_group="/aws/x",
        log_lines=("line",) * 5,
        ack_button=True,
    )
    message = render_slack_message(alarm, full)

    assert json.loads(json.dumps(message)) == message
    assert len(header_text(message)) <= SLACK_HEADER_MAX
    assert 1 <= len(field_texts(message)) <= SLACK_MAX_FIELDS
    for text in mrkdwn_texts(message):
        assert ESCAPED_MRKDWN.fullmatch(text), text
    reply = render_slack_reply(alarm, full)["text"]
    assert len(reply) <= SLACK_SECTION_TEXT_MAX
    # The one markup of a reply: the reason as a block quote on its own line.
    assert ESCAPED_MRKDWN.fullmatch(reply.replace("\n>", "\n")), reply


@pytest.mark.parametrize(
    ("kind", "reply", "subject"),
    [
        ("opened", False, "[ALARM] api-5xx-errors-high in eu-west-1"),
        ("flapping", False, "[ALARM] api-5xx-errors-high in eu-west-1"),
        ("resolved", False, "[RESOLVED] api-5xx-errors-high in eu-west-1"),
        ("resolved", True, "Re: [ALARM] api-5xx-errors-high in eu-west-1"),
        ("reminder", True, "Re: [ALARM] api-5xx-errors-high in eu-west-1"),
        ("state_change", True, "Re: [ALARM] api-5xx-errors-high in eu-west-1"),
    ],
)
def test_email_subject_by_kind_keeps_follow_ups_in_the_thread(
    kind: NotificationKind, reply: bool, subject: str
) -> None:
    email = render_alarm_email(sample("sns/alarm-metric-alarm.json"), context(kind, reply=reply))
    assert email.subject == subject


def test_email_incident_parts_carry_summary_runbook_ack_link_and_logs() -> None:
    email = render_alarm_email(
        sample("sns/alarm-metric-alarm.json"),
        context(
            runbook="https://runbooks.example.com/5xx",
            ack_url="https://api.example.com/incidents/i-1/ack?exp=1&sig=ab",
            log_group="/aws/lambda/orders",
            log_lines=("<b>ERROR</b> boom",),
        ),
    )

    assert "Went into ALARM at 09:21:07 UTC." in email.text
    assert f"Incident {INCIDENT_ID} · severity critical" in email.text
    assert "Acknowledge (stops reminders): https://api.example.com/incidents/i-1/ack" in email.text
    assert "Runbook: https://runbooks.example.com/5xx" in email.text
    assert "Recent log lines (/aws/lambda/orders):\n    <b>ERROR</b> boom" in email.text
    assert 'href="https://api.example.com/incidents/i-1/ack?exp=1&amp;sig=ab"' in email.html
    assert '<a href="https://runbooks.example.com/5xx"' in email.html
    assert "&lt;b&gt;ERROR&lt;/b&gt; boom" in email.html and "<b>ERROR" not in email.html


def test_email_offers_no_acknowledge_link_once_there_is_nothing_to_acknowledge() -> None:
    link = "https://api.example.com/incidents/i-1/ack?exp=1&sig=ab"
    resolved = render_alarm_email(
        sample("eventbridge/alarm-metric-ok.json"), context("resolved", ack_url=link)
    )
    acknowledged = render_alarm_email(
        sample("sns/alarm-metric-alarm.json"), context(ack_url=link, acknowledged_by="bob")
    )
    for email in (resolved, acknowledged):
        assert "incidents/i-1/ack" not in email.text + email.html
    assert "#2EB886" in resolved.html


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59, "59 s"), (60, "1 min"), (1320, "22 min"), (3600, "1 h"),
     (3900, "1 h 5 min"), (86400, "1 d"), (97200, "1 d 3 h"), (-5, "0 s")],
)  # fmt: skip
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text
