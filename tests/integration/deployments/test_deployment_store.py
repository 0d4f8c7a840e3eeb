"""DeploymentStore against moto, on the table template.yaml declares: per-target locks
(conditional writes) and the deployment history."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from opswire.core.aws import clear_client_cache
from opswire.deployments.aws.deployment_store import DeploymentStore
from tests.integration.aws_support import REGION, create_table_like

KEY = "ecs:demo/web"


@pytest.fixture
def store(aws: None) -> Iterator[DeploymentStore]:
    create_table_like(
        "DeploymentTable", "deployments", boto3.client("dynamodb", region_name=REGION)
    )
    clear_client_cache()
    yield DeploymentStore("deployments")
    clear_client_cache()


def test_a_lock_is_taken_once_and_kept_by_its_owner(store: DeploymentStore) -> None:
    assert store.acquire_lock(KEY, "gh-1", expires_at=2000, now=1000) == ("gh-1", "")
    assert store.acquire_lock(KEY, "gh-2", expires_at=2100, now=1100) == ("gh-1", "")
    assert store.acquire_lock(KEY, "gh-1", expires_at=2200, now=1200) == ("gh-1", "")  # retry
    assert store.lock_holder(KEY) == "gh-1"
    assert store.acquire_lock("ecs:demo/other", "gh-2", 2100, 1100) == ("gh-2", "")


def test_only_the_owner_releases(store: DeploymentStore) -> None:
    store.acquire_lock(KEY, "gh-1", expires_at=2000, now=1000)
    assert store.release_lock(KEY, "gh-2") is False
    assert store.lock_holder(KEY) == "gh-1"
    assert store.release_lock(KEY, "gh-1") is True
    assert store.lock_holder(KEY) == ""
    assert store.release_lock(KEY, "gh-1") is False  # a retried release
    assert store.acquire_lock(KEY, "gh-2", expires_at=2100, now=1100) == ("gh-2", "")


def test_an_expired_lock_is_taken_over_and_its_owner_named(store: DeploymentStore) -> None:
    store.acquire_lock(KEY, "gh-crashed", expires_at=2000, now=1000)
    assert store.acquire_lock(KEY, "gh-2", expires_at=4000, now=2000) == ("gh-crashed", "")
    assert store.acquire_lock(KEY, "gh-2", expires_at=4001, now=2001) == ("gh-2", "gh-crashed")
    assert store.release_lock(KEY, "gh-crashed") is False
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName="deployments", Key={"pk": {"S": f"lock#{KEY}"}}
    )["Item"]
    assert item["owner"]["S"] == "gh-2" and int(item["ttl"]["N"]) > 4001


def test_history_queries_records_only_newest_first(store: DeploymentStore) -> None:
    for n in range(7):
        store.put(
            f"gh-{n}", {"deployment_id": f"gh-{n}", "created_at": f"2026-11-2{n}T10:00:00+00:00"}, 0
        )
    store.put("gh-3", {**(store.get("gh-3") or {}), "status": "succeeded"}, 1)  # an update
    store.record("delivery-1", "push", "o/r")
    store.acquire_lock(KEY, "gh-6", expires_at=2000, now=1000)
    store.put("no-date", {"deployment_id": "no-date"}, 0)  # no created_at: not indexed
    assert [d["deployment_id"] for d in store.history(3)] == ["gh-6", "gh-5", "gh-4"]
    everything = store.history(50)
    assert [d["deployment_id"] for d in everything] == [f"gh-{n}" for n in range(6, -1, -1)]
    assert next(d for d in everything if d["deployment_id"] == "gh-3")["status"] == "succeeded"
    assert store.history(0) == []


def test_history_does_not_scan(store: DeploymentStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from opswire.core.aws import dynamodb_client

    store.put("gh-1", {"deployment_id": "gh-1", "created_at": "2026-11-25T00:00:00+00:00"}, 0)
    client = dynamodb_client()

    def no_scan(**_: Any) -> Any:
        raise AssertionError("history scanned the table")

    monkeypatch.setattr(client, "scan", no_scan)
    assert [d["deployment_id"] for d in store.history(5)] == ["gh-1"]
