"""``opswire config show|set|unset``: the stack's settings document, changed without a deploy.

    opswire config show  [--stack NAME | --local] [--json]
    opswire config set   [--stack NAME | --local] KEY=VALUE ...
    opswire config unset [--stack NAME | --local] KEY ...

With ``--stack NAME [--profile P] [--region R]`` the document is the deployed stack's SSM
parameter (its ``StackSettingsParameterName`` output), written with your AWS credentials; the
functions read it again within five minutes. With ``--local`` it is
``$OPSWIRE_STATE_DIR/settings.json`` (default ``<project>/.opswire/``), which the CLI gives
the local platforms it starts (their stack's parameter). Keys and defaults:
docs/configuration.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from opswire.core.settings import StackSettingsDocument
from opswire_cli.in_process import state_dir
from opswire_cli.settings_document import (
    STATE_FILE,
    SettingsFile,
    parse_assignments,
    validated,
)
from opswire_cli.target import DeployedStack, deployed_stack

STACK_OUTPUT = "StackSettingsParameterName"


def register(commands: Any) -> None:
    config = commands.add_parser("config", help="settings changed without a deploy")
    actions = config.add_subparsers(title="config commands")
    show = actions.add_parser("show", help="print every setting and its value")
    _target_options(show)
    show.set_defaults(run=_run_show)
    set_ = actions.add_parser("set", help="change settings: KEY=VALUE ...")
    _target_options(set_)
    set_.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    set_.set_defaults(run=_run_set)
    unset = actions.add_parser("unset", help="back to the default: KEY ...")
    _target_options(unset)
    unset.add_argument("keys", nargs="+", metavar="KEY")
    unset.set_defaults(run=_run_unset)


def _target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="a deployed stack's name")
    target.add_argument("--local", action="store_true", help="the local platform's settings")
    parser.add_argument("--profile", default=None, help="AWS profile (deployed)")
    parser.add_argument("--region", default=None, help="AWS region (deployed)")
    parser.add_argument("--root", type=Path, default=None, help="project directory (local)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


class StackSettingsParameter:
    """A deployed stack's settings document in SSM Parameter Store."""

    def __init__(self, stack: DeployedStack) -> None:
        self.name = stack.outputs(STACK_OUTPUT)[STACK_OUTPUT]
        self.ssm = stack.client("ssm")

    def read(self) -> dict[str, Any]:
        value = self.ssm.get_parameter(Name=self.name)["Parameter"]["Value"]
        document = json.loads(value or "{}")
        if not isinstance(document, dict):
            raise SystemExit(f"opswire: parameter {self.name} must hold a JSON object")
        return document

    def write(self, document: dict[str, Any]) -> None:
        self.ssm.put_parameter(
            Name=self.name, Value=json.dumps(document), Type="String", Overwrite=True
        )


def _store(args: argparse.Namespace) -> SettingsFile | StackSettingsParameter:
    if args.local:
        return SettingsFile(state_dir(args.root) / STATE_FILE)
    return StackSettingsParameter(deployed_stack(args))


def _run_show(args: argparse.Namespace) -> int:
    document = _store(args).read()
    settings = validated(document)
    if args.json:
        print(json.dumps({"settings": settings.model_dump(), "set": sorted(document)}))
        return 0
    for key, value in settings.model_dump().items():
        origin = "" if key in document else "  (default)"
        print(f"{key} = {json.dumps(value)}{origin}")
    return 0


def _run_set(args: argparse.Namespace) -> int:
    store = _store(args)
    changes = parse_assignments(args.assignments)
    document = {**store.read(), **changes}
    settings = validated(document)
    store.write(settings.model_dump(include=set(document)))
    _changed(args, sorted(changes))
    return 0


def _run_unset(args: argparse.Namespace) -> int:
    store = _store(args)
    document = store.read()
    unknown = [key for key in args.keys if key not in StackSettingsDocument.model_fields]
    if unknown:
        validated(dict.fromkeys(unknown, ""))  # exits naming the unknown keys
    store.write({key: value for key, value in document.items() if key not in args.keys})
    _changed(args, sorted(args.keys))
    return 0


def _changed(args: argparse.Namespace, keys: list[str]) -> None:
    where = "the local platform's next start" if args.local else "the functions within 5 minutes"
    message = {"changed": keys, "applies": where}
    print(json.dumps(message) if args.json else f"changed {', '.join(keys)}; applies to {where}")
    sys.stdout.flush()
