"""The compute layer's Prometheus metrics, in the process that runs it (the hub, whose /hub/metrics
serves them beside JupyterHub's own; a service using the Slurm client serves them at its /metrics).

Names start with ``factoryhub_``; docs/metrics.md lists them with their labels. Label values come
from the site (profiles, partitions), Slurm (command names, pending reasons) or a fixed set
(outcomes): never from user input, so no scrape can grow without bound.
"""
from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

# seconds: a spawn and a queue wait run from a second to hours; a Slurm command from milliseconds
LONG = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400)
SHORT = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
OUTCOMES = ("started", "refused", "failed")

SPAWN_SECONDS = Histogram(
    "factoryhub_spawn_duration_seconds", "Seconds from a spawn request to its server answering (started), or to "
    "its refusal or failure, by profile", ["profile", "outcome"], buckets=LONG)
QUEUE_WAIT_SECONDS = Histogram(
    "factoryhub_queue_wait_seconds", "Seconds a session's job waited in Slurm's queue before it ran, by partition",
    ["partition"], buckets=LONG)
PENDING_SESSIONS = Gauge(
    "factoryhub_pending_sessions", "Session jobs of this hub waiting in Slurm's queue now, by Slurm's reason",
    ["reason"])
SLURM_COMMAND_SECONDS = Histogram(
    "factoryhub_slurm_command_duration_seconds", "Seconds a Slurm command took, by command", ["command"],
    buckets=SHORT)
SLURM_COMMAND_ERRORS = Counter(
    "factoryhub_slurm_command_errors_total", "Slurm commands that failed, by command and kind (error: Slurm "
    "refused; unreachable: no answer, a timeout or a controller down)", ["command", "kind"])
WATCHER_TICK_AGE = Gauge(
    "factoryhub_watcher_tick_age_seconds", "Seconds since the job watcher's last successful look at the queue "
    "(grows while Slurm does not answer)")

_pending_reasons: set[str] = set()  # every reason reported so far
_last_good_tick = [time.monotonic()]
WATCHER_TICK_AGE.set_function(lambda: time.monotonic() - _last_good_tick[0])


def watcher_ticked(ok: bool, now: float | None = None) -> None:
    """The watcher looked at the queue; a successful look resets the tick age."""
    if ok:
        _last_good_tick[0] = time.monotonic() if now is None else now


def set_pending(reasons: Iterable[str]) -> None:
    """The pending session jobs' reasons now (one per job): the gauge shows each reason's count, and 0 for a
    reason seen before that no job has any more (so a dashboard sees the queue empty out)."""
    counts = Tally(reason or "None" for reason in reasons)
    _pending_reasons.update(counts)
    for reason in _pending_reasons:
        PENDING_SESSIONS.labels(reason).set(counts.get(reason, 0))


def command_done(command: str, seconds: float, error_kind: str | None = None) -> None:
    """One Slurm command ran (``error_kind``: None, "error" or "unreachable")."""
    SLURM_COMMAND_SECONDS.labels(command).observe(seconds)
    if error_kind is not None:
        SLURM_COMMAND_ERRORS.labels(command, error_kind).inc()


def spawn_done(profile: str, outcome: str, seconds: float) -> None:
    """A spawn ended: ``outcome`` is one of OUTCOMES."""
    SPAWN_SECONDS.labels(profile or "none", outcome if outcome in OUTCOMES else "failed").observe(seconds)
