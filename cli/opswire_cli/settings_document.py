"""The stack settings document: its validation, and the local platform's copy in a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from opswire.core.parameters import validation_problems
from opswire.core.settings import StackSettingsDocument

STATE_FILE = "settings.json"


def validated(document: dict[str, Any]) -> StackSettingsDocument:
    """``document`` as the settings model, or exit with what is wrong (unknown keys included)."""
    try:
        return StackSettingsDocument.model_validate(document)
    except ValidationError as exc:
        problems = validation_problems(exc)
        known = ", ".join(StackSettingsDocument.model_fields)
        raise SystemExit(f"opswire config: {problems} (keys: {known})") from None


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"opswire config: {item!r} is not KEY=VALUE")
        values[key.strip()] = value
    return values


def read_state_file(path: Path, kind: type, what: str) -> Any:
    """A local state file's JSON (an empty ``kind()`` when the file is missing or empty); exits
    with a clear message when it is not JSON or not ``what``."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if not text:
        return kind()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"opswire: {path} is not valid JSON: {exc}") from None
    if not isinstance(document, kind):
        raise SystemExit(f"opswire: {path} must hold {what}")
    return document


class SettingsFile:
    """The local platform's settings document (a JSON object in one file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        document: dict[str, Any] = read_state_file(self.path, dict, "a JSON object")
        return document

    def write(self, document: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
