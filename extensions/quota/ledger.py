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
from fractions import Fraction

from factoryhub.costs import SECONDS_PER_HOUR, session_cost_gpu_seconds, to_gpu_seconds


def hours(seconds: float) -> float:
    """GPU- or CPU-seconds as hours."""
    return seconds / SECONDS_PER_HOUR


def to_seconds(gpu_hours: float) -> int:
    """GPU-hours as whole GPU-seconds, rounded up: :func:`factoryhub.costs.to_gpu_seconds`."""
    return to_gpu_seconds(gpu_hours)


def fmt_hours(seconds: float) -> str:
    """Seconds as hours for people: 2 decimals, halves away from zero, thousands grouped.

    Exact (no binary rounding: 450 s reads 0.13, where ``f"{0.125:.2f}"`` gives 0.12), so a hold
    reads the same here as in the spawn form's estimate (``COST_FUNCTION`` in spawners/options.py,
    both tested on tests/fixtures/cost-cases.json).
    """
    hundredths = Fraction(seconds) * 100 / SECONDS_PER_HOUR
    cents = math.floor(abs(hundredths) + Fraction(1, 2))
    sign = "-" if hundredths < 0 and cents else ""
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


@dataclass(frozen=True)
class Balance:
    """A project's GPU-seconds today: allocated by its active allocations, used, and held by running sessions."""
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
    """Whether a session may start against a balance, and the message that says why not."""
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
    """Worst-case GPU-seconds of a session: :func:`factoryhub.costs.session_cost_gpu_seconds`."""
    return session_cost_gpu_seconds(gpus, walltime_hours, price)


def accrued(gpus: int, start_at: dt.datetime, end_at: dt.datetime | None, now: dt.datetime) -> int:
    """GPU-seconds a job has used by ``now`` (running jobs accrue live)."""
    end = end_at or now
    return max(0, int(gpus * (end - start_at).total_seconds()))
