"""The ``opswire`` command: run the stack of template.yaml locally, replay events, run the demo.

    opswire local send SOURCE -e FILE [-e FILE ...] [--header 'Name: value'] [--json]
    opswire local up [--port N]
    opswire demo [--json]
    opswire silence add | list | remove          (see opswire_local.silence_cli)
    opswire secrets status | rotate SECRET_ID    (see opswire_local.secrets_cli)
    opswire logs replay | subscribe ...          (see opswire_local.logs_cli)
    opswire deploy history | status | approve | reject   (see opswire_local.deploy_cli)
    opswire provision plan | apply | status FILE (see opswire_local.provision_cli)
    opswire doctor --stack NAME [--json]         (see opswire_local.doctor)
    opswire slack manifest --stack NAME | --api-url URL | --local (opswire_local.slack_manifest)

Handlers log to ``.opswire/local.log`` (stdout belongs to the report); ``OPSWIRE_STATE_DIR``
moves that directory (log, Slack outbox, address of a running ``local up``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from opswire_local import (
    config_cli,
    deploy_cli,
    doctor,
    logs_cli,
    provision_cli,
    secrets_cli,
    silence_cli,
    slack_manifest,
)
from opswire_local.platform import LocalPlatform, PlatformOptions, combine


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return int(args.run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opswire", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(title="commands")

    local = commands.add_parser("local", help="run the stack on this machine (moto, in-process)")
    local_commands = local.add_subparsers(title="local commands")

    send = local_commands.add_parser("send", help="deliver events the way AWS would and wait")
    send.add_argument(
        "source",
        metavar="SOURCE",
        help="sns:<TopicLogicalId> | eventbridge | logs:<LogGroupName> | 'http:<METHOD> <path>' "
        "| schedule:<RuleLogicalId> | function:<FunctionLogicalId>",
    )
    send.add_argument(
        "-e", "--event", action="append", default=[], metavar="FILE",
        help="what the producer sends; repeat to deliver several events in order",
    )  # fmt: skip
    send.add_argument(
        "--header", action="append", default=[], metavar="'Name: value'", help="HTTP header"
    )
    send.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="after the last event, let this much real time pass (reminders fire) and report it",
    )  # fmt: skip
    send.add_argument("--json", action="store_true", help="print one JSON object")
    _common_options(send)
    send.set_defaults(run=_run_send)

    up = local_commands.add_parser("up", help="keep the platform running and serve its routes")
    up.add_argument("--port", type=int, default=3000)
    _common_options(up)
    up.set_defaults(run=_run_up)

    demo = commands.add_parser("demo", help="run one scenario per workflow and summarize")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    _common_options(demo, time_scale=False)
    demo.set_defaults(run=_run_demo)

    silence_cli.register(commands)
    secrets_cli.register(commands)
    logs_cli.add_logs_commands(commands)
    deploy_cli.register(commands)
    provision_cli.register(commands)
    doctor.register(commands)
    slack_manifest.register(commands)
    config_cli.register(commands)
    return parser


def _common_options(parser: argparse.ArgumentParser, *, time_scale: bool = True) -> None:
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


def find_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / "template.yaml").is_file():
            return directory
    raise SystemExit("opswire: no template.yaml here or above; use --root")


def platform_options(args: argparse.Namespace) -> PlatformOptions:
    root = (args.root or find_root(Path.cwd())).resolve()
    parameters = dict(item.split("=", 1) for item in args.parameter)
    forward_url = os.environ.get("OPSWIRE_SLACK_WEBHOOK_URL") or None
    return PlatformOptions(
        root=root,
        parameters=parameters,
        settings=config_cli.parse_assignments(getattr(args, "setting", [])),
        time_scale=args.time_scale,
        # A real Slack webhook to forward to: then the local stack runs in webhook mode too.
        forward_slack_to=forward_url,
        slack_app=not forward_url,
        state_dir=Path(os.environ["OPSWIRE_STATE_DIR"])
        if os.environ.get("OPSWIRE_STATE_DIR")
        else None,
    )


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


# ---- local send ---------------------------------------------------------------------------------
def _run_send(args: argparse.Namespace) -> int:
    options = platform_options(args)
    headers = _headers(args.header)
    events: list[tuple[str | None, bytes | None]] = [
        (path, _read_event_file(path)) for path in args.event
    ] or [(None, None)]
    from opswire_local.gateway import running_platform_url, send_to_running_platform

    url = running_platform_url(options.state_path)
    if url is not None:
        result = send_to_running_platform(url, args.source, events, headers, args.wait)
    else:
        with handler_output_to_log(options) as out, LocalPlatform(options) as platform:
            reports = [
                platform.send(args.source, body, headers=headers, event_file=path)
                for path, body in events
            ]
            if args.wait > 0:
                reports.append(platform.wait(args.wait))
            result = combine(reports)
            sys.stdout = out
    _print_result(result, as_json=args.json)
    return 0 if result["ok"] else 1


def _read_event_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SystemExit(f"opswire: cannot read event file {path}: {exc.strerror}") from exc


def _headers(items: list[str]) -> dict[str, str]:
    headers = {}
    for item in items:
        name, separator, value = item.partition(":")
        if not separator:
            raise SystemExit(f"opswire: --header {item!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def _print_result(result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    for delivery in result["deliveries"]:
        print(f"» {delivery['source']} {delivery['event_file'] or ''}".rstrip())
        print(_describe_delivery(delivery))
    print("OK" if result["ok"] else "FAILED")


def _describe_delivery(delivery: dict[str, Any]) -> str:
    lines = []
    for execution in delivery["executions"]:
        status = execution["status"]
        name = f"{execution['state_machine']} {execution['name']}"
        if status == "SUCCEEDED":
            lines.append(f"  ✓ {name}: SUCCEEDED")
        elif status == "RUNNING" and execution.get("waiting_in"):
            lines.append(f"  … {name}: waiting in {execution['waiting_in']}")
        else:
            cause = str(execution.get("cause"))[:300]
            lines.append(f"  ✗ {name}: {status} - {execution.get('error')}: {cause}")
    for note in delivery["notifications"]:
        lines.append(f"  → {note['channel']} to {note['recipient']}: {note['subject']}")
    if delivery.get("http"):
        http = delivery["http"]
        lines.append(f"  ← HTTP {http['status']} {str(http['body'])[:300]}")
    if delivery.get("documents"):
        lines.append(f"  → {len(delivery['documents'])} documents to the local OpenSearch sink")
    if delivery.get("invocation"):
        lines.append(f"  ← {json.dumps(delivery['invocation']['payload'])[:300]}")
    lines.extend(f"  ! {error}" for error in delivery["errors"])
    if not lines:
        lines.append("  (nothing happened: no rule, subscription or route matched)")
    return "\n".join(lines)


# ---- local up -----------------------------------------------------------------------------------
def _run_up(args: argparse.Namespace) -> int:
    from opswire_local.gateway import serve

    options = platform_options(args)
    with handler_output_to_log(options) as out, LocalPlatform(options) as platform:
        return serve(platform, args.port, out)


# ---- demo ---------------------------------------------------------------------------------------
def _run_demo(args: argparse.Namespace) -> int:
    from opswire_local.demo import DEMO_ROUTING, DEMO_TIME_SCALE, run_demo

    options = platform_options(args)
    options.ssm_parameters["AlarmRoutingParameter"] = json.dumps(DEMO_ROUTING)
    # The scenarios follow each other in real time: reminders must not fire in the middle of the
    # next scenario's deliveries, so the demo keeps its own time scale (1 min -> 3 s).
    options.time_scale = DEMO_TIME_SCALE
    # The operator's silences stay out of the demo, and the demo's silence out of theirs.
    options.persisted_silences = False
    with handler_output_to_log(options) as out, LocalPlatform(options) as platform:
        results = run_demo(platform)
        sys.stdout = out
    ok = all(scenario["ok"] for scenario in results)
    if args.json:
        print(json.dumps({"ok": ok, "scenarios": results}, indent=2, default=str))
    else:
        for scenario in results:
            print(f"{'PASS' if scenario['ok'] else 'FAIL'}  {scenario['name']}")
            print(f"      expected: {scenario['expected']}")
            for delivery in scenario["deliveries"]:
                print(_describe_delivery(delivery))
            for problem in scenario["problems"]:
                print(f"  ! {problem}")
        print(f"\n{sum(s['ok'] for s in results)}/{len(results)} scenarios passed")
        print(f"handler logs: {options.state_path / 'local.log'}")
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
