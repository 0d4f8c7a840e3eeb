"""Local silences: written through the incident table's ``IncidentStore``, as on a deployed
stack, and kept between platforms in ``<state dir>/silences.json``.

The table of a local stack lives as long as its process; the file is what outlives it. ``opswire
silence`` writes the table of a running ``opswire local up`` through its AWS endpoint and then
the table's silences to the file, or only the file when no ``local up`` runs. The CLI loads the
file into a platform's table once, when it has started it (``load_silences``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from opswire.alarms.models.incident import Silence
from opswire_cli.settings_document import read_state_file

if TYPE_CHECKING:
    from opswire_local.platform import LocalPlatform

STATE_FILE = "silences.json"


class SilenceStore(Protocol):
    """Where silences are written: the incident table's store, or a ``SilenceFile``."""

    def put_silence(self, silence: Silence) -> None: ...

    def list_silences(self) -> list[Silence]: ...

    def delete_silence(self, silence_id: str) -> bool: ...


class SilenceFile:
    """Silences as a JSON list in one file (the local silences between commands)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def list_silences(self) -> list[Silence]:
        items = read_state_file(self.path, list, "a JSON list of silences")
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


class KeptInFile:
    """A running ``local up``'s incident table whose silences are written to ``persisted``
    after each change: the next local platform starts with them."""

    def __init__(self, store: SilenceStore, persisted: SilenceFile) -> None:
        self._store = store
        self._persisted = persisted

    def list_silences(self) -> list[Silence]:
        return self._store.list_silences()

    def put_silence(self, silence: Silence) -> None:
        self._store.put_silence(silence)
        self._persisted.write(self._store.list_silences())

    def delete_silence(self, silence_id: str) -> bool:
        deleted = self._store.delete_silence(silence_id)
        self._persisted.write(self._store.list_silences())
        return deleted


def platform_incident_store(platform: LocalPlatform) -> SilenceStore | None:
    """The store of a started platform's IncidentTable (None: the stack has none)."""
    import boto3

    from opswire.alarms.wiring import incident_store
    from opswire_local.template import REGION

    table = platform.tables.get("IncidentTable")
    if table is None:
        return None
    return incident_store(table, boto3.client("dynamodb", region_name=REGION))


def load_silences(platform: LocalPlatform) -> None:
    """Put the silences of ``<state dir>/silences.json`` into a started platform's table."""
    store = platform_incident_store(platform)
    if store is None:
        return
    for silence in SilenceFile(platform.options.state_path / STATE_FILE).list_silences():
        store.put_silence(silence)
