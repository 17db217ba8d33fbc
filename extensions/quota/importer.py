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

from sqlalchemy import Date, cast, delete, func, select
from sqlalchemy import insert as insert_into
from sqlalchemy.orm import Session

from factoryhub.heap import gc_paused
from factoryhub.spawners.slurm.client import SlurmClient, SlurmUnreachable

from .accounting import JobUsage, SacctDocument, SacctJob, decode_sacct, fingerprint, parse_sacct, signature
from .db import Database
from .models import Allocation, ImportState, UsageDay, UsageRecord, utcnow

log = logging.getLogger(__name__)

UPSERT_BATCH = 5000
_UPDATED = ("account", "username", "partition", "state", "start_at", "end_at", "gpus", "cpus",
            "elapsed_seconds", "gpu_seconds", "cpu_seconds", "fingerprint")


@dataclass(frozen=True)
class ImportReport:
    """What one accounting import did: windows queried, jobs seen, ledger rows changed and the new watermark."""
    windows: int
    jobs_seen: int
    rows_changed: int
    watermark: dt.datetime


class SacctSource:
    """Reads accounting with ``sacct --json`` (allocations only, every user), decoded to the
    fields the ledger uses."""

    def __init__(self, client: SlurmClient, timeout: float = 120.0):
        self.client, self.timeout = client, timeout

    @staticmethod
    def _slurm_time(moment: dt.datetime) -> str:
        # sacct reads times in the machine's local zone
        return moment.astimezone().replace(tzinfo=None).isoformat(timespec="seconds")

    async def window(self, start: dt.datetime, end: dt.datetime) -> SacctDocument:
        return await self._query(["-S", self._slurm_time(start), "-E", self._slurm_time(end)])

    async def jobs(self, job_ids: Sequence[str]) -> SacctDocument:
        return await self._query(["-j", ",".join(job_ids)])

    async def _query(self, selection: list[str]) -> SacctDocument:
        argv = [self.client._exe("sacct"), "--json", "-X", "--allusers", *selection]
        document = decode_sacct(await self.client.run(argv, timeout=self.timeout))
        if document.errors:
            # sacct --json reports an empty selection as an *error* ("slurmdb_jobs_get: Nothing found");
            # anything else there means slurmdbd did not answer: nothing is known
            if "Nothing found" in document.error_text():
                return SacctDocument()
            raise SlurmUnreachable(argv, 0, document.error_text())
        return document


def _stored_as_is(job: SacctJob, stored: dict[str, dict[str, int | None]]) -> bool:
    """A finished job whose stored row says what sacct says (a running job's usage still grows)."""
    known = stored.get(job.cluster, {}).get(str(job.job_id))
    if known is None:
        return False
    reported = signature(job)
    return reported[5] != 0 and fingerprint(reported) == known


def stored_fingerprints(session: Session, jobs: Sequence[SacctJob]) -> dict[str, dict[str, int | None]]:
    """cluster -> job id -> fingerprint of the stored row, for the jobs already stored: one probe
    of ix_usage_job_fingerprint per job, straight through the driver (this runs for every job
    of every window)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    by_cluster: dict[str, list[str]] = {}
    for job in jobs:
        by_cluster.setdefault(job.cluster, []).append(str(job.job_id))
    cursor = session.connection().connection.driver_connection.cursor()
    found: dict[str, dict[str, int | None]] = {}
    for cluster, ids in by_cluster.items():
        known = found.setdefault(cluster, {})
        for i in range(0, len(ids), UPSERT_BATCH):
            chunk = ids[i:i + UPSERT_BATCH]
            if postgres:
                cursor.execute("SELECT job_id, fingerprint FROM usage_records WHERE cluster = %s AND job_id = ANY(%s)",
                               (cluster, chunk))
            else:
                cursor.execute("SELECT job_id, fingerprint FROM usage_records WHERE cluster = ? AND job_id IN "
                               f"({','.join('?' * len(chunk))})", (cluster, *chunk))
            known.update(cursor.fetchall())
    return found


def day_of(session: Session, column):
    """The UTC day of a stored (naive UTC) timestamp, as each database spells it."""
    return cast(column, Date) if session.get_bind().dialect.name == "postgresql" else func.date(column)


def upsert_usage(session: Session, usages: Sequence[JobUsage]) -> int:
    """Insert or update rows by (cluster, job id), keep the daily rollup in step; returns how
    many rows changed."""
    if not usages:
        return 0
    on_postgres = session.get_bind().dialect.name == "postgresql"
    connection = session.connection()
    changed, touched = 0, set()
    for i in range(0, len(usages), UPSERT_BATCH):
        batch = usages[i:i + UPSERT_BATCH]
        before = {}  # id -> (account, start) of rows that exist: a changed start or account moves usage
        for cluster in {u.cluster for u in batch}:
            ids = [u.job_id for u in batch if u.cluster == cluster]
            before.update((row_id, (account, start)) for row_id, account, start in connection.execute(
                select(UsageRecord.id, UsageRecord.account, UsageRecord.start_at)
                .where(UsageRecord.cluster == cluster, UsageRecord.job_id.in_(ids))))
        # an unchanged row is not rewritten, nor returned (executemany's rowcount is -1 on psycopg)
        rows = _upsert_postgres(connection, batch) if on_postgres else _upsert_sqlite(connection, batch)
        changed += len(rows)
        for row_id, account, start in rows:
            touched.add((account, start.date()))
            if row_id in before:
                touched.add((before[row_id][0], before[row_id][1].date()))
    refresh_days(session, touched)
    return changed


_COLUMNS = ("cluster", "job_id", *_UPDATED)
_STAGE = f"SELECT {', '.join(_COLUMNS)} FROM usage_records"
# One statement per batch from a staging table: a multi-row INSERT built by SQLAlchemy costs
# more in compiling (SQLite) or client-side query parsing (psycopg) than the database's work.
_UPSERT = (
    f"INSERT INTO usage_records ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM usage_incoming "
    f"WHERE true ON CONFLICT (cluster, job_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _UPDATED)} "
    f"WHERE {' OR '.join(f'usage_records.{c} IS DISTINCT FROM excluded.{c}' for c in _UPDATED)} "
    "RETURNING id, account, start_at")


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _sqlite_time(moment: dt.datetime) -> str:
    # SQLAlchemy's storage format (%Y-%m-%d %H:%M:%S.%f), so that equal values compare equal as
    # text; isoformat spells it several times faster than strftime
    return _naive_utc(moment).isoformat(" ", "microseconds")


def _staged(usage: JobUsage, time) -> tuple:
    """A usage as a staging row, in _COLUMNS order, times through ``time``."""
    return (usage.cluster, usage.job_id, usage.account, usage.username, usage.partition, usage.state,
            time(usage.start_at), time(usage.end_at) if usage.end_at else None, usage.gpus, usage.cpus,
            usage.elapsed_seconds, usage.gpu_seconds, usage.cpu_seconds, usage.fingerprint)


def _upsert_sqlite(connection, batch: Sequence[JobUsage]) -> list[tuple]:
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS usage_incoming AS {_STAGE} WHERE 0")
    cursor.execute("DELETE FROM usage_incoming")
    cursor.executemany(f"INSERT INTO usage_incoming ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                       [_staged(usage, _sqlite_time) for usage in batch])
    cursor.execute(_UPSERT)
    return [(row_id, account, dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC))
            for row_id, account, start in cursor.fetchall()]


def _upsert_postgres(connection, batch: Sequence[JobUsage]) -> list[tuple]:
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS usage_incoming ON COMMIT DROP AS {_STAGE} WITH NO DATA")
    cursor.execute("TRUNCATE usage_incoming")
    with cursor.copy(f"COPY usage_incoming ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for usage in batch:
            copy.write_row(_staged(usage, _naive_utc))
    cursor.execute(_UPSERT)
    return [(row_id, account, start.replace(tzinfo=dt.UTC)) for row_id, account, start in cursor.fetchall()]


def refresh_days(session: Session, touched: set[tuple[str, dt.date]]) -> None:
    """Recompute the daily rollup of these (account, day) pairs from the job records."""
    if not touched:
        return
    first, last = min(d for _, d in touched), max(d for _, d in touched)
    accounts = sorted({a for a, _ in touched})
    day = day_of(session, UsageRecord.start_at)
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
    for i in range(0, len(accounts), 500):
        chunk = accounts[i:i + 500]
        session.execute(delete(UsageDay).where(UsageDay.account.in_(chunk), UsageDay.day >= first,
                                               UsageDay.day <= last))
        session.execute(insert_into(UsageDay).from_select(
            ["account", "day", "gpu_seconds", "cpu_seconds", "jobs"],
            select(UsageRecord.account, day, func.sum(UsageRecord.gpu_seconds), func.sum(UsageRecord.cpu_seconds),
                   func.count()).where(UsageRecord.account.in_(chunk), UsageRecord.start_at >= start,
                                       UsageRecord.start_at < end, UsageRecord.end_at.is_not(None))
            .group_by(UsageRecord.account, day)))


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
        return dt.datetime.combine(first_day, dt.time(), dt.UTC) if first_day else now - self.overlap

    async def run(self, now: dt.datetime | None = None) -> ImportReport:
        now = now or utcnow()
        with self.db.read() as session:
            start = self._start(session, now)
        windows = seen = changed = 0
        while start < now:
            end = min(now, start + self.chunk)
            # Parsing and upserting a window allocate millions of short-lived, acyclic objects: the
            # cyclic collector would only walk them (and the rest of the heap) again and again.
            document = await self.source.window(start, end)
            with gc_paused():
                with self.db.read() as session:
                    stored = stored_fingerprints(session, document.jobs)
                # a job stored exactly as sacct reports it is not parsed or written again (re-imports, overlaps)
                usages = list(parse_sacct(document, now, skip=lambda job: _stored_as_is(job, stored)))  # noqa: B023 (used at once)
            seen += len(document.jobs)
            del document, stored  # freed by reference counting
            usages += await self._still_running(usages, now, final=end >= now)
            with gc_paused(), self.db.write() as session:
                changed += upsert_usage(session, usages)
                state = session.get(ImportState, self.name)
                if state is None:
                    session.add(ImportState(source=self.name, watermark=end))
                else:
                    state.watermark = end
            windows, start = windows + 1, end
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
