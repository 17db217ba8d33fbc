"""The quota service's metrics (docs/metrics.md): refusals, holds outstanding, accounting imports."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select

from factoryhub.service_metrics import QueryGauge, register_query_gauges
from factoryhub.servicedb import Database

from .models import Hold, HoldState, ImportState, utcnow

REFUSALS = Counter("factoryhub_quota_refusals_total", "Session holds refused: the project's balance could not "
                   "cover the session's worst-case cost")
IMPORT_SECONDS = Histogram("factoryhub_quota_import_duration_seconds", "Seconds one accounting import took",
                           buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
LAST_IMPORT = Gauge("factoryhub_quota_last_import_timestamp_seconds", "When this process last finished an "
                    "accounting import successfully (Unix time; 0: not yet since it started)")


def import_done(seconds: float) -> None:
    """An accounting import succeeded in ``seconds``."""
    IMPORT_SECONDS.observe(seconds)
    LAST_IMPORT.set_to_current_time()


def register(db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
    """The ledger's counts, asked at each scrape."""
    def open_holds():
        with db.read() as session:
            return {(): session.scalar(select(func.count()).select_from(Hold).where(Hold.state == HoldState.open))}

    def import_lag():
        # from the stored watermark, not this process's memory: the lag survives restarts and keeps
        # growing while imports fail, and a ledger never imported into shows no sample at all
        now = clock()
        with db.read() as session:
            return {(source,): max(0.0, (now - watermark).total_seconds())
                    for source, watermark in session.execute(select(ImportState.source, ImportState.watermark))}
    register_query_gauges(
        QueryGauge("factoryhub_quota_holds_outstanding", "Session holds open now (sessions starting or running)",
                   (), open_holds),
        QueryGauge("factoryhub_quota_import_lag_seconds", "How far the ledger's accounting is behind now: seconds "
                   "since the end of the last imported window, per source (grows while imports fail or stop)",
                   ("source",), import_lag))
