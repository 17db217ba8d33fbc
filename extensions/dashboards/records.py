"""The access log: every guest admission, login, refusal and end, every link and publication."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from .models import AccessEvent

log = logging.getLogger("factoryhub.dashboards.access")


def record(session: Session, kind: str, actor: str, *, dashboard_id: int | None = None, link_id: int | None = None,
           guest: str = "", detail: str = "") -> None:
    """Append one event (and say it in the service's log)."""
    session.add(AccessEvent(kind=kind, actor=actor[:80], dashboard_id=dashboard_id, link_id=link_id, guest=guest,
                            detail=detail[:2000]))
    log.info("dashboard access: %s by %s (dashboard %s, link %s%s)%s", kind, actor, dashboard_id, link_id,
             f", guest {guest}" if guest else "", f": {detail}" if detail else "")
