"""The checks of ``opswire doctor``: pure functions from facts (opswire_cli.doctor_facts) to
results. Nothing here talks to AWS or prints a secret value."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from opswire_cli.doctor_facts import (
    AlarmFacts,
    CheckResult,
    DoctorFacts,
    GitHubFacts,
    SecretFacts,
    SesFacts,
    SlackFacts,
    StackFacts,
    TopicFacts,
    result,
    secret_problem,
    unreadable,
)
from opswire_cli.doctor_reach import check_opensearch, check_rotation_network
from opswire_cli.slack_manifest import WEB_API_SCOPES

SANDBOX_MAX_24H_SEND = 200.0
SLACK_WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
_VERIFIED = "Success"


def run_checks(facts: DoctorFacts) -> list[CheckResult]:
    results = [check_stack(facts.stack)]
    results += check_ses(facts.ses)
    results.append(check_failure_subscriptions(facts.failure_topic))
    results += check_slack(facts.slack)
    results.append(check_github_secret(facts.github))
    results.append(check_opensearch(facts.opensearch))
    results += check_alarm_actions(facts.alarms)
    results.append(check_rotation_network(facts.rotation))
    return results


# ---- 0. the stack itself -------------------------------------------------------------------------
def check_stack(stack: StackFacts) -> CheckResult:
    status, name = stack.status, stack.name
    if status.endswith("_FAILED") or status in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE"):
        return result(
            "stack",
            "fail",
            f"stack {name} is {status}",
            "read the stack events (aws cloudformation describe-stack-events), fix, deploy again",
        )
    if status.endswith("ROLLBACK_COMPLETE"):  # UPDATE_ / IMPORT_ROLLBACK_COMPLETE
        return result(
            "stack", "warn", f"stack {name} is {status}", "the last update did not apply: see the "
            "stack events (aws cloudformation describe-stack-events)",
        )  # fmt: skip
    if status.endswith("_IN_PROGRESS"):
        return result(
            "stack", "warn", f"stack {name} is {status}", "run the doctor again once it is done"
        )
    if stack.settings_error:
        return result(
            "stack", "fail", f"stack settings: {stack.settings_error}",
            f"opswire config show --stack {name}; fix it with opswire config set / unset",
        )  # fmt: skip
    return result("stack", "ok", f"stack {name} is {status}")


# ---- 1. SES --------------------------------------------------------------------------------------
def identity_verified(address: str, identity_status: dict[str, str]) -> bool:
    """The address, or the domain of the address, is a verified SES identity."""
    domain = address.rpartition("@")[2].lower()
    return _VERIFIED in (identity_status.get(address), identity_status.get(domain))


def _status_of(address: str, identity_status: dict[str, str]) -> str:
    domain = address.rpartition("@")[2].lower()
    return identity_status.get(address) or identity_status.get(domain) or "never requested"


def in_sandbox(ses: SesFacts) -> tuple[bool, str]:
    """(in the sandbox, how we know). Without GetAccount, a 24-hour quota of 200 is the
    sandbox's; unknown counts as the sandbox (the stricter rule)."""
    if ses.production_access is not None:
        how = "sesv2 GetAccount: ProductionAccessEnabled=" + str(ses.production_access).lower()
        return (not ses.production_access, how)
    unavailable = f"GetAccount unavailable: {ses.account_note or 'no answer'}"
    quota = ses.max_24h_send
    if quota is None:
        return (True, f"assumed; {unavailable}")
    return (
        quota <= SANDBOX_MAX_24H_SEND,
        f"Max24HourSend={quota:g} from GetSendQuota, {SANDBOX_MAX_24H_SEND:g} suggests the "
        f"sandbox; {unavailable}",
    )


def check_ses(ses: SesFacts) -> list[CheckResult]:
    if ses.error:
        return [unreadable("ses-sender", "SES identities", ses.error)]
    verify = "aws ses verify-email-identity --email-address {}"
    if not ses.sender:
        sender = result("ses-sender", "fail", "SenderEmail is empty", "deploy with SenderEmail")
    elif identity_verified(ses.sender, ses.identity_status):
        sender = result("ses-sender", "ok", f"{ses.sender} is a verified SES identity")
    else:
        sender = result(
            "ses-sender",
            "fail",
            f"sender {ses.sender} is not verified in SES "
            f"({_status_of(ses.sender, ses.identity_status)}): no email can be sent",
            f"{verify.format(ses.sender)} and click the link in the email, or verify the domain",
        )
    return [sender, _check_recipients(ses)]


def _check_recipients(ses: SesFacts) -> CheckResult:
    sandbox, how = in_sandbox(ses)
    how = f" ({how})" if how else ""
    if not sandbox:
        return result("ses-recipients", "ok", f"SES production access{how}: any recipient")
    unverified = [r for r in ses.recipients if not identity_verified(r, ses.identity_status)]
    if unverified:
        return result(
            "ses-recipients",
            "fail",
            f"SES sandbox{how}: these AlertEmail recipients are not verified and get no email: "
            + ", ".join(unverified),
            "verify each (aws ses verify-email-identity --email-address ADDRESS) or request "
            "production access (SES console -> Account dashboard -> Request production access)",
        )
    return result(
        "ses-recipients",
        "ok",
        f"SES sandbox{how}: all {len(ses.recipients)} AlertEmail recipients are verified",
    )


# ---- 2. WorkflowFailureTopic email subscriptions -------------------------------------------------
def check_failure_subscriptions(topic: TopicFacts | None) -> CheckResult:
    name = "failure-subscription"
    if topic is None:
        return result(name, "warn", "the stack has no WorkflowFailureTopicArn output")
    if topic.error:
        return unreadable(name, f"the subscriptions of {topic.topic_arn}", topic.error)
    emails = [s for s in topic.subscriptions if s.protocol == "email"]
    pending = [s.endpoint for s in emails if s.pending]
    if pending:
        return result(
            name,
            "fail",
            "workflow-failure email subscription not confirmed (PendingConfirmation): "
            + ", ".join(pending),
            "; ".join(
                f"confirm the email sent to {a} (subject 'AWS Notification - "
                "Subscription Confirmation')"
                for a in pending
            )
            + "; or resend: aws sns subscribe --topic-arn "
            + f"{topic.topic_arn} --protocol email --notification-endpoint ADDRESS",
        )
    if not emails:
        return result(
            name,
            "fail",
            "nobody receives workflow-failure reports (no email subscription)",
            f"aws sns subscribe --topic-arn {topic.topic_arn} --protocol email "
            "--notification-endpoint ADDRESS, then confirm the email",
        )
    confirmed = ", ".join(s.endpoint for s in emails)
    return result(name, "ok", f"workflow failures are emailed to {confirmed} (confirmed)")


# ---- 3. Slack ------------------------------------------------------------------------------------
def check_slack(slack: SlackFacts) -> list[CheckResult]:
    results = [_check_webhook(slack.webhook)]
    if slack.app is not None:
        results.append(_check_slack_app(slack))
    return results


def _check_webhook(secret: SecretFacts) -> CheckResult:
    purpose = "rotation and provisioning notices (and alarms in webhook mode) cannot reach Slack"
    problem = secret_problem("slack-webhook", secret, purpose)
    if problem is not None:
        return problem
    assert secret.value is not None
    parts = urlsplit(secret.value.get_secret_value().strip())
    fix = (
        "store the incoming-webhook URL (https://hooks.slack.com/services/...) as the plain "
        f"secret string: aws secretsmanager put-secret-value --secret-id {secret.name} "
        "--secret-string file://URL"
    )
    if parts.scheme != "https" or not parts.netloc:
        return result(
            "slack-webhook", "fail", f"secret {secret.name} does not hold an https URL", fix
        )
    if parts.hostname not in SLACK_WEBHOOK_HOSTS or not parts.path.startswith("/services/"):
        return result(
            "slack-webhook",
            "warn",
            f"secret {secret.name} holds an https URL of {parts.hostname}, not a Slack "
            "incoming webhook (hooks.slack.com/services/...)",
            fix,
        )
    return result("slack-webhook", "ok", f"secret {secret.name} holds a {parts.hostname} URL")


def _check_slack_app(slack: SlackFacts) -> CheckResult:
    from opswire.channels.factory import missing_slack_app_field

    assert slack.app is not None
    secret = slack.app
    problem = secret_problem("slack-app", secret, "alarms cannot be posted by the Slack app")
    if problem is not None:
        return problem
    assert secret.value is not None
    missing = missing_slack_app_field(secret.value.get_secret_value())
    fix_json = (
        f"put-secret-value --secret-id {secret.name} with JSON "
        '{"bot_token": "xoxb-...", "signing_secret": "..."} (Slack app -> OAuth & Permissions, '
        "Basic Information)"
    )
    if missing == "bot_token":
        return result(
            "slack-app", "fail", f"secret {secret.name} is not JSON with a bot_token", fix_json
        )
    if missing == "signing_secret":
        return result(
            "slack-app",
            "fail",
            f"secret {secret.name} has no signing_secret: every button click is refused",
            fix_json,
        )
    return _check_auth_test(slack)


def _check_auth_test(slack: SlackFacts) -> CheckResult:
    answer = slack.auth_test
    url = slack.api_url.rstrip("/") + "/auth.test"
    if answer is None or answer.status is None:
        reason = answer.error if answer else "not called"
        return result(
            "slack-app",
            "fail",
            f"Slack API {url} could not be reached: {reason}",
            "check SlackApiUrl (default https://slack.com/api/) and the network",
        )
    body = answer.body if isinstance(answer.body, dict) else {}
    if not body.get("ok"):
        error = body.get("error") or f"HTTP {answer.status}"
        return result(
            "slack-app",
            "fail",
            f"Slack auth.test with the bot token failed: {error}",
            "copy the Bot User OAuth Token (xoxb-...) of the installed app into the secret; "
            "reinstall the app if the token was revoked",
        )
    who = f"team {body.get('team', '?')}, bot user {body.get('user', '?')}"
    granted_header = answer.headers.get("x-oauth-scopes")
    if granted_header is None:
        return result("slack-app", "ok", f"auth.test ok ({who}); scopes not reported")
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    needed = {s for scopes in WEB_API_SCOPES.values() for s in scopes}
    missing = sorted(needed - granted)
    if not missing:
        return result("slack-app", "ok", f"auth.test ok ({who}), all bot scopes granted")
    return result(
        "slack-app",
        "fail" if "chat:write" in missing else "warn",
        f"auth.test ok ({who}) but the token lacks scopes: {', '.join(missing)}",
        "add them (opswire slack manifest prints the full list) and reinstall the app",
    )


# ---- 4. GitHub webhook secret --------------------------------------------------------------------
def check_github_secret(github: GitHubFacts) -> CheckResult:
    purpose = "every GitHub webhook delivery is refused"
    problem = secret_problem("github-webhook-secret", github.secret, purpose)
    if problem is None:
        return result("github-webhook-secret", "ok", f"secret {github.secret.name} holds a value")
    if problem.status == "fail" and github.deploy_rules == 0:
        # No repository deploys through opswire: nothing is lost yet.
        return problem.model_copy(
            update={
                "status": "warn",
                "detail": problem.detail + " (deployments unused: the deploy config has no rules)",
            }
        )
    return problem


# ---- 6. Alarms that notify opswire ---------------------------------------------------------------
def _targets_opswire(actions: list[str], alarms: AlarmFacts) -> bool:
    function = alarms.function_arn
    return any(
        a == alarms.topic_arn or (function and (a == function or a.startswith(function + ":")))
        for a in actions
    )


def check_alarm_actions(alarms: AlarmFacts | None) -> list[CheckResult]:
    name = "alarm-actions"
    if alarms is None:
        return [result(name, "warn", "the stack has no AlarmTopicArn output")]
    if alarms.error:
        return [unreadable(name, "CloudWatch alarms", alarms.error)]
    notifying = [a for a in alarms.alarms if _targets_opswire(a.alarm_actions, alarms)]
    enabled = [a for a in notifying if a.actions_enabled]
    disabled = len(notifying) - len(enabled)
    note = f" ({disabled} more with actions disabled)" if disabled else ""
    if not enabled:
        example = (
            f"e.g. aws cloudwatch put-metric-alarm --alarm-name NAME ... "
            f"--alarm-actions {alarms.topic_arn} --ok-actions {alarms.topic_arn}"
        )
        return [
            result(
                name,
                "warn",
                f"no alarm notifies opswire{note}",
                f"add the topic to alarm actions: {example}",
            )
        ]
    results = [result(name, "ok", f"alarms notifying opswire: {len(enabled)}{note}")]
    no_ok = [a.name for a in enabled if not _targets_opswire(a.ok_actions, alarms)]
    if no_ok:
        shown = ", ".join(no_ok[:5]) + (f" and {len(no_ok) - 5} more" if len(no_ok) > 5 else "")
        results.append(
            result(
                "alarm-ok-actions",
                "warn",
                f"alarms telling opswire about ALARM but not OK (their incidents are never "
                f"resolved): {len(no_ok)}: {shown}",
                f"add --ok-actions {alarms.topic_arn} to these alarms",
            )
        )
    return results


def as_json(stack: StackFacts, results: list[CheckResult]) -> str:
    document = {
        "stack": stack.name,
        "region": stack.region,
        "ok": not any(r.status == "fail" for r in results),
        "checks": [r.model_dump() for r in results],
    }
    return json.dumps(document, indent=2)
