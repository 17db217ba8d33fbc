from __future__ import annotations

import datetime as dt

import pytest

from factoryhub.quota.db import Database
from factoryhub.quota.models import Allocation, Member, Project, Sector, Track
from tests.harness.databases import BACKENDS, migrated_database

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    """A migrated, empty ledger: every ledger test runs on SQLite and on a real PostgreSQL."""
    yield from migrated_database(request, tmp_path, Database)


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
