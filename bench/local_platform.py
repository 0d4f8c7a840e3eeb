"""Local platform: one alarm `opswire local send` in a fresh process, next to the bare moto floor.

The floor is a fresh interpreter that starts moto (Step Functions execution on), creates a one-state
state machine, starts it and polls it to SUCCEEDED: the least any local delivery through a Step
Functions workflow can cost. The delivery is `opswire local send sns:AlarmTopic -e
events/sns/alarm-metric-alarm.json --json` in a fresh interpreter with an empty HOME and state dir,
as a developer runs it: the whole alarm workflow (ingest, Slack, email) on the local platform.

Each is run --runs times (default 3), round-robin after one untimed run of each (so that writing
.pyc files is not part of any figure: PYTHONDONTWRITEBYTECODE is removed from the children's
environment). Figures are medians of wall time, CPU time (user + system: moves much less than wall
on a loaded machine) and peak RSS of the child. Target: the delivery at most 3x the floor.

This is a benchmark: it prints figures and exits 0, unless a run fails (exit 1).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 3.0
EVENT = "events/sns/alarm-metric-alarm.json"

_FLOOR = """\
import json, time
import boto3
from moto import mock_aws
with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    definition = {"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(
        name="floor", definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/floor",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
        time.sleep(0.01)
    print(json.dumps({"ok": status == "SUCCEEDED"}))
"""


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mib: float


def run(argv: list[str], env: dict[str, str]) -> Sample:
    """Run ``argv`` to completion; its wall time, CPU time and peak RSS. Raises on failure."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        ok = json.loads(output).get("ok") is True
    except ValueError:
        ok = False
    if process.returncode != 0 or not ok:
        raise RuntimeError(f"{' '.join(argv[:6])} failed (exit {process.returncode})")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPSWIRE_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        HOME=str(home),
        OPSWIRE_STATE_DIR=str(home / "state"),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    args = parser.parse_args()

    commands = {
        "moto floor": [sys.executable, "-c", _FLOOR],
        "alarm local send": [
            sys.executable, "-m", "opswire_cli.cli", "local", "send", "sns:AlarmTopic",
            "-e", EVENT, "--json",
        ],
    }  # fmt: skip
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    try:
        for round_ in range(args.runs + 1):
            for name, argv in commands.items():
                with tempfile.TemporaryDirectory(prefix="opswire-bench-") as home:
                    sample = run(argv, child_env(Path(home)))
                if round_ > 0:  # the first round writes .pyc files: not timed
                    samples[name].append(sample)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    def median(name: str, attribute: str) -> float:
        return float(statistics.median(getattr(s, attribute) for s in samples[name]))

    load = os.getloadavg()[0]
    print(
        f"fresh process each, Python {sys.version.split()[0]}, {args.runs} runs each, "
        f"{os.cpu_count()} CPUs, load average {load:.1f}"
    )
    print(f"{'':<18} {'wall s':>8} {'min s':>7} {'CPU s':>7} {'peak RSS MiB':>13}")
    for name in commands:
        print(
            f"{name:<18} {median(name, 'wall'):>8.2f} "
            f"{min(s.wall for s in samples[name]):>7.2f} {median(name, 'cpu'):>7.2f} "
            f"{median(name, 'rss_mib'):>13.0f}"
        )
    wall = median("alarm local send", "wall") / median("moto floor", "wall")
    cpu = median("alarm local send", "cpu") / median("moto floor", "cpu")
    rss = median("alarm local send", "rss_mib") / median("moto floor", "rss_mib")
    verdict = "met" if wall <= TARGET_RATIO else "NOT met"
    print(
        f"target: local send <= {TARGET_RATIO:g}x the floor (wall) -> {verdict} "
        f"(wall {wall:.2f}x, CPU {cpu:.2f}x, peak RSS {rss:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
