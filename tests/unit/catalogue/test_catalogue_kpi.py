"""The catalogue's KPI figure: access requests granted (approved) in a period."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from factoryhub.catalogue import models
from factoryhub.catalogue.kpi import kpi_counts
from factoryhub.catalogue.models import AccessRequest, RequestState
from factoryhub.report_period import Period
from factoryhub.servicedb import Database
from tests.harness.databases import BACKENDS, migrated_database

MIGRATIONS = Path(models.__file__).with_name("migrations")
NOVEMBER = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    yield from migrated_database(request, tmp_path, lambda url: Database(url, MIGRATIONS))


def request_(state: RequestState, decided: str | None) -> AccessRequest:
    return AccessRequest(entry_id="chest-xray", entry_title="Chest X-rays", groups=["medical-imaging"],
                         username="alice", justification="x" * 40, terms="terms", terms_sha256="0" * 64, state=state,
                         created_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
                         decided_at=dt.datetime.fromisoformat(decided).replace(tzinfo=dt.UTC) if decided else None)


def test_requests_approved_in_the_period_are_counted(db):
    with db.write() as session:
        session.add_all([
            request_(RequestState.approved, "2026-11-01T00:00:00"),   # first instant: in
            request_(RequestState.approved, "2026-11-30T23:59:59"),   # last second: in
            request_(RequestState.approved, "2026-12-01T00:00:00"),   # next day: out
            request_(RequestState.rejected, "2026-11-10T00:00:00"),   # not granted
            request_(RequestState.withdrawn, "2026-11-11T00:00:00"),
            request_(RequestState.pending, None),
        ])
    with db.read() as session:
        assert kpi_counts(session, NOVEMBER) == {"access_requests_granted": 2}
