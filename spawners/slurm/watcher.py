"""ONE job watcher per hub: a single ``squeue --json`` per tick serves every session.

Spawners never run squeue themselves: they register interest in a job and read the
latest :class:`QueueSnapshot`. The watcher ticks fast while any watched job is
starting and slowly once all are running, with jitter so hubs do not synchronise,
and only while something is watched. A failed tick keeps the last snapshot and
records the error: "scheduler unreachable" is never read as "job gone".
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

from .. import metrics
from .client import SlurmClient, SlurmError
from .queue import QueueSnapshot

log = logging.getLogger(__name__)


class JobWatcher:
    """Shared by every spawner of a hub process (see :func:`watcher_for`)."""

    def __init__(self, client: SlurmClient, *, fast_interval: float = 1.0, slow_interval: float = 15.0,
                 jitter: float = 0.2, clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.fast_interval = fast_interval
        self.slow_interval = slow_interval
        self.jitter = jitter
        self.clock = clock
        self.snapshot = QueueSnapshot()
        self.error: SlurmError | None = None
        self.error_since: float | None = None
        self._starting: set[str] = set()   # jobs whose sessions are starting: tick fast
        self._watched: dict[str, int] = {}  # job id -> number of interested spawners
        self._updated = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.ticks = 0

    # --- interest ------------------------------------------------------------------
    def watch(self, job_id: str, *, starting: bool = False) -> None:
        self._watched[job_id] = self._watched.get(job_id, 0) + 1
        if starting:
            self._starting.add(job_id)
            self._wake.set()
        self._ensure_running()

    def expedite(self, job_id: str) -> None:
        """Tick fast for ``job_id`` (e.g. while its cancellation is confirmed) until unwatched."""
        self._watched.setdefault(job_id, 1)
        self._starting.add(job_id)
        self._wake.set()
        self._ensure_running()

    def started(self, job_id: str) -> None:
        """The session is up: this job no longer needs fast ticks."""
        self._starting.discard(job_id)

    def unwatch(self, job_id: str) -> None:
        self._starting.discard(job_id)
        count = self._watched.get(job_id, 0) - 1
        if count > 0:
            self._watched[job_id] = count
        else:
            self._watched.pop(job_id, None)

    @property
    def watched(self) -> set[str]:
        return set(self._watched)

    # --- ticking -------------------------------------------------------------------
    @property
    def reachable(self) -> bool:
        return self.error is None

    async def refresh(self) -> QueueSnapshot:
        """Take one snapshot now (one squeue call) and wake everyone waiting for it."""
        # A snapshot is as old as the moment its query *started*: a job submitted while the
        # query ran may be missing from it, and must not be read as "gone".
        started = self.clock()
        try:
            data = await self.client.queue()
        except SlurmError as err:
            if self.error is None:
                log.warning("Slurm queue unavailable, keeping the last snapshot: %s", err)
                self.error_since = self.clock()
            self.error = err
        else:
            if self.error is not None:
                log.info("Slurm queue available again")
            self.error, self.error_since = None, None
            self.snapshot = QueueSnapshot.from_squeue(data, started)
            metrics.watcher_ticked(True)
            metrics.set_pending(job.reason for job_id in self._watched
                                if (job := self.snapshot.get(job_id)) is not None and job.pending)
        self.ticks += 1
        updated, self._updated = self._updated, asyncio.Event()
        updated.set()
        return self.snapshot

    async def next_update(self, timeout: float | None = None) -> None:
        """Wait for the next tick (whatever its outcome)."""
        self._ensure_running()
        await asyncio.wait_for(self._updated.wait(), timeout)

    def interval(self) -> float:
        base = self.fast_interval if self._starting else self.slow_interval
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_event_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._watched or self._starting:
            await self.refresh()
            self._wake.clear()
            try:  # a new starting job cuts a slow wait short
                await asyncio.wait_for(self._wake.wait(), self.interval())
            except TimeoutError:
                pass

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


_watchers: dict[tuple, JobWatcher] = {}


def watcher_for(client: SlurmClient, **kwargs) -> JobWatcher:
    """The process-wide watcher for ``client``'s cluster (created on first use)."""
    key = (client.bin_dir, client.slurm_conf)
    if key not in _watchers:
        _watchers[key] = JobWatcher(client, **kwargs)
    return _watchers[key]
