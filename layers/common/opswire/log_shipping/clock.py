"""Clocks for the shipper: the Lambda's remaining time, or a fixed budget (CLI, benchmarks)."""

import time
from typing import Protocol


class _HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class LambdaClock:
    def __init__(self, context: _HasRemainingTime) -> None:
        self._context = context

    def remaining_seconds(self) -> float:
        return self._context.get_remaining_time_in_millis() / 1000

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class DeadlineClock:
    def __init__(self, budget_seconds: float) -> None:
        self._deadline = time.monotonic() + budget_seconds

    def remaining_seconds(self) -> float:
        return self._deadline - time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
