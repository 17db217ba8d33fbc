from __future__ import annotations

import datetime as dt

import pytest

from factoryhub.quota.db import Database
from factoryhub.quota.models import Allocation, Member, Project, Sector, Track

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    """A migrated, empty ledger: every ledger test runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'quota.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").database()
    database = Database(url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def climate(db):
    """proj-climate with 10 GPU-hours for November and December, alice a member."""
    with db.write() as session:
        project = Project(account="proj-climate", title="Climate downscaling", track=Track.exploratory,
                          sector=Sector.research, contact="pi@uni.example")
        project.members.append(Member(username="alice"))
        project.allocations.append(Allocation(gpu_seconds=10 * 3600, starts_on=dt.date(2026, 11, 1),
                                              ends_on=dt.date(2026, 12, 31)))
        session.add(project)
    return "proj-climate"
