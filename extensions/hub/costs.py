"""The one cost formula: what a GPU session is charged, in GPU-hours and GPU-seconds.

Every other place that shows or charges a cost (the spawn form's estimate, the spawner's
budget hold and its settlement at stop, the quota ledger, the lab panel) either calls
these functions or is tested against ``tests/fixtures/cost-cases.json`` with them.
"""
from __future__ import annotations

import math

SECONDS_PER_HOUR = 3600


def session_cost_gpu_hours(gpus: int, hours: float, price: float) -> float:
    """GPU-hours charged for ``gpus`` GPUs held ``hours`` hours at the profile's ``price``."""
    if gpus < 0 or not math.isfinite(hours) or hours < 0 or not math.isfinite(price) or price < 0:
        raise ValueError(f"no cost for gpus={gpus!r}, hours={hours!r}, price={price!r}")
    return gpus * hours * price


def to_gpu_seconds(gpu_hours: float) -> int:
    """GPU-hours as whole GPU-seconds, rounded up (a cost is never undercharged)."""
    if not math.isfinite(gpu_hours) or gpu_hours < 0:
        raise ValueError(f"{gpu_hours!r} is not a non-negative number of hours")
    return math.ceil(round(gpu_hours * SECONDS_PER_HOUR, 6))


def session_cost_gpu_seconds(gpus: int, hours: float, price: float) -> int:
    """:func:`session_cost_gpu_hours` as whole GPU-seconds, rounded up: what a hold reserves."""
    return to_gpu_seconds(session_cost_gpu_hours(gpus, hours, price))
