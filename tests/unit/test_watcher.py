"""The shared watcher: one squeue per tick whatever the number of sessions."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from factoryhub.spawners.slurm.watcher import JobWatcher

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "slurm" /
                      "squeue-running-and-pending.json").read_text())


class CountingClient:
    def __init__(self, fail=False):
        self.calls, self.fail = 0, fail

    async def queue(self):
        from factoryhub.spawners.slurm.client import SlurmUnreachable

        self.calls += 1
        if self.fail:
            raise SlurmUnreachable(["squeue"], 1, "Unable to contact slurm controller")
        return FIXTURE


async def test_one_query_per_tick_serves_every_watched_job():
    client = CountingClient()
    watcher = JobWatcher(client, fast_interval=0.05, slow_interval=0.05, jitter=0)
    for job_id in [str(i) for i in range(20)]:
        watcher.watch(job_id, starting=True)
    await watcher.next_update(timeout=2)
    await watcher.next_update(timeout=2)
    ticks = watcher.ticks
    assert client.calls == ticks and ticks >= 2  # not 20 per tick
    assert watcher.snapshot.get("7").pending
    for job_id in [str(i) for i in range(20)]:
        watcher.unwatch(job_id)
    await asyncio.sleep(0.2)
    idle_calls = client.calls
    await asyncio.sleep(0.2)
    assert client.calls == idle_calls  # nothing watched: no queries
    watcher.stop()


async def test_a_failed_tick_keeps_the_last_snapshot_and_says_unreachable():
    client = CountingClient()
    watcher = JobWatcher(client, jitter=0)
    await watcher.refresh()
    client.fail = True
    await watcher.refresh()
    assert not watcher.reachable and watcher.snapshot.get("5").running
    client.fail = False
    await watcher.refresh()
    assert watcher.reachable


def test_fast_ticks_only_while_a_session_starts():
    watcher = JobWatcher(CountingClient(), fast_interval=1, slow_interval=15, jitter=0)
    watcher._watched["5"] = 1
    assert watcher.interval() == 15
    watcher._starting.add("5")
    assert watcher.interval() == 1
    watcher.started("5")
    assert watcher.interval() == 15


async def test_a_snapshot_is_dated_by_the_start_of_its_query():
    clock = iter([10.0, 99.0]).__next__  # query starts at 10, ends at 99

    class SlowClient(CountingClient):
        async def queue(self):
            return FIXTURE

    watcher = JobWatcher(SlowClient(), jitter=0, clock=clock)
    await watcher.refresh()
    assert watcher.snapshot.taken_at == 10.0  # a job submitted at 50 is not "missing" from it
