"""The ``opswire`` command as a user runs it: a subprocess, from the repository root."""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.local

SNS_ALARM = "events/sns/alarm-metric-alarm.json"
SNS_RESOLVED = "events/sns/alarm-metric-resolved.json"
SNS_MATH = "events/sns/alarm-metric-math.json"
ACTION_ALARM = "events/lambda-action/alarm-metric-alarm.json"
CLI_TIMEOUT = 120


def _opswire_command() -> list[str]:
    script = shutil.which("opswire", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "opswire_cli.cli"]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def cli_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSWIRE_", "AWS_"))}
    env["OPSWIRE_STATE_DIR"] = str(state_dir)
    env["OPSWIRE_TIME_SCALE"] = "0.001"
    env["PYTHONUNBUFFERED"] = "1"
    # The code of this checkout, whichever checkout the venv was installed from.
    code = [str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT / "local"), str(REPO_ROOT / "cli")]
    env["PYTHONPATH"] = os.pathsep.join([*code, *filter(None, [env.get("PYTHONPATH")])])
    return env


def opswire(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_opswire_command(), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def json_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The whole of stdout must be one JSON object: handler logs go to the log file."""
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError as exc:  # pragma: no cover - the failure message
        pytest.fail(f"stdout is not one JSON object ({exc}):\n{result.stdout[:2000]}")
    return report


def channels(report: dict[str, Any]) -> list[str]:
    return sorted(n["channel"] for n in report["notifications"])


def settled(execution: dict[str, Any]) -> bool:
    """Finished well, or parked in a Wait state (an alarm's reminder), as the report tells."""
    return execution["status"] == "SUCCEEDED" or (
        execution["status"] == "RUNNING" and bool(execution.get("waiting_in"))
    )


# ---- local send ---------------------------------------------------------------------------------
def test_send_sns_json_prints_one_report_and_logs_to_the_state_dir(
    cli_env: dict[str, str], state_dir: Path
) -> None:
    result = opswire("local", "send", "sns:AlarmTopic", "-e", SNS_ALARM, "--json", env=cli_env)

    assert result.returncode == 0, result.stderr
    report = json_report(result)
    assert {"executions", "notifications", "http", "errors", "ok"} <= set(report)
    assert report["ok"] is True
    assert report["errors"] == []
    [execution] = report["executions"]
    assert settled(execution), execution
    assert execution["name"].startswith("sns-")
    assert channels(report) == ["email", "slack"]
    assert all("api-5xx-errors-high" in n["subject"] for n in report["notifications"])
    log = (state_dir / "local.log").read_text()
    assert "alarm parsed" in log
    assert len(log.splitlines()) >= 3


def test_send_delivers_repeated_events_in_order(cli_env: dict[str, str]) -> None:
    result = opswire(
        "local", "send", "sns:AlarmTopic",
        "-e", SNS_ALARM, "-e", SNS_ALARM, "-e", SNS_RESOLVED,
        "--json",
        env=cli_env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    report = json_report(result)
    assert [d["event_file"] for d in report["deliveries"]] == [SNS_ALARM, SNS_ALARM, SNS_RESOLVED]
    executions = report["executions"]
    assert len(executions) == 3
    assert all(settled(e) for e in executions), executions
    assert len({e["name"] for e in executions}) == 3
    for delivery, execution in zip(report["deliveries"], executions, strict=True):
        assert delivery["executions"] == [execution]
    # The first delivery raised the alarm, the repeat was a duplicate, the last one resolved it.
    first, repeat, last = report["deliveries"]
    assert sorted(n["channel"] for n in first["notifications"]) == ["email", "slack"]
    assert repeat["notifications"] == []
    assert {n["channel"] for n in last["notifications"]} == {"email", "slack"}
    assert all("ALARM" in n["subject"] for n in first["notifications"])
    assert "resolved" in json.dumps(last["notifications"]).lower()


def test_send_eventbridge_human_output_names_both_channels(cli_env: dict[str, str]) -> None:
    result = opswire(
        "local", "send", "eventbridge", "-e", "events/eventbridge/alarm-composite.json", env=cli_env
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("» eventbridge events/eventbridge/alarm-composite.json")
    [execution_line] = [line for line in lines if "AlarmHandlingStateMachine" in line]
    assert "✗" not in execution_line
    assert any(line.strip().startswith("→ slack") for line in lines)
    assert any(line.strip().startswith("→ email to ops@example.com") for line in lines)
    assert lines[-1] == "OK"
    assert "{" not in result.stdout.split("\n", 1)[0]  # no handler log line on stdout


def test_send_fails_with_exit_1_when_slack_keeps_failing(
    cli_env: dict[str, str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hooks/alarms", method="POST").respond_with_data(
        "internal_error", status=500
    )
    cli_env["OPSWIRE_SLACK_WEBHOOK_URL"] = httpserver.url_for("/hooks/alarms")

    result = opswire("local", "send", "sns:AlarmTopic", "-e", SNS_ALARM, "--json", env=cli_env)

    assert result.returncode == 1, result.stderr
    report = json_report(result)
    assert report["ok"] is False
    [execution] = report["executions"]
    assert execution["status"] == "FAILED"
    assert execution["error"] == "NotificationDeliveryFailed"
    # The outbox really forwarded to "Slack" (and the workflow retried it).
    assert len(httpserver.log) > 1
    assert all(json.loads(r.get_data())["text"] for r, _ in httpserver.log)


def test_send_with_an_unknown_source_fails_with_a_clear_error(cli_env: dict[str, str]) -> None:
    result = opswire("local", "send", "carrier-pigeon", "-e", SNS_ALARM, env=cli_env)

    assert result.returncode == 1
    assert "unknown SOURCE 'carrier-pigeon'" in result.stdout
    assert "sns:<TopicLogicalId>" in result.stdout
    assert result.stdout.splitlines()[-1] == "FAILED"
    assert "Traceback" not in result.stderr


def test_send_with_a_missing_event_file_says_which_file(cli_env: dict[str, str]) -> None:
    result = opswire("local", "send", "sns:AlarmTopic", "-e", "events/sns/nope.json", env=cli_env)

    assert result.returncode != 0
    assert "events/sns/nope.json" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


# ---- demo ---------------------------------------------------------------------------------------
def test_demo_json_runs_every_scenario_and_all_pass(cli_env: dict[str, str]) -> None:
    result = opswire("demo", "--json", env=cli_env)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    report = json_report(result)
    assert report["ok"] is True
    names = [s["name"] for s in report["scenarios"]]
    for behaviour in ("alarm fires", "EventBridge", "still in ALARM", "resolved", "flapping",
                      "acknowledged", "silenced", "GitHub push", "Approve in Slack"):  # fmt: skip
        assert any(behaviour in name for name in names), (behaviour, names)
    assert all(s["ok"] and s["problems"] == [] for s in report["scenarios"])


# ---- local up + send into it --------------------------------------------------------------------
def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def _wait_until_up(process: subprocess.Popen[str], state_file: Path, deadline: float) -> str:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"opswire local up exited with {process.returncode}")
        if state_file.is_file():
            try:
                url = str(json.loads(state_file.read_text())["url"])
                if _get(url + "/_opswire/health")[0] == 200:
                    return url
            except (ValueError, KeyError, OSError):
                pass  # half-written file or not serving yet
        time.sleep(0.1)
    pytest.fail("opswire local up did not answer within 60 s")


@pytest.fixture
def running_platform(
    request: pytest.FixtureRequest, cli_env: dict[str, str], state_dir: Path, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``opswire local up`` at the CLI's time scale; a test parametrizes ``time_scale`` (through
    ``indirect``) when it must not see timers fire between two of its commands."""
    time_scale = str(getattr(request, "param", cli_env["OPSWIRE_TIME_SCALE"]))
    output = (tmp_path / "up.out").open("w")
    process = subprocess.Popen(
        [*_opswire_command(), "local", "up", "--port", "0", "--time-scale", time_scale],
        cwd=REPO_ROOT,
        env=cli_env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = _wait_until_up(process, state_dir / "local-up.json", time.monotonic() + 60)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        output.close()


# Real time: at the CLI's 0.001 the first alarm's 60-minute reminder is due 3.6 s after it
# opened, which a busy machine can spend starting the second `opswire local send`.
@pytest.mark.parametrize("running_platform", [1.0], indirect=True)
def test_send_delivers_into_a_running_local_up(
    running_platform: tuple[subprocess.Popen[str], str],
    cli_env: dict[str, str],
    state_dir: Path,
    tmp_path: Path,
) -> None:
    process, url = running_platform
    assert url.startswith("http://127.0.0.1:")

    # Two SNS sends (two different alarms): both delivered, both notify.
    for event_file in (SNS_ALARM, SNS_MATH):
        result = opswire("local", "send", "sns:AlarmTopic", "-e", event_file, "--json", env=cli_env)
        assert result.returncode == 0, result.stderr
        report = json_report(result)
        assert report["ok"] is True
        [execution] = report["executions"]
        assert settled(execution), execution
        assert channels(report) == ["email", "slack"]
    outbox = (state_dir / "outbox.jsonl").read_text().splitlines()
    assert [json.loads(line)["channel"] for line in outbox] == ["slack", "slack"]

    # Proof that both sends reached the SAME platform: the alarm action's execution name is
    # derived from the alarm, so a second delivery finds the first execution and starts none.
    # A send that started a platform of its own would start a fresh execution every time.
    first = json_report(
        opswire("local", "send", "function:AlarmIngestFunction", "-e", ACTION_ALARM, "--json",
                env=cli_env)
    )  # fmt: skip
    second = json_report(
        opswire("local", "send", "function:AlarmIngestFunction", "-e", ACTION_ALARM, "--json",
                env=cli_env)
    )  # fmt: skip
    assert first["ok"] is True and second["ok"] is True
    [started] = first["executions"]
    assert settled(started), started
    assert second["executions"] == []
    [first_arn] = first["invocations"][0]["payload"]["executions"]
    assert second["invocations"][0]["payload"]["executions"] == [first_arn]
    assert first_arn.endswith(":" + started["name"])

    # An unknown route on the gateway is API Gateway's 404.
    status, body = _get(url + "/no/such/route")
    assert status == 404
    assert json.loads(body) == {"message": "Not Found"}

    # Ctrl-C stops it cleanly and forgets the address.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert not (state_dir / "local-up.json").exists()
    banner = (tmp_path / "up.out").read_text()
    assert f"opswire local platform on {url}" in banner
    assert "topic    sns:AlarmTopic" in banner


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def test_local_up_control_routes_need_the_run_token_and_json(
    running_platform: tuple[subprocess.Popen[str], str],
    cli_env: dict[str, str],
    state_dir: Path,
    tmp_path: Path,
) -> None:
    _process, url = running_platform
    state_file = state_dir / "local-up.json"
    assert state_file.stat().st_mode & 0o777 == 0o600
    token = json.loads(state_file.read_text())["token"]
    assert len(token) >= 40
    assert f"token {token}" in (tmp_path / "up.out").read_text()
    alarm = base64.b64encode((REPO_ROOT / SNS_ALARM).read_bytes()).decode()
    send = json.dumps({"source": "sns:AlarmTopic", "events": [{"body": alarm}]}).encode()
    as_json = {"Content-Type": "application/json"}
    plain = {"Content-Type": "text/plain"}

    # What a web page in the developer's browser could post, and what a guesser could.
    refused = [
        _post(url + "/_opswire/send", send, plain),
        _post(url + "/_opswire/send", send, as_json),
        _post(url + "/_opswire/send", send, {**as_json, "X-Opswire-Token": "x" + token}),
        _post(url + "/_opswire/send", send, {**plain, "X-Opswire-Token": token}),
        _post(url + "/_opswire/other", send, as_json),
    ]  # fmt: skip

    assert [status for status, _ in refused] == [401, 401, 401, 415, 401]
    assert "X-Opswire-Token" in json.loads(refused[0][1])["error"]
    assert not (state_dir / "outbox.jsonl").exists()  # nothing was delivered
    assert _get(url + "/_opswire/health")[0] == 200  # health stays open
    # The token and JSON: accepted (the CLI's own send below does exactly this).
    status, body = _post(url + "/_opswire/send", b"{}", {**as_json, "X-Opswire-Token": token})
    assert status == 400 and "not a send request" in json.loads(body)["error"]

    result = opswire("local", "send", "sns:AlarmTopic", "-e", SNS_ALARM, "--json", env=cli_env)

    assert result.returncode == 0, result.stderr
    assert channels(json_report(result)) == ["email", "slack"]
    assert len((state_dir / "outbox.jsonl").read_text().splitlines()) == 1
