"""The dashboards service's metrics (docs/metrics.md): published dashboards, live links and active guests."""
from __future__ import annotations

from sqlalchemy import func, select

from factoryhub.service_metrics import QueryGauge, register_query_gauges

from .models import Dashboard, Guest, Link
from .parts import Parts


def register(parts: Parts) -> None:
    """Counts asked at each scrape."""
    def count(query):
        def ask():
            with parts.db.read() as session:
                return {(): session.scalar(query)}
        return ask

    register_query_gauges(
        QueryGauge("factoryhub_dashboards_published", "Dashboards published now", (),
                   count(select(func.count()).select_from(Dashboard).where(Dashboard.unpublished_at.is_(None)))),
        QueryGauge("factoryhub_dashboard_guests_active", "Guest identities alive now", (),
                   count(select(func.count()).select_from(Guest).where(Guest.ended_at.is_(None)))),
        QueryGauge("factoryhub_dashboard_links_unrevoked", "Guest links not revoked (expired ones included)", (),
                   count(select(func.count()).select_from(Link).where(Link.revoked_at.is_(None)))))
