"""The ``opswire`` command: run the stack of template.yaml locally, replay events, run the demo.

    opswire local send SOURCE -e FILE [-e FILE ...] [--header 'Name: value'] [--json]
    opswire local up [--port N]
    opswire demo [--json]
    opswire silence add | list | remove          (see opswire_cli.silence_cli)
    opswire secrets status | rotate SECRET_ID    (see opswire_cli.secrets_cli)
    opswire logs replay | subscribe ...          (see opswire_cli.logs_cli)
    opswire deploy history | status | approve | reject   (see opswire_cli.deploy_cli)
    opswire provision plan | apply | status FILE (see opswire_cli.provision_cli)
    opswire doctor --stack NAME [--json]         (see opswire_cli.doctor)
    opswire slack manifest --stack NAME | --api-url URL | --local (opswire_cli.slack_manifest)
    opswire config show | set | unset            (see opswire_cli.config_cli)

Where a command runs (a deployed stack, a running ``local up``): opswire_cli.target.

Handlers log to ``.opswire/local.log`` (stdout belongs to the report); ``OPSWIRE_STATE_DIR``
moves that directory (log, Slack outbox, address of a running ``local up``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from opswire_cli import (
    config_cli,
    deploy_cli,
    doctor,
    logs_cli,
    provision_cli,
    secrets_cli,
    silence_cli,
    slack_manifest,
)
from opswire_cli.in_process import add_platform_options, handler_output_to_log, platform_options
from opswire_cli.silences import load_silences
from opswire_cli.target import running_local_up
from opswire_local.platform import LocalPlatform, combine


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
    add_platform_options(send)
    send.set_defaults(run=_run_send)

    up = local_commands.add_parser("up", help="keep the platform running and serve its routes")
    up.add_argument("--port", type=int, default=3000)
    add_platform_options(up)
    up.set_defaults(run=_run_up)

    demo = commands.add_parser("demo", help="run one scenario per workflow and summarize")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    add_platform_options(demo, time_scale=False)
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


# ---- local send ---------------------------------------------------------------------------------
def _run_send(args: argparse.Namespace) -> int:
    options = platform_options(args)
    headers = _headers(args.header)
    events: list[tuple[str | None, bytes | None]] = [
        (path, _read_event_file(path)) for path in args.event
    ] or [(None, None)]
    from opswire_local.gateway import send_to_running_platform

    local_up = running_local_up(options.root)
    if local_up is not None:
        result = send_to_running_platform(
            local_up.url, local_up.token, args.source, events, headers, args.wait
        )
    else:
        with handler_output_to_log(options) as out, LocalPlatform(options) as platform:
            load_silences(platform)
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
    lines.extend(f"  ✗ dead-lettered: {what}" for what in delivery.get("dead_letters") or [])
    if not lines:
        lines.append("  (nothing happened: no rule, subscription or route matched)")
    return "\n".join(lines)


# ---- local up -----------------------------------------------------------------------------------
def _run_up(args: argparse.Namespace) -> int:
    from opswire_local.gateway import serve

    options = platform_options(args)
    with handler_output_to_log(options) as out, LocalPlatform(options) as platform:
        load_silences(platform)
        return serve(platform, args.port, out)


# ---- demo ---------------------------------------------------------------------------------------
def _run_demo(args: argparse.Namespace) -> int:
    from opswire_cli.demo import DEMO_ROUTING, DEMO_TIME_SCALE, run_demo

    options = platform_options(args)
    options.ssm_parameters["AlarmRoutingParameter"] = json.dumps(DEMO_ROUTING)
    # The scenarios follow each other in real time: reminders must not fire in the middle of the
    # next scenario's deliveries, so the demo keeps its own time scale (1 min -> 3 s).
    options.time_scale = DEMO_TIME_SCALE
    # The operator's silences stay out of the demo (not loaded), and the demo's out of theirs.
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
