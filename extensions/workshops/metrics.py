"""The workshops service's metrics (docs/metrics.md): workshops by state, participants of ready ones."""
from __future__ import annotations

from sqlalchemy import func, select

from factoryhub.service_metrics import QueryGauge, register_query_gauges
from factoryhub.servicedb import Database

from .models import Participant, Workshop, WorkshopState


def register(db: Database) -> None:
    """Counts asked at each scrape."""
    def by_state():
        with db.read() as session:
            rows = session.execute(select(Workshop.state, func.count()).group_by(Workshop.state)).all()
        return {(state.value,): count for state, count in rows}

    def participants():
        with db.read() as session:
            return {(): session.scalar(select(func.count()).select_from(Participant).join(
                Workshop, Workshop.id == Participant.workshop_id).where(Workshop.state == WorkshopState.ready))}
    register_query_gauges(
        QueryGauge("factoryhub_workshops", "Workshops by state", ("state",), by_state),
        QueryGauge("factoryhub_workshop_participants", "Participants of workshops that are ready (running)", (),
                   participants))
