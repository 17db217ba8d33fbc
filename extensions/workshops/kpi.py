"""The workshops' figures for the KPI report: workshops that started in a period and their participants."""
from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from factoryhub.report_period import Period

from .models import Participant, ParticipantKind, Workshop, WorkshopState

HELD = (WorkshopState.ready, WorkshopState.ending, WorkshopState.ended)  # made: creating or failed ones never ran


def kpi_counts(session: Session, period: Period) -> dict:
    """Workshops held whose start falls in ``period``, and their distinct participants: an institutional
    user once however many of them they joined, a pool account once per workshop (a different person each time)."""
    held = select(Workshop.id).where(Workshop.state.in_(HELD), Workshop.starts_at >= period.start,
                                     Workshop.starts_at < period.end)
    workshops = session.scalar(select(func.count()).select_from(held.subquery()))
    of_held = Participant.workshop_id.in_(held)
    institutional = session.scalar(select(func.count(distinct(Participant.username))).where(
        of_held, Participant.kind == ParticipantKind.institutional))
    pool = session.scalar(select(func.count()).select_from(Participant).where(
        of_held, Participant.kind == ParticipantKind.pool))
    return {"workshops": int(workshops or 0), "participants": int(institutional or 0) + int(pool or 0)}
