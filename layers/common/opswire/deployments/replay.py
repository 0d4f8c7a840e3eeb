"""Webhook replay rules (issue 13): what keeps one signed GitHub body from deploying twice, an
old body from rolling an environment back, and a hostile image tag from reaching a target.

GitHub signs the body only, so anyone who has seen one signed delivery can send it again under
new ``X-GitHub-Delivery`` ids. The webhook therefore refuses:
- a body whose SHA-256 digest it recorded before (``body_digest``; a GitHub redelivery keeps its
  delivery id and is answered as a duplicate delivery before this check);
- a (repository, environment, commit) that already deployed successfully (``commit_key``),
  unless an operator asks for it (``opswire deploy redeploy``);
- for a production environment, an event older than ``max_event_age_seconds`` by the payload's
  own server-side timestamps (``age_problem``);
- an image tag outside Docker's tag grammar (``image_tag_problem``).
"""

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opswire.deployments.config import EnvironmentConfig

DOCKER_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
"""Docker's tag grammar (``[\\w][\\w.-]{0,127}``), ASCII letters and digits only."""
_DOCKER_TAG = re.compile(DOCKER_TAG_PATTERN, re.ASCII)
_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
_PRODUCTION_NAMES = frozenset({"prod", "production"})


class ImageTagError(ValueError):
    """The image tag a rule renders from the payload is not a valid Docker tag."""


def image_tag_problem(tag: str) -> str | None:
    """Why ``tag`` cannot be an image tag, or None. The tag is shown ASCII-escaped (a NUL or a
    right-to-left mark must not reach a log line or a Slack message as such)."""
    if _DOCKER_TAG.fullmatch(tag):
        return None
    shown = ascii(tag[:64]) + ("..." if len(tag) > 64 else "")
    return (
        f"image tag {shown} is not a valid Docker tag: 1-128 ASCII letters, digits, '_', '.' "
        "and '-', not starting with '.' or '-'"
    )


def body_digest(body: bytes) -> str:
    """The SHA-256 of the raw body, hex: what the webhook remembers of every started delivery."""
    return hashlib.sha256(body).hexdigest()


def commit_key(repository: str, environment: str, sha: str, ref: str) -> str:
    """What "the same deployment" means: repository (case-insensitive, as GitHub treats it),
    environment and commit. A release names no commit in its payload (``target_commitish`` is
    usually a branch): its tag ref stands for the commit."""
    commit = sha if _COMMIT_SHA.fullmatch(sha) else ref
    return f"{repository.lower()}#{environment}#{commit}"


def is_production(name: str, env: EnvironmentConfig) -> bool:
    """The environment's ``production`` flag; unset, environments named prod or production."""
    if env.production is not None:
        return env.production
    return name.lower() in _PRODUCTION_NAMES


def event_time(event: str, payload: Mapping[str, Any]) -> datetime | None:
    """When GitHub says the event happened: push ``repository.pushed_at`` (the push, set by
    GitHub; ``head_commit.timestamp``, the committer's clock, only without it), release
    ``release.published_at``, workflow_run ``workflow_run.updated_at``. None: no usable time."""
    if event == "push":
        pushed = _time(_object(payload, "repository").get("pushed_at"))
        return pushed or _time(_object(payload, "head_commit").get("timestamp"))
    if event == "release":
        return _time(_object(payload, "release").get("published_at"))
    if event == "workflow_run":
        return _time(_object(payload, "workflow_run").get("updated_at"))
    return None


def age_problem(
    event: str,
    payload: Mapping[str, Any],
    environment: str,
    env: EnvironmentConfig,
    max_age_seconds: int,
    now: datetime,
) -> str | None:
    """Why a production environment refuses this event as too old, or None."""
    if not is_production(environment, env):
        return None
    happened = event_time(event, payload)
    if happened is None:
        return f"the {event} payload carries no timestamp to judge its age by ({environment})"
    age = int((now - happened).total_seconds())
    if age > max_age_seconds:
        return (
            f"the {event} happened {age}s ago ({happened.isoformat()}); {environment} takes "
            f"events up to {max_age_seconds}s old (max_event_age_seconds): "
            "`opswire deploy redeploy` deploys an earlier deployment again"
        )
    return None


def _time(value: object) -> datetime | None:
    """An ISO 8601 string or Unix seconds (GitHub sends push ``pushed_at`` as a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _object(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}
