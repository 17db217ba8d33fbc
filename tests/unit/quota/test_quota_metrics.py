"""The quota service's import-lag gauge reads the ledger's watermark, so it survives restarts and keeps
growing while imports fail."""
from __future__ import annotations

import datetime as dt

from prometheus_client import REGISTRY

from factoryhub.quota import metrics
from factoryhub.quota.models import ImportState

from .conftest import NOW


def lag(source: str) -> float | None:
    return REGISTRY.get_sample_value("factoryhub_quota_import_lag_seconds", {"source": source})


def test_the_import_lag_is_the_age_of_the_last_imported_window_per_source(db):
    clock = [NOW]
    metrics.register(db, clock=lambda: clock[0])
    assert lag("sacct") is None  # never imported: no sample rather than a made-up zero

    with db.write() as session:
        session.add(ImportState(source="sacct", watermark=NOW - dt.timedelta(minutes=5)))
    assert lag("sacct") == 300

    clock[0] = NOW + dt.timedelta(hours=1)  # imports failing for an hour: the lag grows
    assert lag("sacct") == 3900


def test_a_successful_import_is_timed_and_stamped():
    before = REGISTRY.get_sample_value("factoryhub_quota_import_duration_seconds_count") or 0
    metrics.import_done(1.5)
    assert REGISTRY.get_sample_value("factoryhub_quota_import_duration_seconds_count") == before + 1
    assert REGISTRY.get_sample_value("factoryhub_quota_last_import_timestamp_seconds") > 1.7e9
