"""The catalogue service's metrics (docs/metrics.md): searches, access requests by state, and the
verification of entries' data (distributions by state, open steward notifications, bytes hashed)."""
from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy import func, select

from factoryhub.service_metrics import QueryGauge, register_query_gauges
from factoryhub.servicedb import Database

from .integrity_records import open_notification_count
from .models import AccessRequest, IntegrityState

SEARCHES = Counter("factoryhub_catalogue_searches_total", "Catalogue searches answered")
VERIFIED_BYTES = Counter("factoryhub_catalogue_verified_bytes_total", "Bytes of catalogue data hashed by verifications")
VERIFICATIONS = Counter("factoryhub_catalogue_verifications_total", "Distributions verified, by the state found",
                        ["state"])


def count_verification(result) -> None:
    """Count one distribution's verification (a verification.Verified)."""
    VERIFIED_BYTES.inc(result.check.bytes)
    VERIFICATIONS.labels(result.check.state).inc()


def register(db: Database) -> None:
    """Access requests by state, asked at each scrape."""
    def by_state():
        with db.read() as session:
            rows = session.execute(select(AccessRequest.state, func.count()).group_by(AccessRequest.state)).all()
        return {(state.value,): count for state, count in rows}
    def integrity_by_state():
        with db.read() as session:
            rows = session.execute(select(IntegrityState.state, func.count()).group_by(IntegrityState.state)).all()
        return {(state,): count for state, count in rows}

    def open_notifications():
        with db.read() as session:
            return {(): open_notification_count(session)}
    register_query_gauges(
        QueryGauge("factoryhub_catalogue_access_requests", "Access requests by state", ("state",), by_state),
        QueryGauge("factoryhub_catalogue_distributions", "Distributions by the state of their last verification",
                   ("state",), integrity_by_state),
        QueryGauge("factoryhub_catalogue_steward_notifications_open",
                   "Steward notifications (data changed, missing, unreadable) not resolved yet", (),
                   open_notifications))
