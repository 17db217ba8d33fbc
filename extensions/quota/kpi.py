"""The KPI report's ledger figures for a period: users, organisations, GPU-hours and sessions by
track, sector and project, time from request to running session, and the share of allocated
GPU-hours used.

Pure read-only queries that turn the ledger into a plain dict (docs/kpi.md defines each figure).
They aggregate in SQL and read the daily rollup (usage_days) for finished jobs, so a year of a
million job records costs a handful of index scans; only running jobs, holds' percentiles and
per-account totals come back as rows.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from factoryhub.report_period import Period

from .ledger import accrued, hours
from .models import Allocation, Hold, Project, Sector, Track, UsageDay, UsageRecord

HOURS_DIGITS = 3  # GPU-hours as the report gives them (to the 3.6 s)
SHARE_DIGITS = 4
TOP_PROJECTS = 10  # the page's chart of projects
UNREGISTERED = "unregistered"  # the track and sector of accounts the ledger has no project for


def kpi_figures(session: Session, period: Period, now: dt.datetime) -> dict:
    """Every ledger figure of the KPI report for ``period``, as a plain dict (see docs/kpi.md)."""
    usage = usage_by_account(session, period, now)
    projects = {p.account: p for p in session.scalars(select(Project))}
    return {
        "period": period.as_dict(),
        "users": users_served(session, period),
        "organisations": organisations_served(usage, projects),
        "usage": usage_breakdown(usage, projects),
        "request_to_running": request_to_running(session, period),
        "allocations": allocated_share_used(session, period, now),
    }


# --- usage ------------------------------------------------------------------------------
def usage_by_account(session: Session, period: Period, now: dt.datetime) -> dict[str, list[int]]:
    """account -> [GPU-seconds, sessions] of the jobs that started in ``period``: finished ones from
    the daily rollup, running ones accrued to ``now``."""
    found: dict[str, list[int]] = {}
    for account, seconds, jobs in session.execute(
            select(UsageDay.account, func.sum(UsageDay.gpu_seconds), func.sum(UsageDay.jobs))
            .where(UsageDay.day >= period.since, UsageDay.day <= period.until).group_by(UsageDay.account)):
        if jobs:
            found[account] = [int(seconds or 0), int(jobs)]
    for account, gpus, start in _running(session, period.start, period.end):
        entry = found.setdefault(account, [0, 0])
        entry[0] += accrued(gpus, start, None, now)
        entry[1] += 1
    return found


def _running(session: Session, start: dt.datetime, end: dt.datetime):
    """(account, GPUs, start) of the jobs still running that started in [start, end)."""
    return session.execute(select(UsageRecord.account, UsageRecord.gpus, UsageRecord.start_at).where(
        UsageRecord.end_at.is_(None), UsageRecord.start_at >= start, UsageRecord.start_at < end))


def usage_breakdown(usage: dict[str, list[int]], projects: dict[str, Project]) -> dict:
    """GPU-hours and sessions in total, by access track, by sector and by project (biggest first)."""
    by_track = {t.value: [0, 0] for t in Track}
    by_sector = {s.value: [0, 0] for s in Sector}
    rows = []
    for account, (seconds, jobs) in usage.items():
        project = projects.get(account)
        track = project.track.value if project else UNREGISTERED
        sector = project.sector.value if project else UNREGISTERED
        for table, key in ((by_track, track), (by_sector, sector)):
            entry = table.setdefault(key, [0, 0])
            entry[0] += seconds
            entry[1] += jobs
        rows.append({"account": account, "title": project.title if project else "", "track": track,
                     "sector": sector, "gpu_hours": _hours(seconds), "sessions": jobs})
    rows.sort(key=lambda r: (-r["gpu_hours"], -r["sessions"], r["account"]))
    total = [sum(s for s, _ in usage.values()), sum(j for _, j in usage.values())]
    return {"total": _figure(total), "by_track": {k: _figure(v) for k, v in by_track.items()},
            "by_sector": {k: _figure(v) for k, v in by_sector.items()}, "by_project": rows}


def _figure(pair: list[int]) -> dict:
    return {"gpu_hours": _hours(pair[0]), "sessions": pair[1]}


def _hours(seconds: float) -> float:
    return round(hours(seconds), HOURS_DIGITS)


# --- users and organisations --------------------------------------------------------------
def users_served(session: Session, period: Period) -> dict:
    """Distinct users with a job starting in the period, and those of them whose first job ever did."""
    active = (select(UsageRecord.username).distinct()
              .where(UsageRecord.start_at >= period.start, UsageRecord.start_at < period.end).subquery())
    earlier = aliased(UsageRecord)
    # one index probe (username, start_at) per active user: did they run anything before?
    before = exists(select(earlier.id).where(earlier.username == active.c.username, earlier.start_at < period.start))
    count, new = session.execute(select(func.count(), func.coalesce(func.sum(case((before, 0), else_=1)), 0))
                                 .select_from(active)).one()
    return {"active_users": int(count), "new_users": int(new)}


def organisation_of(project: Project) -> str:
    """The organisation a project stands for: its contact's e-mail domain, lower-cased; its
    account when the contact names no domain."""
    _, at, domain = (project.contact or "").strip().rpartition("@")
    return domain.lower() if at and domain else project.account


def organisations_served(usage: dict[str, list[int]], projects: dict[str, Project]) -> dict:
    """SME projects and distinct organisations among the projects with a job in the period."""
    served = [projects[a] for a in usage if a in projects]
    return {"smes_served": sum(1 for p in served if p.sector == Sector.sme),
            "organisations_served": len({organisation_of(p) for p in served})}


# --- request to running ---------------------------------------------------------------------
def request_to_running(session: Session, period: Period) -> dict:
    """Median and 90th percentile (nearest rank) of the seconds from a session's request (its hold)
    to its job's start, over the holds made in the period whose job the ledger knows."""
    delay = _seconds_between(session, Hold.created_at, UsageRecord.start_at)
    ranked = (select(delay.label("delay"), func.row_number().over(order_by=delay).label("rank"),
                     func.count().over().label("n")).select_from(Hold)
              .join(UsageRecord, and_(UsageRecord.cluster.in_(clusters(session)), UsageRecord.job_id == Hold.job_id))
              .where(Hold.job_id.is_not(None), Hold.created_at >= period.start, Hold.created_at < period.end)
              .subquery())
    # nearest rank: the p-th percentile of n is the ceil(p * n)-th smallest, in whole-number arithmetic
    median_rank, p90_rank = (ranked.c.n + 1) // 2, (9 * ranked.c.n + 9) // 10
    found = session.execute(select(ranked.c.delay, ranked.c.rank, ranked.c.n, median_rank, p90_rank)
                            .where((ranked.c.rank == median_rank) | (ranked.c.rank == p90_rank))).all()
    figures = {"sessions": int(found[0].n) if found else 0, "median_seconds": None, "p90_seconds": None}
    for value, rank, _n, median_at, p90_at in found:
        if rank == median_at:
            figures["median_seconds"] = round(float(value))
        if rank == p90_at:
            figures["p90_seconds"] = round(float(value))
    return figures


def clusters(session: Session) -> list[str]:
    """The clusters the ledger has jobs of, each found with one index probe (cluster leads an index)."""
    found: list[str] = []
    while (name := session.scalar(select(func.min(UsageRecord.cluster)).where(
            UsageRecord.cluster > found[-1]) if found else select(func.min(UsageRecord.cluster)))) is not None:
        found.append(name)
    return found


def _seconds_between(session: Session, earlier, later):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


# --- allocations ------------------------------------------------------------------------------
def allocated_share_used(session: Session, period: Period, now: dt.datetime) -> dict:
    """GPU-hours allocated in the period (each allocation overlapping it, pro rata to the days it
    overlaps), those accounts' GPU-hours in the overlapping days, and used / allocated."""
    allocated = 0.0
    windows: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for account, seconds, starts, ends in session.execute(
            select(Project.account, Allocation.gpu_seconds, Allocation.starts_on, Allocation.ends_on)
            .join(Project, Project.id == Allocation.project_id)
            .where(Allocation.starts_on <= period.until, Allocation.ends_on >= period.since)):
        first, last = max(starts, period.since), min(ends, period.until)
        allocated += seconds * ((last - first).days + 1) / ((ends - starts).days + 1)
        windows.setdefault(account, []).append((first, last))
    used = 0
    by_window: dict[tuple[dt.date, dt.date], list[str]] = {}
    for account, spans in windows.items():
        for span in merged(spans):
            by_window.setdefault(span, []).append(account)
    for (first, last), accounts in by_window.items():  # allocations follow calls: few distinct windows
        used += int(session.scalar(select(func.coalesce(func.sum(UsageDay.gpu_seconds), 0)).where(
            UsageDay.account.in_(accounts), UsageDay.day >= first, UsageDay.day <= last)) or 0)
    for account, gpus, started in _running(session, period.start, period.end):
        if any(first <= started.date() <= last for first, last in merged(windows.get(account, []))):
            used += accrued(gpus, started, None, now)
    return {"allocated_gpu_hours": _hours(allocated), "used_gpu_hours": _hours(used),
            "allocated_share_used": round(used / allocated, SHARE_DIGITS) if allocated else None}


def merged(spans: Iterable[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Day ranges (both ends inclusive) with overlapping or touching ones joined, in order."""
    out: list[tuple[dt.date, dt.date]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out
