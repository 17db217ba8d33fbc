"""Balances and spawn decisions: pure arithmetic on GPU-seconds, no database.

A project's balance over its current allocation period is

    remaining = allocated - used - held

where ``used`` counts finished jobs plus the accrual of running ones, and ``held`` is the
part of each session's worst-case cost that accounting has not yet counted.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

SECONDS_PER_HOUR = 3600


def hours(seconds: float) -> float:
    return seconds / SECONDS_PER_HOUR


def to_seconds(gpu_hours: float) -> int:
    """GPU-hours as whole GPU-seconds, rounded up (a cost is never undercharged)."""
    if not math.isfinite(gpu_hours) or gpu_hours < 0:
        raise ValueError(f"{gpu_hours!r} is not a non-negative number of hours")
    return math.ceil(round(gpu_hours * SECONDS_PER_HOUR, 6))


def fmt_hours(seconds: float) -> str:
    return f"{hours(seconds):,.2f}"


@dataclass(frozen=True)
class Balance:
    account: str
    allocated: int  # GPU-seconds of the allocations active today
    used: int
    held: int
    period: tuple[dt.date, dt.date] | None = None  # first and last day of the active allocations

    @property
    def remaining(self) -> int:
        return self.allocated - self.used - self.held

    def describe(self) -> str:
        return (f"{fmt_hours(self.remaining)} GPU-hours left ({fmt_hours(self.allocated)} allocated, "
                f"{fmt_hours(self.used)} used, {fmt_hours(self.held)} held by sessions)")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str


def decide(balance: Balance, cost: int) -> Decision:
    """May a session costing ``cost`` GPU-seconds start against ``balance``?"""
    if balance.period is None and cost > 0:
        return Decision(False, f"Project {balance.account} has no active GPU allocation; "
                               f"this session would cost {fmt_hours(cost)} GPU-hours.")
    if cost > balance.remaining:
        return Decision(False, f"Project {balance.account} has {balance.describe()}; this session may cost "
                               f"up to {fmt_hours(cost)} GPU-hours. Choose fewer GPUs or a shorter walltime, "
                               f"or ask for a larger allocation.")
    return Decision(True, f"Project {balance.account}: {fmt_hours(cost)} GPU-hours held of "
                          f"{fmt_hours(balance.remaining)} left.")


def session_cost(gpus: int, walltime_hours: float, price: float) -> int:
    """Worst-case GPU-seconds of a session: GPUs × walltime × the profile's price."""
    return to_seconds(gpus * walltime_hours * price)


def accrued(gpus: int, start_at: dt.datetime, end_at: dt.datetime | None, now: dt.datetime) -> int:
    """GPU-seconds a job has used by ``now`` (running jobs accrue live)."""
    end = end_at or now
    return max(0, int(gpus * (end - start_at).total_seconds()))
