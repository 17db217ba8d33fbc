"""Incremental, idempotent import of Slurm accounting into the usage ledger.

Each run reads ``sacct --json -X`` for the window since the stored watermark (less an
overlap, because slurmdbd records a job's end a little after it happens), plus the jobs the
ledger still holds as running, and upserts them by (cluster, job id). Rows and the new
watermark are written in one transaction per window chunk: a crash leaves the previous
watermark and the previous rows, and the next run repeats the chunk, counting nothing twice.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from factoryhub.spawners.slurm.client import SlurmClient, SlurmUnreachable

from .accounting import JobUsage, parse_sacct
from .db import Database
from .models import Allocation, ImportState, UsageRecord, utcnow

log = logging.getLogger(__name__)

UPSERT_BATCH = 2000
_UPDATED = ("account", "username", "partition", "state", "start_at", "end_at", "gpus", "cpus",
            "elapsed_seconds", "gpu_seconds", "cpu_seconds")


@dataclass(frozen=True)
class ImportReport:
    windows: int
    jobs_seen: int
    rows_changed: int
    watermark: dt.datetime


class SacctSource:
    """Reads accounting with ``sacct --json`` (allocations only, every user)."""

    def __init__(self, client: SlurmClient, timeout: float = 120.0):
        self.client, self.timeout = client, timeout

    @staticmethod
    def _slurm_time(moment: dt.datetime) -> str:
        # sacct reads times in the machine's local zone
        return moment.astimezone().replace(tzinfo=None).isoformat(timespec="seconds")

    async def window(self, start: dt.datetime, end: dt.datetime) -> dict:
        return await self._query(["-S", self._slurm_time(start), "-E", self._slurm_time(end)])

    async def jobs(self, job_ids: Sequence[str]) -> dict:
        return await self._query(["-j", ",".join(job_ids)])

    async def _query(self, selection: list[str]) -> dict:
        try:
            return await self.client.run_json([self.client._exe("sacct"), "--json", "-X", "--allusers", *selection],
                                              timeout=self.timeout)
        except SlurmUnreachable as err:
            # sacct --json reports an empty selection as an *error* ("slurmdb_jobs_get: Nothing found")
            if "Nothing found" in err.stderr:
                return {"jobs": []}
            raise


def upsert_usage(session: Session, usages: Sequence[JobUsage]) -> int:
    """Insert or update rows by (cluster, job id); returns how many rows changed."""
    if not usages:
        return 0
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    changed = 0
    for i in range(0, len(usages), UPSERT_BATCH):
        statement = insert(UsageRecord)
        differs = or_(*(getattr(UsageRecord, c).is_distinct_from(getattr(statement.excluded, c)) for c in _UPDATED))
        statement = statement.on_conflict_do_update(
            index_elements=["cluster", "job_id"], set_={c: getattr(statement.excluded, c) for c in _UPDATED},
            where=differs).returning(UsageRecord.id)  # an unchanged row is not rewritten, nor returned
        # count returned rows: executemany's rowcount is -1 on some drivers (psycopg)
        changed += len(session.connection().execute(statement, [u.as_row() for u in usages[i:i + UPSERT_BATCH]]).all())
    return changed


class UsageImporter:
    """Brings the ledger up to date with accounting; run it on a timer and before reports."""

    def __init__(self, db: Database, source: SacctSource, name: str = "sacct",
                 overlap: dt.timedelta = dt.timedelta(minutes=10), chunk: dt.timedelta = dt.timedelta(days=1)):
        self.db, self.source, self.name = db, source, name
        self.overlap, self.chunk = overlap, chunk

    def _start(self, session: Session, now: dt.datetime) -> dt.datetime:
        state = session.get(ImportState, self.name)
        if state is not None:
            return state.watermark - self.overlap
        first_day = session.scalar(select(func.min(Allocation.starts_on)))
        return dt.datetime.combine(first_day, dt.time(), dt.timezone.utc) if first_day else now - self.overlap

    async def run(self, now: dt.datetime | None = None) -> ImportReport:
        now = now or utcnow()
        with self.db.read() as session:
            start = self._start(session, now)
        windows = seen = changed = 0
        while start < now:
            end = min(now, start + self.chunk)
            usages = list(parse_sacct(await self.source.window(start, end), now))
            usages += await self._still_running(usages, now, final=end >= now)
            with self.db.write() as session:
                changed += upsert_usage(session, usages)
                state = session.get(ImportState, self.name)
                if state is None:
                    session.add(ImportState(source=self.name, watermark=end))
                else:
                    state.watermark = end
            windows, seen, start = windows + 1, seen + len(usages), end
        log.info("Imported accounting: %d windows, %d jobs seen, %d rows changed", windows, seen, changed)
        return ImportReport(windows, seen, changed, now)

    async def _still_running(self, usages: list[JobUsage], now: dt.datetime, final: bool) -> list[JobUsage]:
        """Jobs the ledger holds as running that this window did not return (their end may
        lie before the window, recorded late): asked for by id, once, with the last chunk."""
        if not final:
            return []
        with self.db.read() as session:
            running = set(session.scalars(select(UsageRecord.job_id).where(UsageRecord.end_at.is_(None))))
        missing = sorted(running - {u.job_id for u in usages})
        found: list[JobUsage] = []
        for i in range(0, len(missing), 500):
            found += parse_sacct(await self.source.jobs(missing[i:i + 500]), now)
        return found
