"""The catalogue's figure for the KPI report: access requests granted in a period."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryhub.report_period import Period

from .models import AccessRequest, RequestState


def kpi_counts(session: Session, period: Period) -> dict:
    """Access requests a steward approved in ``period`` (an approval is final: it is never taken back)."""
    granted = session.scalar(select(func.count()).select_from(AccessRequest).where(
        AccessRequest.state == RequestState.approved, AccessRequest.decided_at >= period.start,
        AccessRequest.decided_at < period.end))
    return {"access_requests_granted": int(granted or 0)}
