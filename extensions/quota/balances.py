"""Reading balances and placing holds: the ledger's queries, one transaction each.

``place_hold`` is the only place where a balance turns into a decision that writes:
it locks the project (row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite, see db.py)
so that concurrent spawns see each other's holds and can never overspend.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryhub.costs import to_gpu_seconds

from .db import Database
from .ledger import Balance, Decision, accrued, decide
from .models import Allocation, Hold, HoldState, Member, Project, UsageRecord, utcnow


class UnknownProject(LookupError):
    """No project for this Slurm account."""


class UnknownHold(LookupError):
    """No hold with this id."""


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def active_period(session: Session, project: Project, today: dt.date) -> tuple[dt.date, dt.date, int] | None:
    """(first day, last day, GPU-seconds) of the allocations active ``today``; None if none is."""
    row = session.execute(
        select(func.min(Allocation.starts_on), func.max(Allocation.ends_on), func.sum(Allocation.gpu_seconds))
        .where(Allocation.project_id == project.id, Allocation.starts_on <= today, Allocation.ends_on >= today)
    ).one()
    return None if row[0] is None else (row[0], row[1], int(row[2]))


def used_in(session: Session, account: str, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> int:
    """GPU-seconds of jobs charged to ``account`` that started in [start, end)."""
    in_period = (UsageRecord.account == account, UsageRecord.start_at >= start, UsageRecord.start_at < end)
    finished = session.scalar(select(func.coalesce(func.sum(UsageRecord.gpu_seconds), 0))
                              .where(*in_period, UsageRecord.end_at.is_not(None)))
    running = session.execute(select(UsageRecord.gpus, UsageRecord.start_at)
                              .where(*in_period, UsageRecord.end_at.is_(None), UsageRecord.gpus > 0)).all()
    return int(finished) + sum(accrued(gpus, start_at, None, now) for gpus, start_at in running)


def held_by_project(session: Session, project_ids: list[int], now: dt.datetime) -> dict[int, int]:
    """The part of each hold that accounting has not counted yet, summed per project.

    An open hold counts in full minus what its job has accrued; a settled hold keeps
    counting until its job's final record is imported (so the gap between a session's end
    and the next import cannot be spent twice) — in full, or only what the spawner said the
    session cost when it closed the hold (``charged_gpu_seconds``). Expired and released
    holds count nothing.
    """
    holds = session.execute(
        select(Hold.project_id, func.coalesce(Hold.charged_gpu_seconds, Hold.gpu_seconds), Hold.state,
               UsageRecord.gpus, UsageRecord.start_at, UsageRecord.end_at)
        .join(Project, Project.id == Hold.project_id)
        .outerjoin(UsageRecord, (UsageRecord.job_id == Hold.job_id) & (UsageRecord.account == Project.account))
        .where(Hold.project_id.in_(project_ids), Hold.state.in_((HoldState.open, HoldState.settled)),
               Hold.expires_at > now)
    ).all()
    held: dict[int, int] = {}
    for project_id, cost, state, gpus, start_at, end_at in holds:
        if state is HoldState.settled and end_at is not None:
            continue
        counted = accrued(gpus, start_at, end_at, now) if start_at is not None else 0
        held[project_id] = held.get(project_id, 0) + max(0, cost - counted)
    return held


def held_for(session: Session, project: Project, now: dt.datetime) -> int:
    """GPU-seconds the holds of ``project`` count now."""
    return held_by_project(session, [project.id], now).get(project.id, 0)


def project_balance(session: Session, project: Project, now: dt.datetime) -> Balance:
    """Allocated, used and held GPU-seconds of ``project``'s active period at ``now``."""
    period = active_period(session, project, now.date())
    held = held_for(session, project, now)
    if period is None:
        return Balance(project.account, 0, 0, held)
    first, last, allocated = period
    used = used_in(session, project.account, _day_start(first), _day_start(last + dt.timedelta(days=1)), now)
    return Balance(project.account, allocated, used, held, (first, last))


def find_project(session: Session, account: str, *, lock: bool = False) -> Project:
    """The project of Slurm account ``account`` (locked for update when asked); UnknownProject if none."""
    query = select(Project).where(Project.account == account)
    project = session.scalar(query.with_for_update() if lock else query)
    if project is None:
        raise UnknownProject(f"no project for Slurm account {account!r}")
    return project


def is_member(session: Session, project: Project, username: str) -> bool:
    """Whether ``username`` is a member of ``project``."""
    return session.get(Member, (project.id, username)) is not None


@dataclass(frozen=True)
class HoldResult:
    """The decision on a hold, the balance it was made on, and the hold's id when placed."""
    decision: Decision
    balance: Balance
    hold_id: int | None = None


def place_hold(db: Database, account: str, username: str, server_name: str, cost: int,
               lifetime: dt.timedelta, now: dt.datetime | None = None) -> HoldResult:
    """Reserve ``cost`` GPU-seconds for a session, or refuse; atomic against other holds."""
    now = now or utcnow()
    with db.write() as session:
        project = find_project(session, account, lock=True)
        balance = project_balance(session, project, now)
        decision = decide(balance, cost)
        if not decision.allowed:
            return HoldResult(decision, balance)
        hold = Hold(project_id=project.id, username=username, server_name=server_name, gpu_seconds=cost,
                    created_at=now, expires_at=now + lifetime)
        session.add(hold)
        session.flush()
        return HoldResult(decision, balance, hold.id)


def attach_job(db: Database, hold_id: int, job_id: str) -> bool:
    """Link a hold to the Slurm job it pays for, so accounting can take over from it.
    False (nothing changed) when the hold is closed already; UnknownHold if there is none."""
    with db.write() as session:
        hold = session.get(Hold, hold_id)
        if hold is None:
            raise UnknownHold(hold_id)
        if hold.state is not HoldState.open:
            return False
        hold.job_id = job_id
        return True


def settled_cost(reserved: int, charged_gpu_hours: float) -> int:
    """GPU-seconds a settled hold keeps counting: the session's charge, never more than was reserved."""
    if charged_gpu_hours * 3600 >= reserved:  # also keeps a huge finite figure away from to_gpu_seconds
        return reserved
    return min(reserved, to_gpu_seconds(charged_gpu_hours))


def close_hold(db: Database, hold_id: int, ran: bool, now: dt.datetime | None = None,
               charged_gpu_hours: float | None = None) -> bool:
    """End a hold: settled if its session ran (accounting takes over), released if it never did.

    A settled hold counts until its job's final usage is imported: its whole reservation, or
    with ``charged_gpu_hours`` (what the spawner measured at stop) at most that. False when the
    hold was closed already (nothing changes); UnknownHold if there is none.
    """
    with db.write() as session:
        hold = session.get(Hold, hold_id)
        if hold is None:
            raise UnknownHold(hold_id)
        if hold.state is not HoldState.open:
            return False
        hold.state = HoldState.settled if ran and hold.job_id else HoldState.released
        if hold.state is HoldState.settled and charged_gpu_hours is not None:
            hold.charged_gpu_seconds = settled_cost(hold.gpu_seconds, charged_gpu_hours)
        hold.closed_at = now or utcnow()
        return True
