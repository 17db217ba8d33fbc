"""Balances, holds and their atomicity on a real SQLite ledger."""
from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from factoryhub.quota.accounting import JobUsage
from factoryhub.quota.balances import (
    UnknownHold,
    attach_job,
    close_hold,
    find_project,
    place_hold,
    project_balance,
    settled_cost,
)
from factoryhub.quota.importer import upsert_usage
from factoryhub.quota.models import AuditEntry, Hold, HoldState

from .conftest import NOW

HOUR = 3600
DAY = dt.timedelta(days=1)


def usage(job_id, gpus, start, end, account="proj-climate"):
    elapsed = int(((end or NOW) - start).total_seconds())
    return JobUsage("factoryhub", job_id, account, "alice", "gpu", "COMPLETED" if end else "RUNNING", start, end,
                    gpus, 1, elapsed)


def balance(db, account="proj-climate", now=NOW):
    with db.read() as session:
        return project_balance(session, find_project(session, account), now)


def test_used_counts_finished_jobs_and_running_accrual_in_the_period(db, climate):
    with db.write() as session:
        upsert_usage(session, [
            usage("1", 2, NOW - 3 * dt.timedelta(hours=1), NOW - dt.timedelta(hours=2)),   # 2 GPU-h
            usage("2", 1, NOW - dt.timedelta(minutes=30), None),                           # running: 0.5 GPU-h
            usage("3", 4, dt.datetime(2026, 10, 30, tzinfo=dt.UTC),              # before the period
                  dt.datetime(2026, 10, 31, tzinfo=dt.UTC)),
            usage("4", 4, NOW - dt.timedelta(hours=1), NOW, account="proj-other"),         # another project
        ])
    b = balance(db)
    assert (b.allocated, b.used, b.held) == (10 * HOUR, 2 * HOUR + HOUR // 2, 0)
    assert balance(db, now=NOW + dt.timedelta(minutes=30)).used == 3 * HOUR  # the running job accrues


def test_a_hold_counts_until_accounting_takes_over(db, climate):
    result = place_hold(db, "proj-climate", "alice", "", 4 * HOUR, DAY, now=NOW)
    assert result.decision.allowed and result.hold_id
    assert balance(db).held == 4 * HOUR
    attach_job(db, result.hold_id, "77")
    with db.write() as session:  # the job has run 1 h on 1 GPU: the hold keeps only the rest
        upsert_usage(session, [usage("77", 1, NOW - dt.timedelta(hours=1), None)])
    b = balance(db)
    assert (b.used, b.held) == (HOUR, 3 * HOUR)
    close_hold(db, result.hold_id, ran=True)
    assert balance(db).held == 3 * HOUR  # settled, but the job's final record is not imported yet
    with db.write() as session:
        upsert_usage(session, [usage("77", 1, NOW - dt.timedelta(hours=1), NOW)])
    assert (balance(db).used, balance(db).held) == (HOUR, 0)


def test_a_hold_settled_with_the_sessions_charge_counts_only_that_until_accounting_has_the_job(db, climate):
    result = place_hold(db, "proj-climate", "alice", "", 4 * HOUR, DAY, now=NOW)
    attach_job(db, result.hold_id, "78")
    assert close_hold(db, result.hold_id, ran=True, now=NOW, charged_gpu_hours=0.5)
    assert balance(db).held == HOUR // 2  # at once: not the whole reservation until the next import
    with db.write() as session:  # accounting sees the job running for 10 minutes on 1 GPU so far
        upsert_usage(session, [usage("78", 1, NOW - dt.timedelta(minutes=10), None)])
    assert (balance(db).used, balance(db).held) == (600, HOUR // 2 - 600)  # counted once, never twice
    with db.write() as session:  # its final record: accounting has it all now
        upsert_usage(session, [usage("78", 1, NOW - dt.timedelta(minutes=30), NOW)])
    assert (balance(db).used, balance(db).held) == (HOUR // 2, 0)
    with db.read() as session:
        hold = session.get(Hold, result.hold_id)
        assert (hold.state, hold.charged_gpu_seconds, hold.gpu_seconds) == (HoldState.settled, HOUR // 2, 4 * HOUR)


@pytest.mark.parametrize("charged, counted", [
    (None, 4 * HOUR),        # no figure: the reservation, as before
    (0, 0),
    (1 / 3600, 1),           # whole GPU-seconds, rounded up
    (2.0000001, 2 * HOUR + 1),
    (4, 4 * HOUR),
    (9, 4 * HOUR),           # never more than it reserved
    (1e300, 4 * HOUR),       # finite but enormous: no overflow on the way
])
def test_a_settled_hold_counts_at_most_its_reservation(db, climate, charged, counted):
    result = place_hold(db, "proj-climate", "alice", "", 4 * HOUR, DAY, now=NOW)
    attach_job(db, result.hold_id, "79")
    close_hold(db, result.hold_id, ran=True, now=NOW, charged_gpu_hours=charged)
    assert balance(db).held == counted


def test_a_charge_changes_nothing_for_a_session_that_never_ran_or_a_hold_closed_before(db, climate):
    never = place_hold(db, "proj-climate", "alice", "a", 2 * HOUR, DAY, now=NOW)
    close_hold(db, never.hold_id, ran=False, now=NOW, charged_gpu_hours=1)
    no_job = place_hold(db, "proj-climate", "alice", "b", 2 * HOUR, DAY, now=NOW)
    close_hold(db, no_job.hold_id, ran=True, now=NOW, charged_gpu_hours=1)  # no job: nothing to settle
    assert balance(db).held == 0
    settled = place_hold(db, "proj-climate", "alice", "c", 2 * HOUR, DAY, now=NOW)
    attach_job(db, settled.hold_id, "80")
    assert close_hold(db, settled.hold_id, ran=True, now=NOW) is True
    assert close_hold(db, settled.hold_id, ran=True, now=NOW, charged_gpu_hours=0) is False  # closed already
    assert balance(db).held == 2 * HOUR
    assert attach_job(db, settled.hold_id, "81") is False
    with db.read() as session:
        assert session.get(Hold, settled.hold_id).job_id == "80"
    for call in (lambda: close_hold(db, 999, ran=True), lambda: attach_job(db, 999, "1")):
        with pytest.raises(UnknownHold):
            call()


def test_settled_cost_uses_the_one_cost_conversion():
    from factoryhub.costs import to_gpu_seconds

    for hours in (0.1, 0.25, 1 / 7, 3.999999):
        assert settled_cost(4 * HOUR, hours) == to_gpu_seconds(hours)
    assert settled_cost(HOUR, 2) == HOUR


def test_released_and_expired_holds_count_nothing(db, climate):
    released = place_hold(db, "proj-climate", "alice", "a", 2 * HOUR, DAY, now=NOW)
    close_hold(db, released.hold_id, ran=False)
    place_hold(db, "proj-climate", "alice", "b", 3 * HOUR, dt.timedelta(hours=1), now=NOW)
    assert balance(db).held == 3 * HOUR
    assert balance(db, now=NOW + dt.timedelta(hours=2)).held == 0
    with db.read() as session:
        assert session.get(Hold, released.hold_id).state is HoldState.released


def test_a_hold_beyond_the_balance_is_refused_and_writes_nothing(db, climate):
    result = place_hold(db, "proj-climate", "alice", "", 11 * HOUR, DAY, now=NOW)
    assert not result.decision.allowed and result.hold_id is None
    assert "10.00 GPU-hours left" in result.decision.message and "up to 11.00" in result.decision.message
    with db.read() as session:
        assert session.scalars(select(Hold)).all() == []


def test_concurrent_holds_never_overspend(db, climate):
    """20 spawns of 3 GPU-hours each against 10: exactly 3 are held."""
    def spawn(i):
        return place_hold(db, "proj-climate", "alice", f"s{i}", 3 * HOUR, DAY, now=NOW).decision.allowed

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(spawn, range(20)))
    assert outcomes.count(True) == 3
    assert balance(db).held == 9 * HOUR


def test_the_audit_log_refuses_updates_and_deletes(db):
    with db.write() as session:
        session.add(AuditEntry(actor="admin", action="create", entity="project", entity_id="1", after={"a": 1}))
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), db.write() as session:
            session.execute(text(statement))
    with db.read() as session:
        assert [e.actor for e in session.scalars(select(AuditEntry))] == ["admin"]


def test_bulk_summaries_agree_with_the_balance_used_for_holds(db, climate):
    from factoryhub.quota.models import Allocation, Project, Sector, Track
    from factoryhub.quota.reports import projects_of, summaries

    with db.write() as session:
        session.add(Project(account="proj-other", title="Other", track=Track.scaling, sector=Sector.sme,
                            allocations=[Allocation(gpu_seconds=50 * HOUR, starts_on=dt.date(2026, 11, 20),
                                                    ends_on=dt.date(2026, 11, 30))]))
        session.add(Project(account="proj-none", title="No allocation", track=Track.exploratory,
                            sector=Sector.public))
        upsert_usage(session, [
            usage("1", 2, NOW - dt.timedelta(hours=3), NOW - dt.timedelta(hours=2)),
            usage("2", 1, NOW - dt.timedelta(minutes=30), None),
            usage("3", 4, dt.datetime(2026, 11, 19, tzinfo=dt.UTC),   # before proj-other's period
                  dt.datetime(2026, 11, 19, 1, tzinfo=dt.UTC), account="proj-other"),
            usage("4", 8, NOW - dt.timedelta(hours=1), NOW, account="proj-other"),
        ])
    held = place_hold(db, "proj-other", "alice", "", 2 * HOUR, DAY, now=NOW)
    attach_job(db, held.hold_id, "4")
    with db.read() as session:
        projects = projects_of(session, None)
        bulk = {s["account"]: s for s in summaries(session, projects, NOW)}
        for project in projects:
            b = project_balance(session, project, NOW)
            s = bulk[project.account]
            assert (s["allocated_gpu_hours"], s["used_gpu_hours"], s["held_gpu_hours"]) == \
                (b.allocated / HOUR, b.used / HOUR, b.held / HOUR), project.account
    assert bulk["proj-other"]["used_gpu_hours"] == 8 and bulk["proj-other"]["held_gpu_hours"] == 0
    assert bulk["proj-none"]["period"] is None and bulk["proj-none"]["remaining_gpu_hours"] == 0
    assert bulk["proj-climate"]["burn_gpu_hours_per_day"] == pytest.approx(2.5 / 7)
