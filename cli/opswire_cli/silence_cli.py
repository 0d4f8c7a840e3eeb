"""``opswire silence add|list|remove``: time-boxed silences, on a deployed stack or locally.

    opswire silence add --pattern 'api-*' [--tag k=v ...] --duration 2h [--reason TEXT] [--by NAME]
    opswire silence list [--all] [--json]
    opswire silence remove ID

The silences live in the stack's incident table and are written through ``IncidentStore``, the
same code deployed and locally: with ``--stack NAME [--region R] [--profile P]`` the deployed
stack's table (its ``IncidentTableName`` output), with your AWS credentials; without it the
table of the running ``opswire local up`` (through its AWS endpoint), whose silences are then
also kept in ``$OPSWIRE_STATE_DIR/silences.json`` (default ``<project>/.opswire/``). When no
``local up`` runs, that file is written directly, and the next local platform the CLI starts
loads it into its table.

A silenced alarm's incident is still recorded; nobody is notified while the silence lasts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opswire.alarms.models.incident import Silence
from opswire_cli.in_process import state_dir
from opswire_cli.silences import STATE_FILE, KeptInFile, SilenceFile, SilenceStore
from opswire_cli.target import LocalUp, add_target_options, resolve

STACK_OUTPUT = "IncidentTableName"
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=90)


def silence_file(root: Path | None) -> SilenceFile:
    """``$OPSWIRE_STATE_DIR/silences.json``, else ``<project root>/.opswire/silences.json``."""
    return SilenceFile(state_dir(root) / STATE_FILE)


def target_store(args: argparse.Namespace) -> tuple[SilenceStore, str]:
    """The incident table of ``--stack`` or of the running ``local up`` (kept in the silences
    file too), else the silences file alone; and a name for it."""
    from opswire.alarms.wiring import incident_store

    target = resolve(args)
    if target is None:
        persisted = silence_file(args.root)
        return persisted, str(persisted.path)
    table = target.table_name("IncidentTable", STACK_OUTPUT)
    store = incident_store(table, target.client("dynamodb"))
    if isinstance(target, LocalUp):
        return KeptInFile(store, silence_file(args.root)), target.description
    return store, target.description


def parse_duration(text: str) -> timedelta:
    """``30m``, ``2h``, ``1d``, ``1h30m``, ``1w`` (at most 90 days)."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 2h, 1d or 1h30m")
    duration = timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in parts))
    if not timedelta(0) < duration <= MAX_DURATION:
        raise argparse.ArgumentTypeError(f"{text!r}: a silence lasts between 1 s and 90 days")
    return duration


def parse_tag(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a tag KEY=VALUE")
    return key.strip(), value.strip()


def new_silence(
    pattern: str,
    tags: list[tuple[str, str]],
    duration: timedelta,
    reason: str,
    by: str,
    now: datetime,
    kind: str = "*",
    resource: str = "*",
) -> Silence:
    return Silence(
        silence_id=f"sil-{secrets.token_hex(4)}",
        name_pattern=pattern,
        kind=kind,
        resource_pattern=resource,
        tags=dict(tags),
        starts_at=now,
        ends_at=now + duration,
        created_by=by,
        reason=reason,
    )


def status(silence: Silence, now: datetime) -> str:
    if now < silence.starts_at:
        return "scheduled"
    return "active" if now < silence.ends_at else "expired"


# ---- the command --------------------------------------------------------------------------------
def register(commands: Any) -> None:
    """Add ``silence`` to the ``opswire`` command (``commands``: its subparsers)."""
    silence = commands.add_parser(
        "silence",
        help="time-boxed silences (deployed with --stack, else local)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    actions = silence.add_subparsers(title="silence commands")

    add = actions.add_parser("add", help="silence matching alarms for a while")
    add.add_argument("--pattern", default="*", help="alarm name pattern (fnmatch: api-*, *-prod)")
    add.add_argument(
        "--kind", default="*",
        help="cloudwatch_alarm or an event kind (guardduty_finding, health_event ...; fnmatch)",
    )  # fmt: skip
    add.add_argument(
        "--resource", default="*",
        help="an event's resource id or ARN, or an alarm's name or ARN (fnmatch: i-0b5f*)",
    )  # fmt: skip
    add.add_argument(
        "--tag", action="append", default=[], type=parse_tag, metavar="KEY=VALUE",
        help="only alarms with this tag (repeat: all must match)",
    )  # fmt: skip
    add.add_argument(
        "--duration", required=True, type=parse_duration, help="30m, 2h, 1d, 1h30m ..."
    )
    add.add_argument("--reason", default="", help="why (shown by list)")
    add.add_argument("--by", default=None, help="who (default: your user name)")
    _target_options(add)
    add.set_defaults(run=_run_add)

    listing = actions.add_parser("list", help="show silences")
    listing.add_argument("--all", action="store_true", help="include expired silences")
    _target_options(listing)
    listing.set_defaults(run=_run_list)

    remove = actions.add_parser("remove", help="end a silence now")
    remove.add_argument("silence_id", metavar="ID")
    _target_options(remove)
    remove.set_defaults(run=_run_remove)


def _target_options(parser: argparse.ArgumentParser) -> None:
    add_target_options(parser, local_flag=False)
    parser.add_argument("--json", action="store_true", help="print JSON")


def _run_add(args: argparse.Namespace) -> int:
    store, where = target_store(args)
    silence = new_silence(
        args.pattern,
        args.tag,
        args.duration,
        args.reason,
        args.by or _user(),
        datetime.now(UTC),
        kind=args.kind,
        resource=args.resource,
    )
    store.put_silence(silence)
    if args.json:
        print(json.dumps(silence.model_dump(mode="json"), indent=2))
    else:
        print(f"added {silence.silence_id} ({where}): {_describe(silence)}")
    return 0


def _run_list(args: argparse.Namespace) -> int:
    store, where = target_store(args)
    at = datetime.now(UTC)
    silences = sorted(store.list_silences(), key=lambda s: (s.ends_at, s.silence_id))
    shown = [s for s in silences if args.all or status(s, at) != "expired"]
    if args.json:
        print(
            json.dumps(
                [{**s.model_dump(mode="json"), "status": status(s, at)} for s in shown], indent=2
            )
        )
        return 0
    if not shown:
        print(f"no silences ({where})")
        return 0
    print(f"{'ID':<13} {'STATUS':<9} {'ENDS (UTC)':<17} MATCHES")
    for silence in shown:
        ends = silence.ends_at.strftime("%Y-%m-%d %H:%M")
        print(f"{silence.silence_id:<13} {status(silence, at):<9} {ends:<17} {_describe(silence)}")
    return 0


def _run_remove(args: argparse.Namespace) -> int:
    store, where = target_store(args)
    if not store.delete_silence(args.silence_id):
        print(f"opswire: no silence {args.silence_id} ({where})", file=sys.stderr)
        return 1
    print(f"removed {args.silence_id} ({where})")
    return 0


def _describe(silence: Silence) -> str:
    text = f"name {silence.name_pattern}"
    if silence.kind != "*":
        text += f", kind {silence.kind}"
    if silence.resource_pattern != "*":
        text += f", resource {silence.resource_pattern}"
    if silence.tags:
        text += " and tags " + ", ".join(f"{k}={v}" for k, v in sorted(silence.tags.items()))
    text += f" until {silence.ends_at.strftime('%Y-%m-%d %H:%M UTC')} by {silence.created_by}"
    if silence.reason:
        text += f": {silence.reason}"
    return text


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
