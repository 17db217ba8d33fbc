"""Workshops as the API, the pages and the spawner see them; the audit trail."""
from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AuditEntry, Workshop
from .plan import names

COURSE_DIR_MAX = 40


def audit(session: Session, actor: str, action: str, workshop_id: str, details: dict | None = None) -> None:
    """Append one entry to the audit trail (in the caller's transaction)."""
    session.add(AuditEntry(actor=actor, action=action, workshop_id=workshop_id, details=details or {}))


def binding(workshop: Workshop) -> dict:
    """The hub group's properties the spawner applies (the contract in docs/workshops.md)."""
    return {"id": workshop.id, "title": workshop.title, "account": workshop.account, "profile": workshop.profile,
            "reservation": workshop.reservation, "course_repo": workshop.course_repo,
            "course_branch": workshop.course_branch, "course_dir": workshop.id[:COURSE_DIR_MAX],
            "starts_at": workshop.starts_at.isoformat(), "ends_at": workshop.ends_at.isoformat(),
            "idle_timeout_minutes": workshop.idle_timeout_minutes}


def workshop_record(workshop: Workshop) -> dict:
    """A workshop as the API answers it."""
    return {"id": workshop.id, "title": workshop.title, "trainer": workshop.trainer,
            "trainer_account": workshop.trainer_account, "account": workshop.account,
            "group": names(workshop.id).group, "profile": workshop.profile, "seats": workshop.seats,
            "budget_gpu_hours": workshop.budget_gpu_seconds / 3600, "starts_at": workshop.starts_at.isoformat(),
            "ends_at": workshop.ends_at.isoformat(), "course_repo": workshop.course_repo,
            "course_branch": workshop.course_branch, "nodes": workshop.nodes, "reservation": workshop.reservation,
            "idle_timeout_minutes": workshop.idle_timeout_minutes, "state": workshop.state.value,
            "problem": workshop.problem or None, "created_at": workshop.created_at.isoformat(),
            "ended_at": workshop.ended_at.isoformat() if workshop.ended_at else None}
