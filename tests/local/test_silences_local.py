"""Local silences go through the incident table's IncidentStore: into a running ``local up``
through its AWS endpoint, and from ``<state dir>/silences.json`` once, when the CLI has started
a platform."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opswire.alarms.models.incident import Silence
from opswire_cli.cli import main
from opswire_cli.silences import SilenceFile, load_silences, platform_incident_store
from opswire_local.platform import LocalPlatform
from tests.conftest import EVENTS
from tests.local.conftest import PlatformFactory, served

ALARM = EVENTS / "sns" / "alarm-metric-alarm.json"  # alarm name api-5xx-...
QUIET = {"default": {"renotify_minutes": 0}}


def _start(start_platform: PlatformFactory) -> LocalPlatform:
    return start_platform(ssm_parameters={"AlarmRoutingParameter": json.dumps(QUIET)})


@pytest.fixture
def local_up(
    start_platform: PlatformFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalPlatform]:
    """A platform served as ``opswire local up`` serves it, its address where it writes it."""
    platform = _start(start_platform)
    with served(platform, monkeypatch):
        yield platform


def test_silence_commands_reach_a_running_local_up_through_its_store(
    local_up: LocalPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = local_up
    store = platform_incident_store(platform)
    assert store is not None
    persisted = SilenceFile(platform.options.state_path / "silences.json")

    assert main(["silence", "add", "--pattern", "api-5xx-*", "--duration", "1h", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    [stored] = store.list_silences()
    assert (stored.silence_id, stored.name_pattern) == (added["silence_id"], "api-5xx-*")
    assert persisted.list_silences() == [stored]  # kept for the commands after this local up

    report = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    assert report.notifications == []
    assert report.executions[0]["output"]["decision"]["reason"] == "silenced"

    assert main(["silence", "list"]) == 0
    assert added["silence_id"] in capsys.readouterr().out
    assert main(["silence", "remove", added["silence_id"]]) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["silence", "remove", added["silence_id"]]) == 1
    assert store.list_silences() == []
    assert persisted.list_silences() == []


def test_persisted_silences_are_loaded_once_before_the_first_delivery(
    start_platform: PlatformFactory, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    silence = Silence(
        silence_id="maint-1",
        name_pattern="api-5xx-*",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        created_by="ann",
        reason="deploy",
    )
    persisted = SilenceFile(tmp_path / "state" / "silences.json")
    persisted.put_silence(silence)
    platform = _start(start_platform)
    load_silences(platform)  # as the CLI does when it has started a platform

    first = platform.send("sns:AlarmTopic", ALARM.read_bytes())
    assert first.executions[0]["output"]["decision"]["reason"] == "silenced"
    store = platform_incident_store(platform)
    assert store is not None and store.list_silences() == [silence]

    # The file is not read again: the table keeps what was loaded (no mirror before each send).
    persisted.write([])
    platform.send("sns:AlarmTopic", ALARM.read_bytes())
    assert store.list_silences() == [silence]
