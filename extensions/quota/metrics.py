"""The quota service's metrics (docs/metrics.md): refusals, holds outstanding, accounting imports."""
from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select

from factoryhub.service_metrics import QueryGauge, register_query_gauges
from factoryhub.servicedb import Database

from .models import Hold, HoldState

REFUSALS = Counter("factoryhub_quota_refusals_total", "Session holds refused: the project's balance could not "
                   "cover the session's worst-case cost")
IMPORT_SECONDS = Histogram("factoryhub_quota_import_duration_seconds", "Seconds one accounting import took",
                           buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
IMPORT_LAG = Gauge("factoryhub_quota_import_lag_seconds", "Seconds since the last successful accounting import "
                   "(grows while imports fail or stop)")
_last_import = [time.monotonic()]
IMPORT_LAG.set_function(lambda: time.monotonic() - _last_import[0])


def import_done(seconds: float) -> None:
    """An accounting import succeeded in ``seconds``."""
    IMPORT_SECONDS.observe(seconds)
    _last_import[0] = time.monotonic()


def register(db: Database) -> None:
    """The ledger's counts, asked at each scrape."""
    def open_holds():
        with db.read() as session:
            return {(): session.scalar(select(func.count()).select_from(Hold).where(Hold.state == HoldState.open))}
    register_query_gauges(QueryGauge("factoryhub_quota_holds_outstanding",
                                     "Session holds open now (sessions starting or running)", (), open_holds))
