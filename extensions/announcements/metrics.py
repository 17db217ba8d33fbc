"""The announcements service's metrics (docs/metrics.md): announcements current now, by level."""
from __future__ import annotations

from factoryhub.service_metrics import QueryGauge, register_query_gauges

from . import board
from .parts import Parts
from .schemas import LEVELS


def register(parts: Parts) -> None:
    """Counted at each scrape."""
    def current():
        live = board.live(parts.db, parts.clock())
        return {(level,): sum(a.level == level for a in live) for level in LEVELS}

    register_query_gauges(QueryGauge("factoryhub_announcements_current", "Announcements shown now, by level",
                                     ("level",), current))
