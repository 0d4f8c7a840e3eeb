"""Silences on the local platform: written through the incident table's ``IncidentStore``, as on
a deployed stack, and kept between commands in ``<state dir>/silences.json``.

The table of a local stack lives as long as its process. The file is what outlives it: ``opswire
silence add`` writes it when no ``opswire local up`` runs; a platform loads it into its table
once, before its first delivery (or its first silence command); a running ``local up`` receives
``opswire silence add|remove`` through its gateway, writes them to its table through the store
and then the table's silences back to the file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from opswire.alarms.models.incident import Silence

if TYPE_CHECKING:
    from opswire.alarms.aws.incident_store import IncidentStore

STATE_FILE = "silences.json"


class SilenceFile:
    """Silences as a JSON list in one file (the local silences between commands)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def list_silences(self) -> list[Silence]:
        if not self.path.is_file():
            return []
        try:
            items = json.loads(self.path.read_text(encoding="utf-8") or "[]")
        except json.JSONDecodeError as exc:
            raise SystemExit(f"opswire: {self.path} is not valid JSON: {exc}") from None
        if not isinstance(items, list):
            raise SystemExit(f"opswire: {self.path} must hold a JSON list of silences")
        return [Silence.model_validate(item) for item in items]

    def put_silence(self, silence: Silence) -> None:
        kept = [s for s in self.list_silences() if s.silence_id != silence.silence_id]
        self.write([*kept, silence])

    def delete_silence(self, silence_id: str) -> bool:
        silences = self.list_silences()
        kept = [s for s in silences if s.silence_id != silence_id]
        if len(kept) == len(silences):
            return False
        self.write(kept)
        return True

    def write(self, silences: list[Silence]) -> None:
        """Write to a temporary file and rename it: a reader never sees half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = json.dumps([s.model_dump(mode="json") for s in silences], indent=2) + "\n"
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".silences-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(document)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class NoIncidentTableError(Exception):
    """The local stack has no IncidentTable (a template without the alarm workflow)."""


class LocalSilences:
    """The silences of one local platform's incident table (``store``: its ``IncidentStore``,
    None when the stack has no incident table), persisted in ``persisted`` (None: the platform's
    silences are its own, e.g. the demo's)."""

    def __init__(
        self, store: Callable[[], IncidentStore | None], persisted: SilenceFile | None
    ) -> None:
        self._store = store
        self._persisted = persisted
        self._loaded = False
        self._lock = threading.Lock()

    def load_persisted(self) -> None:
        """Put the persisted silences into the table, the first time only."""
        with self._lock:
            if self._loaded:
                return
            store = self._store()
            if store is None:
                return  # not created yet, or no incident table: nothing to silence
            self._loaded = True
            for silence in self._persisted.list_silences() if self._persisted else []:
                store.put_silence(silence)

    def put_silence(self, silence: Silence) -> None:
        store = self._loaded_store()
        store.put_silence(silence)
        self._persist(store)

    def delete_silence(self, silence_id: str) -> bool:
        store = self._loaded_store()
        deleted = store.delete_silence(silence_id)
        self._persist(store)
        return deleted

    def list_silences(self) -> list[Silence]:
        return self._loaded_store().list_silences()

    def _loaded_store(self) -> IncidentStore:
        self.load_persisted()
        store = self._store()
        if store is None:
            raise NoIncidentTableError("the local stack has no IncidentTable: no silences")
        return store

    def _persist(self, store: IncidentStore) -> None:
        if self._persisted is not None:
            with self._lock:
                self._persisted.write(store.list_silences())
