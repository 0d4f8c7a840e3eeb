"""Cold start: import time of each Lambda handler module in a fresh interpreter, next to boto3.

Every function of template.yaml is imported N times (--runs, default 5), each time in a new
`python -I` process with sys.path = [CodeUri, layer dirs...] and the environment of
tools/check_template.py; the child times only importlib.import_module. `import boto3` is measured
the same way as the baseline. Target: no handler above 1.5x the boto3 median.

This is a benchmark: it prints figures and exits 0, unless a handler fails to import (exit 1).
"""

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # so that tools/ imports as a namespace package

from opswire_local.template import load_template  # noqa: E402
from tools.check_template import function_specs, import_env  # noqa: E402

TARGET_RATIO = 1.5

# Runs in a fresh interpreter: argv = [module, sys.path entries...]; prints seconds.
_TIMED_IMPORT = """\
import importlib, sys, time
module, *paths = sys.argv[1:]
sys.path[:0] = paths
start = time.perf_counter()
importlib.import_module(module)
print(time.perf_counter() - start)
"""


def time_import(module: str, paths: list[str]) -> float:
    """Milliseconds to import ``module`` in a new interpreter; raises on an import error."""
    completed = subprocess.run(
        [sys.executable, "-I", "-c", _TIMED_IMPORT, module, *paths],
        env=import_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or [f"exit {completed.returncode}"]
        raise ImportError(lines[-1])
    return float(completed.stdout.strip()) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="imports per module (default 5)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    args = parser.parse_args()

    template_path = args.template.resolve()
    targets: dict[str, tuple[str, list[str]]] = {"boto3 (baseline)": ("boto3", [])}
    for spec in function_specs(load_template(template_path), template_path.parent):
        targets[spec.name] = (spec.module, spec.sys_path)

    # One untimed import each first, so that writing .pyc files is not part of any figure;
    # then round-robin, so that a slow moment of the machine spreads over every row.
    failed = {}
    for name, (module, paths) in targets.items():
        try:
            time_import(module, paths)
        except ImportError as exc:
            failed[name] = str(exc)
    if failed:
        for name, error in failed.items():
            print(f"error: {name} does not import: {error}", file=sys.stderr)
        return 1
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(args.runs):
        for name, (module, paths) in targets.items():
            samples[name].append(time_import(module, paths))

    baseline = statistics.median(samples["boto3 (baseline)"])
    print(
        f"handler import in a fresh interpreter: Python {sys.version.split()[0]}, "
        f"{args.runs} runs each"
    )
    print(f"{'function':<24} {'median ms':>10} {'min ms':>8} {'x boto3':>8}")
    worst_name, worst_ratio = "", 0.0
    for name, values in samples.items():
        median = statistics.median(values)
        ratio = median / baseline
        print(f"{name:<24} {median:>10.1f} {min(values):>8.1f} {ratio:>8.2f}")
        if name != "boto3 (baseline)" and ratio > worst_ratio:
            worst_name, worst_ratio = name, ratio
    verdict = "met" if worst_ratio <= TARGET_RATIO else "NOT met"
    print(
        f"target: no handler above {TARGET_RATIO}x boto3 -> {verdict} "
        f"(highest: {worst_name} {worst_ratio:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
