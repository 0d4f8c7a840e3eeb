"""The project and its state directory, and the in-process local platform of one command."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from opswire_cli.settings_document import (
    STATE_FILE,
    SettingsFile,
    parse_assignments,
    validated,
)

if TYPE_CHECKING:
    from opswire_local.options import PlatformOptions
from opswire_local.platform import LocalPlatform


def find_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / "template.yaml").is_file():
            return directory
    raise SystemExit("opswire: no template.yaml here or above; use --root")


def state_dir(root: Path | None) -> Path:
    """``$OPSWIRE_STATE_DIR``, else ``<project root>/.opswire`` (log, outbox, silences,
    settings, the address of a running ``local up``)."""
    state = os.environ.get("OPSWIRE_STATE_DIR")
    if state:
        return Path(state)
    return (root or find_root(Path.cwd())).resolve() / ".opswire"


def add_platform_options(parser: argparse.ArgumentParser, *, time_scale: bool = True) -> None:
    """``--root``, ``--time-scale``, ``--parameter``, ``--setting`` of ``opswire local``."""
    parser.add_argument(
        "--root", type=Path, default=None, help="project directory (default: found from cwd)"
    )
    if not time_scale:
        parser.set_defaults(time_scale=None)
    else:
        parser.add_argument(
            "--time-scale",
            type=float,
            default=float(os.environ.get("OPSWIRE_TIME_SCALE", "0.05")),
            help="factor applied to Step Functions Wait/Retry times locally (default 0.05)",
        )
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="Name=value",
        help="override a template parameter",
    )  # fmt: skip
    parser.add_argument(
        "--setting", action="append", default=[], metavar="key=value",
        help="override a stack setting (see `opswire config`)",
    )  # fmt: skip


def platform_options(args: argparse.Namespace) -> PlatformOptions:
    """The options of a local platform; its settings are `opswire config set --local`'s file
    with ``--setting`` over it, validated as the deployed stack would validate them."""
    from opswire_local.options import PlatformOptions

    root = (args.root or find_root(Path.cwd())).resolve()
    forward_url = os.environ.get("OPSWIRE_SLACK_WEBHOOK_URL") or None
    state = Path(os.environ["OPSWIRE_STATE_DIR"]) if os.environ.get("OPSWIRE_STATE_DIR") else None
    options = PlatformOptions(
        root=root,
        parameters=dict(item.split("=", 1) for item in args.parameter),
        time_scale=args.time_scale,
        # A real Slack webhook to forward to: then the local stack runs in webhook mode too.
        forward_slack_to=forward_url,
        slack_app=not forward_url,
        state_dir=state,
    )
    settings = {
        **SettingsFile(options.state_path / STATE_FILE).read(),
        **parse_assignments(getattr(args, "setting", [])),
    }
    options.settings = validated(settings).model_dump(include=set(settings))
    return options


@contextlib.contextmanager
def handler_output_to_log(options: PlatformOptions) -> Iterator[TextIO]:
    """Yield the real stdout; meanwhile anything handlers print (logs, EMF) goes to the log."""
    log_path = options.state_path / "local.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    real_stdout = sys.stdout
    with log_path.open("a", encoding="utf-8") as log:
        sys.stdout = log
        try:
            yield real_stdout
        finally:
            sys.stdout = real_stdout


@contextlib.contextmanager
def local_platform(args: argparse.Namespace) -> Iterator[LocalPlatform]:
    """The local platform for one command; what its handlers print goes to the local log, and
    the command's own output to the terminal again once its work is done."""
    from opswire_local.platform import LocalPlatform

    options = platform_options(args)
    with handler_output_to_log(options) as out, LocalPlatform(options) as platform:
        yield platform
        sys.stdout = out
