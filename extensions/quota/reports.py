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
from sqlalchemy.orm import Session

from .balances import held_by_project
from .ledger import Balance, accrued, hours
from .models import Allocation, Member, Project, UsageDay, UsageRecord

BURN_DAYS = 7


def projects_of(session: Session, username: str | None, accounts: Iterable[str] = (),
                limit: int | None = None, offset: int = 0) -> list[Project]:
    """The projects ``username`` is a member of (every project when None), optionally only
    ``accounts``, ordered by account, optionally one page."""
    query = _projects_query(username, accounts).order_by(Project.account).offset(offset)
    return list(session.scalars(query.limit(limit) if limit is not None else query))


def count_projects(session: Session, username: str | None, accounts: Iterable[str] = ()) -> int:
    """How many projects a listing would show: those of ``username`` (None: all), narrowed to ``accounts`` if given."""
    return session.scalar(select(func.count()).select_from(_projects_query(username, accounts).subquery()))


def _projects_query(username: str | None, accounts: Iterable[str]):
    query = select(Project)
    if username is not None:
        query = query.where(Project.id.in_(select(Member.project_id).where(Member.username == username)))
    accounts = list(accounts)
    if accounts:
        query = query.where(Project.account.in_(accounts))
    return query


def summary(session: Session, project: Project, now: dt.datetime) -> dict:
    """One project's summary (balance, burn rate, allocations, members) as the API and pages show it."""
    return summaries(session, [project], now)[0]


def balances(session: Session, projects: list[Project], now: dt.datetime) -> dict[int, tuple[Balance, float]]:
    """(balance, GPU-hours burnt per day) of each project id, in a fixed number of queries.

    Finished jobs come from the daily rollup (usage_days, by job start day, so day-aligned
    periods are exact); running jobs accrue live from their records. balances.project_balance
    computes the same from the job records one project at a time (tests hold them equal).
    """
    if not projects:
        return {}
    ids, accounts, today = [p.id for p in projects], [p.account for p in projects], now.date()
    periods = {pid: (first, last, int(total)) for pid, first, last, total in session.execute(
        select(Allocation.project_id, func.min(Allocation.starts_on), func.max(Allocation.ends_on),
               func.sum(Allocation.gpu_seconds))
        .where(Allocation.project_id.in_(ids), Allocation.starts_on <= today, Allocation.ends_on >= today)
        .group_by(Allocation.project_id))}
    bounds = {p.account: periods[p.id][:2] for p in projects if p.id in periods}
    burn_from = today - dt.timedelta(days=BURN_DAYS - 1)
    used, burned = dict.fromkeys(accounts, 0), dict.fromkeys(accounts, 0)
    by_period: dict[tuple[dt.date, dt.date], list[str]] = {}
    for account, period in bounds.items():  # allocations follow calls: a page has few distinct periods
        by_period.setdefault(period, []).append(account)
    for (first, last), members in [*by_period.items(), ((burn_from, today), None)]:
        totals = session.execute(
            select(UsageDay.account, func.sum(UsageDay.gpu_seconds))
            .where(UsageDay.account.in_(members or accounts), UsageDay.day >= first, UsageDay.day <= last)
            .group_by(UsageDay.account))
        target = burned if members is None else used
        for account, seconds in totals:
            target[account] += int(seconds)
    since = _midnight(burn_from)
    for account, gpus, start in session.execute(
            select(UsageRecord.account, UsageRecord.gpus, UsageRecord.start_at)
            .where(UsageRecord.end_at.is_(None), UsageRecord.account.in_(accounts), UsageRecord.gpus > 0)):
        if account in bounds and bounds[account][0] <= start.date() <= bounds[account][1]:
            used[account] += accrued(gpus, start, None, now)
        burned[account] += accrued(gpus, max(start, since), None, now)
    held = held_by_project(session, ids, now)
    result = {}
    for p in projects:
        first, last, allocated = periods.get(p.id, (None, None, 0))
        balance = Balance(p.account, allocated, used[p.account], held.get(p.id, 0), (first, last) if first else None)
        result[p.id] = (balance, hours(burned[p.account]) / BURN_DAYS)
    return result


def summaries(session: Session, projects: list[Project], now: dt.datetime) -> list[dict]:
    """:func:`summary` of many projects in a fixed number of queries, whatever their number."""
    if not projects:
        return []
    ids = [p.id for p in projects]
    balance_of = balances(session, projects, now)
    # members and allocations as plain rows: ORM objects for every member of 50 projects cost
    # more in allocation (and garbage collection) than every balance query together
    members: dict[int, list[str]] = {pid: [] for pid in ids}
    for pid, username in session.execute(select(Member.project_id, Member.username)
                                         .where(Member.project_id.in_(ids)).order_by(Member.username)):
        members[pid].append(username)
    allocations: dict[int, list[dict]] = {pid: [] for pid in ids}
    account_of = {p.id: p.account for p in projects}
    for a in session.execute(select(Allocation.id, Allocation.project_id, Allocation.gpu_seconds,
                                    Allocation.cpu_seconds, Allocation.starts_on, Allocation.ends_on, Allocation.notes)
                             .where(Allocation.project_id.in_(ids)).order_by(Allocation.starts_on, Allocation.id)):
        allocations[a.project_id].append({
            "id": a.id, "account": account_of[a.project_id], "gpu_hours": hours(a.gpu_seconds),
            "cpu_hours": hours(a.cpu_seconds), "starts_on": a.starts_on.isoformat(), "ends_on": a.ends_on.isoformat(),
            "notes": a.notes})
    return [_summary(p, members[p.id], allocations[p.id], *balance_of[p.id], now) for p in projects]


def _summary(project: Project, members: list[str], allocations: list[dict], balance: Balance,
             burn_per_day: float, now: dt.datetime) -> dict:
    today = now.date().isoformat()
    return {
        "account": project.account, "title": project.title, "track": project.track.value,
        "sector": project.sector.value, "contact": project.contact, "pi": project.pi,
        "members": members,
        "allocations": allocations,
        "period": {"starts_on": balance.period[0].isoformat(), "ends_on": balance.period[1].isoformat()}
        if balance.period else None,
        "allocated_gpu_hours": hours(balance.allocated), "used_gpu_hours": hours(balance.used),
        "held_gpu_hours": hours(balance.held), "remaining_gpu_hours": hours(balance.remaining),
        "used_fraction": balance.used / balance.allocated if balance.allocated else None,
        "burn_gpu_hours_per_day": burn_per_day,
        "active_allocations": sum(1 for a in allocations if a["starts_on"] <= today <= a["ends_on"]),
    }


def daily_usage(session: Session, account: str, since: dt.date, now: dt.datetime) -> list[dict]:
    """GPU-hours per day (by job start day) from ``since`` to today, days without use included."""
    series = {day: seconds for day, seconds in session.execute(
        select(UsageDay.day, UsageDay.gpu_seconds).where(UsageDay.account == account, UsageDay.day >= since))}
    for gpus, start in session.execute(select(UsageRecord.gpus, UsageRecord.start_at).where(
            UsageRecord.end_at.is_(None), UsageRecord.account == account, UsageRecord.start_at >= _midnight(since))):
        series[start.date()] = series.get(start.date(), 0) + accrued(gpus, start, None, now)
    days = [since + dt.timedelta(days=i) for i in range((now.date() - since).days + 1)]
    return [{"day": day.isoformat(), "gpu_hours": hours(series.get(day, 0))} for day in days]


def top_consumers(session: Session, since: dt.datetime, limit: int = 10) -> list[dict]:
    """The users and accounts that used the most GPU-hours since ``since``, biggest first."""
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
    """An account's usage records that started in [``since``, ``until``), oldest first, streamed for CSV export."""
    query = select(UsageRecord).where(UsageRecord.account == account, UsageRecord.start_at >= since,
                                      UsageRecord.start_at < until).order_by(UsageRecord.start_at)
    yield from session.scalars(query.execution_options(yield_per=1000))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
