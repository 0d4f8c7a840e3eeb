"""Log shipping through the local platform: `logs:` deliveries into the NDJSON sink or into
OPENSEARCH_ENDPOINT, the CreateLogGroup rule, dead letters in the stack's bucket, and the
`opswire logs` commands."""

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from pytest_httpserver import HTTPServer

from opswire_cli.cli import main
from opswire_local.platform import REGION, LocalPlatform
from tests.conftest import EVENTS
from tests.fakes.opensearch import FakeOpenSearch
from tests.local.conftest import PlatformFactory, served

DEMO_GROUP = "/opswire-local/demo"


def sample(name: str) -> bytes:
    return (EVENTS / "cwlogs" / name).read_bytes()


@pytest.fixture
def opensearch(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenSearch]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeOpenSearch()
    fake.install(server)
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", server.url_for("/").rstrip("/"))
    monkeypatch.delenv("OPENSEARCH_AUTH", raising=False)
    yield fake
    server.stop()


def last_json_document(output: str) -> dict[str, object]:
    """The CLI's indented JSON answer; handlers invoked in-process print their log lines first."""
    start = 0 if output.startswith("{\n") else output.rindex("\n{\n") + 1
    document: dict[str, object] = json.loads(output[start:])
    return document


def dead_letter_records(platform: LocalPlatform) -> list[dict[str, object]]:
    s3 = boto3.client("s3", region_name=REGION)
    bucket = f"{platform.options.stack_name}-logdeadletterbucket"
    records = []
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        records.extend(json.loads(line) for line in body.splitlines())
    return records


def test_samples_go_to_the_local_sink_in_bulk_format(
    start_platform: PlatformFactory, tmp_path: Path
) -> None:
    platform = start_platform()

    structured = platform.send(f"logs:{DEMO_GROUP}", sample("powertools-structured.json"))
    lines = platform.send(f"logs:{DEMO_GROUP}", sample("lambda-platform-lines.json"))
    text = platform.send(f"logs:{DEMO_GROUP}", sample("plain-text.json"))

    assert structured.ok and lines.ok and text.ok
    assert [len(r.documents) for r in (structured, lines, text)] == [3, 4, 4]
    first = structured.documents[0]
    assert first["_index"].startswith("logs-opswire-local-demo-")
    assert first["document"]["level"] == "INFO"
    assert first["document"]["json"]["order_id"] == "o-1042"
    report = lines.documents[3]["document"]
    assert report["lambda"]["max_memory_used_mb"] == 91
    assert structured.invocation is not None
    assert structured.invocation["payload"]["indexed"] == 3
    sink = (tmp_path / "state" / "opensearch-sink.ndjson").read_text().splitlines()
    assert len(sink) == 2 * (3 + 4 + 4)
    assert json.loads(sink[0])["index"]["_id"] == first["_id"]


def test_with_opensearch_endpoint_set_the_platform_ships_there(
    start_platform: PlatformFactory, opensearch: FakeOpenSearch, tmp_path: Path
) -> None:
    platform = start_platform()

    report = platform.send(f"logs:{DEMO_GROUP}", sample("powertools-structured.json"))

    assert report.ok and report.documents == []  # nothing in the sink
    assert not (tmp_path / "state" / "opensearch-sink.ndjson").exists()
    assert len(opensearch.documents) == 3
    assert {index for index, _ in opensearch.documents} == {
        report.invocation["payload"]["log_group"] and i
        for i, _ in opensearch.documents  # type: ignore[index]
    }
    assert "opswire-logs" in opensearch.templates


def test_dead_letters_land_in_the_stack_bucket_and_logs_replay_reships_them(
    start_platform: PlatformFactory, opensearch: FakeOpenSearch, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = start_platform()
    events = [json.dumps({"level": "INFO", "message": "m", "n": 1}),
              json.dumps({"level": "INFO", "message": "m", "n": "one"})]  # fmt: skip

    report = platform.send(f"logs:{DEMO_GROUP}", json.dumps(events).encode())

    assert report.invocation is not None
    assert report.invocation["payload"]["dead_lettered"] == 1
    assert report.ok is False and report.errors == []  # the shipper itself succeeded
    (dead_lettered,) = report.dead_letters
    assert dead_lettered.startswith("ShipLogsFunction: 1 document(s), in dead-letter bucket")
    (record,) = dead_letter_records(platform)
    assert record["error"]["type"] == "mapper_parsing_exception"  # type: ignore[index]
    for mapping in opensearch.mappings.values():  # the operator fixes the mapping
        mapping["json.n"] = "keyword"

    function = platform.functions["ShipLogsFunction"].name
    assert main(["logs", "replay", "--function", function, "--json"]) == 0

    replayed = last_json_document(capsys.readouterr().out)
    assert (replayed["objects"], replayed["indexed"], replayed["dead_lettered"]) == (1, 1, 0)
    assert dead_letter_records(platform) == []
    assert len(opensearch.documents) == 2


def test_a_new_log_group_matching_the_patterns_gets_subscribed(
    start_platform: PlatformFactory,
) -> None:
    platform = start_platform(
        settings={
            "log_subscription_include": "/aws/lambda/*",
            "log_subscription_exclude": "*-test",
        }
    )
    logs = boto3.client("logs", region_name=REGION)
    event = json.loads((EVENTS / "cloudtrail" / "create-log-group.json").read_text())
    logs.create_log_group(logGroupName="/aws/lambda/orders-api")

    report = platform.send("eventbridge", json.dumps(event).encode())

    assert report.ok, report.errors
    (subscription,) = logs.describe_subscription_filters(logGroupName="/aws/lambda/orders-api")[
        "subscriptionFilters"
    ]
    assert subscription["destinationArn"] == platform.functions["ShipLogsFunction"].arn
    assert subscription["filterName"] == "opswire-local-ship-logs"

    event["detail"]["requestParameters"]["logGroupName"] = "/aws/lambda/orders-test"
    logs.create_log_group(logGroupName="/aws/lambda/orders-test")
    platform.send("eventbridge", json.dumps(event).encode())
    assert (
        logs.describe_subscription_filters(logGroupName="/aws/lambda/orders-test")[
            "subscriptionFilters"
        ]
        == []
    )


def test_logs_subscribe_covers_existing_groups_but_never_the_shipper(
    start_platform: PlatformFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = start_platform()
    shipper = platform.functions["ShipLogsFunction"]
    logs = boto3.client("logs", region_name=REGION)
    for name in ("/aws/lambda/billing", "/aws/lambda/billing-test", "/ecs/web"):
        logs.create_log_group(logGroupName=name)

    assert main(["logs", "subscribe", "--pattern", "/aws/lambda/*", "--exclude", "*-test",
                 "--destination-arn", shipper.arn, "--dry-run", "--json"]) == 0  # fmt: skip
    planned = json.loads(capsys.readouterr().out)
    assert main(["logs", "subscribe", "--pattern", "/aws/lambda/*", "--exclude", "*-test",
                 "--destination-arn", shipper.arn, "--json"]) == 0  # fmt: skip
    done = json.loads(capsys.readouterr().out)

    assert "/aws/lambda/billing" in planned["would_subscribe"]
    assert done["subscribed"] == planned["would_subscribe"]
    assert f"/aws/lambda/{shipper.name}" not in done["subscribed"]
    assert {
        "log_group": f"/aws/lambda/{shipper.name}",
        "reason": "the shipper's own log group",
    } in (done["skipped"])
    filters = logs.describe_subscription_filters(logGroupName="/aws/lambda/billing")
    assert filters["subscriptionFilters"][0]["filterName"] == "opswire-ship-logs"
    assert (
        logs.describe_subscription_filters(logGroupName="/aws/lambda/billing-test")[
            "subscriptionFilters"
        ]
        == []
    )


def test_logs_replay_local_goes_through_the_running_platform(
    start_platform: PlatformFactory,
    opensearch: FakeOpenSearch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    platform = start_platform()
    events = [json.dumps({"message": "m", "n": 1}), json.dumps({"message": "m", "n": "one"})]
    platform.send(f"logs:{DEMO_GROUP}", json.dumps(events).encode())
    assert len(dead_letter_records(platform)) == 1
    for mapping in opensearch.mappings.values():
        mapping["json.n"] = "keyword"
    # What `opswire local up` serves: `logs replay --local` invokes the function through it.
    with served(platform, monkeypatch):
        code = main(["logs", "replay", "--local", "--json"])

    assert code == 0
    replayed = last_json_document(capsys.readouterr().out)
    assert (replayed["objects"], replayed["indexed"]) == (1, 1)
    assert dead_letter_records(platform) == []


def test_logs_replay_local_without_a_running_platform_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSWIRE_STATE_DIR", str(tmp_path))

    assert main(["logs", "replay", "--local"]) == 1
    assert "no `opswire local up` is running" in capsys.readouterr().out


def test_local_send_exits_1_and_says_so_when_a_batch_was_dead_lettered(
    start_platform: PlatformFactory,
    opensearch: FakeOpenSearch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    platform = start_platform()
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([json.dumps({"n": 1}), json.dumps({"n": "one"})]))
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps([json.dumps({"n": 2})]))
    source = f"logs:{DEMO_GROUP}"

    with served(platform, monkeypatch):
        as_json = main(["local", "send", source, "-e", str(batch), "--json"])
        report = last_json_document(capsys.readouterr().out)
        human = main(["local", "send", source, "-e", str(batch)])
        text = capsys.readouterr().out
        fine = main(["local", "send", source, "-e", str(clean), "--json"])
        fine_report = last_json_document(capsys.readouterr().out)

    assert (as_json, human, fine) == (1, 1, 0)
    assert report["ok"] is False and report["errors"] == []
    assert len(report["dead_letters"]) == 1  # type: ignore[arg-type]
    assert "ShipLogsFunction: 1 document(s)" in str(report["dead_letters"])
    assert "✗ dead-lettered: ShipLogsFunction: 1 document(s)" in text
    assert text.rstrip().endswith("FAILED")
    assert fine_report["ok"] is True and fine_report["dead_letters"] == []
