"""The workshops' KPI figures: workshops held that started in a period, and their distinct participants."""
from __future__ import annotations

import datetime as dt

import pytest

from factoryhub.report_period import Period
from factoryhub.servicedb import Database
from factoryhub.workshops.kpi import kpi_counts
from factoryhub.workshops.models import Participant, ParticipantKind, Workshop, WorkshopState
from factoryhub.workshops.service import MIGRATIONS
from tests.harness.databases import BACKENDS, migrated_database

NOVEMBER = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    yield from migrated_database(request, tmp_path, lambda url: Database(url, MIGRATIONS))


def workshop(wid: str, starts: str, state: WorkshopState,
             people: list[tuple[str, ParticipantKind]]) -> tuple[Workshop, list[Participant]]:
    start = dt.datetime.fromisoformat(starts).replace(tzinfo=dt.UTC)
    made = Workshop(id=wid, title=wid, trainer="tina", trainer_account="trainers-proj", account=f"ws-{wid}",
                    profile="gpu-1", seats=10, budget_gpu_seconds=36000, starts_at=start,
                    ends_at=start + dt.timedelta(hours=4), course_repo="https://git.example/c.git",
                    course_branch="main", state=state, made=[])
    return made, [Participant(workshop_id=wid, username=u, kind=k) for u, k in people]


def test_workshops_and_distinct_participants_of_a_period(db):
    inst, pool = ParticipantKind.institutional, ParticipantKind.pool
    with db.write() as session:
        for made, people in [
            workshop("w1", "2026-11-01T00:00:00", WorkshopState.ended,
                     [("ann", inst), ("ben", inst), ("train01", pool)]),
            workshop("w2", "2026-11-30T23:59:59", WorkshopState.ready, [("ann", inst), ("train01", pool),
                                                                         ("train02", pool)]),
            workshop("w3", "2026-12-01T00:00:00", WorkshopState.ready, [("cat", inst)]),    # next month: out
            workshop("w4", "2026-11-10T09:00:00", WorkshopState.failed, [("dan", inst)]),   # never held: out
            workshop("w5", "2026-10-31T23:59:59", WorkshopState.ended, [("eve", inst)]),    # last month: out
        ]:
            session.add(made)
            session.flush()
            session.add_all(people)
    with db.read() as session:
        # ann once, ben; train01 once per workshop (two people), train02
        assert kpi_counts(session, NOVEMBER) == {"workshops": 2, "participants": 5}
        assert kpi_counts(session, Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31))) == {"workshops": 0,
                                                                                        "participants": 0}
