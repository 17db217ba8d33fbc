"""What the session knows about itself, from the FACTORYHUB_* variables its spawner set.

Pure: an environment mapping in, facts out (docs/sessions.md lists the variables).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def session_cost_gpu_hours(gpus: int, hours: float, price: float) -> float:
    """GPU-hours charged for ``gpus`` GPUs held ``hours`` hours at ``price``: the hub's formula
    (factoryhub.costs, which this distribution does not import), tested against it on
    tests/fixtures/cost-cases.json."""
    return gpus * hours * price


def _number(env: Mapping[str, str], name: str, default: float | None = None) -> float | None:
    try:
        return float(env[name])
    except (KeyError, ValueError):
        return default


@dataclass(frozen=True)
class Session:
    """The running session as the spawner's environment describes it: account, profile, job, GPUs, price, walltime."""
    account: str | None
    profile: str | None
    job_id: str | None
    gpus: int
    price: float
    walltime_minutes: float | None
    walltime_end: float | None  # epoch seconds

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Session:
        return cls(account=env.get("FACTORYHUB_ACCOUNT") or None, profile=env.get("FACTORYHUB_PROFILE") or None,
                   job_id=env.get("FACTORYHUB_JOB_ID") or None, gpus=int(_number(env, "FACTORYHUB_GPUS", 0)),
                   price=_number(env, "FACTORYHUB_PRICE", 1.0),
                   walltime_minutes=_number(env, "FACTORYHUB_WALLTIME_MINUTES"),
                   walltime_end=_number(env, "FACTORYHUB_WALLTIME_END"))

    @property
    def started_at(self) -> float | None:
        if self.walltime_end is None or self.walltime_minutes is None:
            return None
        return self.walltime_end - self.walltime_minutes * 60

    def cost_gpu_hours(self, now: float) -> tuple[float | None, float | None]:
        """(so far, at the end of the walltime): GPUs x hours x price, as the quota service charges."""
        if self.started_at is None or self.walltime_end is None:
            return None, None
        elapsed = max(0.0, min(now, self.walltime_end) - self.started_at)
        total = self.walltime_end - self.started_at
        return (session_cost_gpu_hours(self.gpus, elapsed / 3600, self.price),
                session_cost_gpu_hours(self.gpus, total / 3600, self.price))

    def describe(self, now: float) -> dict:
        so_far, at_walltime = self.cost_gpu_hours(now)
        return {"account": self.account, "profile": self.profile, "job_id": self.job_id, "gpus": self.gpus,
                "price": self.price, "walltime_end": self.walltime_end, "started_at": self.started_at,
                "remaining_seconds": None if self.walltime_end is None else max(0.0, self.walltime_end - now),
                "cost_so_far_gpu_hours": so_far, "cost_at_walltime_gpu_hours": at_walltime, "now": now}
