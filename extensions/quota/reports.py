"""What users and admins read: balances, burn rate, usage over time, top consumers, CSV.

Read-only queries that turn the ledger into plain dicts (GPU-hours, ISO dates) for the API
and the pages.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .admin import allocation_record, project_record
from .balances import project_balance
from .ledger import accrued, hours
from .models import Member, Project, UsageRecord

BURN_DAYS = 7


def projects_of(session: Session, username: str | None, accounts: Iterable[str] = ()) -> list[Project]:
    """The projects ``username`` is a member of (every project when None), optionally only ``accounts``."""
    query = select(Project).options(selectinload(Project.members), selectinload(Project.allocations)) \
        .order_by(Project.account)
    if username is not None:
        query = query.where(Project.id.in_(select(Member.project_id).where(Member.username == username)))
    accounts = list(accounts)
    if accounts:
        query = query.where(Project.account.in_(accounts))
    return list(session.scalars(query))


def burn_rate(session: Session, account: str, now: dt.datetime, days: int = BURN_DAYS) -> float:
    """GPU-hours per day over the last ``days`` days (running jobs accrue)."""
    since = now - dt.timedelta(days=days)
    rows = session.execute(select(UsageRecord.gpus, UsageRecord.start_at, UsageRecord.end_at)
                           .where(UsageRecord.account == account, UsageRecord.gpus > 0,
                                  UsageRecord.start_at < now,
                                  (UsageRecord.end_at.is_(None)) | (UsageRecord.end_at > since))).all()
    used = sum(accrued(gpus, max(start, since), end, now) for gpus, start, end in rows)
    return hours(used) / days


def summary(session: Session, project: Project, now: dt.datetime) -> dict:
    balance = project_balance(session, project, now)
    active = [a for a in project.allocations if a.starts_on <= now.date() <= a.ends_on]
    return {
        **project_record(project),
        "allocations": [allocation_record(a) for a in project.allocations],
        "period": {"starts_on": balance.period[0].isoformat(), "ends_on": balance.period[1].isoformat()}
        if balance.period else None,
        "allocated_gpu_hours": hours(balance.allocated), "used_gpu_hours": hours(balance.used),
        "held_gpu_hours": hours(balance.held), "remaining_gpu_hours": hours(balance.remaining),
        "used_fraction": balance.used / balance.allocated if balance.allocated else None,
        "burn_gpu_hours_per_day": burn_rate(session, project.account, now),
        "active_allocations": len(active),
    }


def daily_usage(session: Session, account: str, since: dt.date, now: dt.datetime) -> list[dict]:
    """GPU-hours per day (by job start day) from ``since`` to today, days without use included."""
    day = func.date(UsageRecord.start_at)
    rows = dict(session.execute(
        select(day, func.sum(UsageRecord.gpu_seconds))
        .where(UsageRecord.account == account, UsageRecord.start_at >= _midnight(since),
               UsageRecord.end_at.is_not(None))
        .group_by(day)).all())
    running = session.execute(select(UsageRecord.gpus, UsageRecord.start_at).where(
        UsageRecord.account == account, UsageRecord.start_at >= _midnight(since), UsageRecord.end_at.is_(None))).all()
    series = {str(k): int(v) for k, v in rows.items()}
    for gpus, start in running:
        series[start.date().isoformat()] = series.get(start.date().isoformat(), 0) + accrued(gpus, start, None, now)
    days = (now.date() - since).days + 1
    return [{"day": (since + dt.timedelta(days=i)).isoformat(),
             "gpu_hours": hours(series.get((since + dt.timedelta(days=i)).isoformat(), 0))} for i in range(days)]


def top_consumers(session: Session, since: dt.datetime, limit: int = 10) -> list[dict]:
    rows = session.execute(
        select(UsageRecord.username, UsageRecord.account, func.sum(UsageRecord.gpu_seconds).label("used"))
        .where(UsageRecord.start_at >= since).group_by(UsageRecord.username, UsageRecord.account)
        .order_by(func.sum(UsageRecord.gpu_seconds).desc()).limit(limit)).all()
    return [{"username": u, "account": a, "gpu_hours": hours(int(s))} for u, a, s in rows]


CSV_FIELDS = ("cluster", "job_id", "account", "username", "partition", "state", "start_at", "end_at", "gpus",
              "cpus", "elapsed_seconds", "gpu_hours", "cpu_hours")


def usage_csv(records: Iterable[UsageRecord]) -> Iterator[str]:
    """Usage records as CSV text, a chunk per 500 rows (streamed by the API)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for i, r in enumerate(records, 1):
        writer.writerow([r.cluster, r.job_id, r.account, r.username, r.partition, r.state, r.start_at.isoformat(),
                         r.end_at.isoformat() if r.end_at else "", r.gpus, r.cpus, r.elapsed_seconds,
                         f"{hours(r.gpu_seconds):.4f}", f"{hours(r.cpu_seconds):.4f}"])
        if i % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def usage_records(session: Session, account: str, since: dt.datetime, until: dt.datetime) -> Iterator[UsageRecord]:
    query = select(UsageRecord).where(UsageRecord.account == account, UsageRecord.start_at >= since,
                                      UsageRecord.start_at < until).order_by(UsageRecord.start_at)
    yield from session.scalars(query.execution_options(yield_per=1000))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc)
