"""The KPI report's ledger figures from a known data set: every figure written out by hand below,
computed from the jobs, holds and allocations listed in :func:`ledger` (November 2026)."""
from __future__ import annotations

import datetime as dt

import pytest

from factoryhub.quota.accounting import JobUsage
from factoryhub.quota.importer import upsert_usage
from factoryhub.quota.kpi import kpi_figures, merged, organisation_of
from factoryhub.quota.models import Allocation, Hold, HoldState, Project, Sector, Track
from factoryhub.report_period import Period, read_period

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
NOVEMBER = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def job(job_id, account, user, start, hours_, gpus, running=False) -> JobUsage:
    start_at = at(start)
    end_at = None if running else start_at + dt.timedelta(hours=hours_)
    elapsed = int((NOW - start_at).total_seconds()) if running else int(hours_ * 3600)
    return JobUsage("c1", job_id, account, user, "gpu", "RUNNING" if running else "COMPLETED", start_at, end_at,
                    gpus, 4, elapsed)


# GPU-hours: j1 2, j2 6, j3 10, j4 8, j9 0, j10 1, j6 (running, 2 GPUs from Nov 30 22:00 to NOW) 28
JOBS = [
    job("1", "p-alpha", "alice", "2026-11-01T00:00:00", 2, 1),   # the period's first instant: in
    job("2", "p-alpha", "alice", "2026-11-10T00:00:00", 3, 2),
    job("3", "p-beta", "bob", "2026-11-15T08:00:00", 5, 2),
    job("4", "p-gamma", "carol", "2026-11-30T23:59:59", 2, 4),   # the last day's last second: in
    job("5", "p-gamma", "dave", "2026-12-01T00:00:00", 1, 1),    # the next day's first instant: out
    job("6", "p-delta", "erin", "2026-11-30T22:00:00", 0, 2, running=True),
    job("7", "p-alpha", "alice", "2026-10-31T23:59:59", 1, 1),   # the day before: out (alice is not new)
    job("8", "p-idle", "frank", "2026-10-05T09:00:00", 1, 1),
    job("9", "p-beta", "bob", "2026-11-20T12:00:00", 1, 0),      # CPU only: a session, no GPU-hours
    job("10", "legacy-acct", "grace", "2026-11-12T06:00:00", 1, 1),  # an account with no project
    job("11", "p-gamma", "dave", "2026-12-01T03:00:00", 0, 1, running=True),  # running, started after: out
]


@pytest.fixture
def ledger(db):
    """Five projects, the jobs above, holds and allocations around November 2026."""
    with db.write() as session:
        projects = {
            "p-alpha": Project(account="p-alpha", title="Alpha", track=Track.exploratory, sector=Sector.research,
                               contact="PI@Uni.Example"),
            "p-beta": Project(account="p-beta", title="Beta", track=Track.scaling, sector=Sector.sme,
                              contact="ceo@startup.example"),
            "p-gamma": Project(account="p-gamma", title="Gamma", track=Track.production, sector=Sector.sme,
                               contact=""),
            "p-delta": Project(account="p-delta", title="Delta", track=Track.production, sector=Sector.industry,
                               contact="ops@uni.example"),
            "p-idle": Project(account="p-idle", title="Idle", track=Track.exploratory, sector=Sector.public,
                              contact="x@gov.example"),
        }
        grants = [("p-alpha", 100, "2026-11-01", "2026-11-30"),   # all of it in November: 100
                  ("p-alpha", 30, "2026-11-16", "2026-11-30"),    # overlaps the first: 30 more, usage counted once
                  ("p-beta", 60, "2026-10-02", "2026-11-30"),     # 30 of its 60 days: 30
                  ("p-gamma", 310, "2026-11-20", "2026-12-20"),   # 11 of its 31 days: 110
                  ("p-delta", 122, "2026-11-01", "2026-12-31"),   # 30 of its 61 days: 60
                  ("p-idle", 50, "2026-09-01", "2026-09-30")]     # no overlap
        for account, gpu_hours, starts, ends in grants:
            projects[account].allocations.append(Allocation(gpu_seconds=gpu_hours * 3600,
                                                            starts_on=dt.date.fromisoformat(starts),
                                                            ends_on=dt.date.fromisoformat(ends)))
        session.add_all(projects.values())
        session.flush()
        upsert_usage(session, JOBS)
        holds = [("p-alpha", "2", "2026-11-09T23:59:00"),   # 60 s to job 2
                 ("p-beta", "3", "2026-11-15T07:58:00"),    # 120 s
                 ("p-gamma", "4", "2026-11-30T23:54:59"),   # 300 s
                 ("p-delta", "6", "2026-11-30T21:50:00"),   # 600 s
                 ("p-gamma", "5", "2026-11-30T23:59:30"),   # 30 s: made in the period, its job started after
                 ("p-beta", None, "2026-11-16T10:00:00"),   # never got a job
                 ("p-alpha", "1", "2026-10-31T23:59:00"),   # made before the period
                 ("p-beta", "999", "2026-11-18T10:00:00")]  # its job is not in the ledger (yet)
        for account, job_id, created in holds:
            session.add(Hold(project_id=projects[account].id, username="someone", job_id=job_id, gpu_seconds=3600,
                             state=HoldState.settled, created_at=at(created),
                             expires_at=at(created) + dt.timedelta(days=1)))
    return db


@pytest.fixture
def november(ledger):
    with ledger.read() as session:
        return kpi_figures(session, NOVEMBER, NOW)


def test_active_users(november):
    assert november["users"]["active_users"] == 5  # alice, bob, carol, erin, grace (not dave, not frank)


def test_new_users(november):
    assert november["users"]["new_users"] == 4  # bob, carol, erin, grace (alice ran a job on Oct 31)


def test_smes_served(november):
    assert november["organisations"]["smes_served"] == 2  # p-beta, p-gamma


def test_organisations_served(november):
    # uni.example (p-alpha and p-delta), startup.example, p-gamma (no contact)
    assert november["organisations"]["organisations_served"] == 3


def test_total_gpu_hours_and_sessions(november):
    assert november["usage"]["total"] == {"gpu_hours": 55.0, "sessions": 7}


def test_gpu_hours_by_track(november):
    assert november["usage"]["by_track"] == {
        "exploratory": {"gpu_hours": 8.0, "sessions": 2}, "scaling": {"gpu_hours": 10.0, "sessions": 2},
        "production": {"gpu_hours": 36.0, "sessions": 2}, "unregistered": {"gpu_hours": 1.0, "sessions": 1}}


def test_gpu_hours_by_sector(november):
    assert november["usage"]["by_sector"] == {
        "research": {"gpu_hours": 8.0, "sessions": 2}, "sme": {"gpu_hours": 18.0, "sessions": 3},
        "industry": {"gpu_hours": 28.0, "sessions": 1}, "public": {"gpu_hours": 0.0, "sessions": 0},
        "training": {"gpu_hours": 0.0, "sessions": 0}, "unregistered": {"gpu_hours": 1.0, "sessions": 1}}


def test_gpu_hours_by_project_biggest_first(november):
    assert [(p["account"], p["gpu_hours"], p["sessions"]) for p in november["usage"]["by_project"]] == [
        ("p-delta", 28.0, 1), ("p-beta", 10.0, 2), ("p-alpha", 8.0, 2), ("p-gamma", 8.0, 1),
        ("legacy-acct", 1.0, 1)]
    assert november["usage"]["by_project"][0] == {"account": "p-delta", "title": "Delta", "track": "production",
                                                  "sector": "industry", "gpu_hours": 28.0, "sessions": 1}


def test_sessions_covered_by_the_request_to_running_figures(november):
    assert november["request_to_running"]["sessions"] == 5


def test_median_seconds_from_request_to_running(november):
    assert november["request_to_running"]["median_seconds"] == 120  # of 30, 60, 120, 300, 600


def test_p90_seconds_from_request_to_running(november):
    assert november["request_to_running"]["p90_seconds"] == 600  # nearest rank: the 5th of 5


def test_allocated_gpu_hours_pro_rata(november):
    assert november["allocations"]["allocated_gpu_hours"] == 330.0  # 100 + 30 + 30 + 110 + 60


def test_used_gpu_hours_of_the_allocated_accounts(november):
    assert november["allocations"]["used_gpu_hours"] == 54.0  # alpha 8 (once), beta 10, gamma 8, delta 28


def test_allocated_share_used(november):
    assert november["allocations"]["allocated_share_used"] == 0.1636  # 54 / 330


def test_the_period_is_in_the_report(november):
    assert november["period"] == {"since": "2026-11-01", "until": "2026-11-30", "days": 30}


def test_a_period_with_nothing_in_it_has_zeros_and_no_percentiles(ledger):
    with ledger.read() as session:
        empty = kpi_figures(session, read_period("2025-01", None, None, NOW.date()), NOW)
    assert empty["users"] == {"active_users": 0, "new_users": 0}
    assert empty["usage"]["total"] == {"gpu_hours": 0.0, "sessions": 0}
    assert empty["usage"]["by_project"] == []
    assert empty["request_to_running"] == {"sessions": 0, "median_seconds": None, "p90_seconds": None}
    assert empty["allocations"] == {"allocated_gpu_hours": 0.0, "used_gpu_hours": 0.0, "allocated_share_used": None}


def test_the_next_day_alone_holds_the_job_that_started_at_its_first_instant(ledger):
    with ledger.read() as session:
        december_1 = kpi_figures(session, Period(dt.date(2026, 12, 1), dt.date(2026, 12, 1)), NOW)
    assert december_1["users"]["active_users"] == 1  # dave (jobs 5 and 11)
    assert december_1["users"]["new_users"] == 1
    assert december_1["usage"]["total"] == {"gpu_hours": 10.0, "sessions": 2}  # job 5: 1, job 11: 9 h to NOW


def test_a_one_day_period_on_the_last_day_keeps_its_last_second(ledger):
    with ledger.read() as session:
        last_day = kpi_figures(session, Period(dt.date(2026, 11, 30), dt.date(2026, 11, 30)), NOW)
    assert last_day["usage"]["by_project"] == [
        {"account": "p-delta", "title": "Delta", "track": "production", "sector": "industry", "gpu_hours": 28.0,
         "sessions": 1},
        {"account": "p-gamma", "title": "Gamma", "track": "production", "sector": "sme", "gpu_hours": 8.0,
         "sessions": 1}]


def test_an_organisation_is_the_contacts_domain_lower_cased_or_the_account():
    def project(contact):
        return Project(account="p-x", title="X", track=Track.scaling, sector=Sector.sme, contact=contact)
    assert organisation_of(project("PI@Uni.Example")) == "uni.example"
    assert organisation_of(project("")) == "p-x"
    assert organisation_of(project("nobody")) == "p-x"
    assert organisation_of(project("trailing@")) == "p-x"


def test_touching_and_overlapping_windows_are_merged():
    d = dt.date.fromisoformat
    assert merged([(d("2026-11-16"), d("2026-11-30")), (d("2026-11-01"), d("2026-11-20")),
                   (d("2026-12-01"), d("2026-12-02")), (d("2026-12-05"), d("2026-12-06"))]) == [
        (d("2026-11-01"), d("2026-12-02")), (d("2026-12-05"), d("2026-12-06"))]


def test_one_session_is_its_own_median_and_p90(ledger):
    with ledger.read() as session:
        november_15 = kpi_figures(session, Period(dt.date(2026, 11, 15), dt.date(2026, 11, 15)), NOW)
    assert november_15["request_to_running"] == {"sessions": 1, "median_seconds": 120, "p90_seconds": 120}
