"""The catalogue service's metrics (docs/metrics.md): searches, and access requests by state."""
from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy import func, select

from factoryhub.service_metrics import QueryGauge, register_query_gauges
from factoryhub.servicedb import Database

from .models import AccessRequest

SEARCHES = Counter("factoryhub_catalogue_searches_total", "Catalogue searches answered")


def register(db: Database) -> None:
    """Access requests by state, asked at each scrape."""
    def by_state():
        with db.read() as session:
            rows = session.execute(select(AccessRequest.state, func.count()).group_by(AccessRequest.state)).all()
        return {(state.value,): count for state, count in rows}
    register_query_gauges(QueryGauge("factoryhub_catalogue_access_requests", "Access requests by state",
                                     ("state",), by_state))
