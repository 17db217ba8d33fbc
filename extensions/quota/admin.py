"""Changes to projects, members and allocations: each one transaction with its audit entry.

Every function takes an open write session (db.write()) and the acting user, validates
what the schema cannot (uniqueness, existence), writes, and appends who/when/before/after
to the audit log. An error raises before anything is committed.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .balances import find_project
from .ledger import hours, to_seconds
from .models import Allocation, AuditEntry, Hold, Member, Project, UsageRecord
from .schemas import AllocationCreate, AllocationUpdate, ProjectCreate, ProjectUpdate


class Conflict(ValueError):
    """The change contradicts what is stored (field, reason)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class NotFound(LookupError):
    """The project or allocation an admin change names does not exist (the API answers 404)."""


def project_record(project: Project) -> dict:
    """A project as the admin API and the audit log record it."""
    return {"account": project.account, "title": project.title, "track": project.track.value,
            "sector": project.sector.value, "contact": project.contact, "pi": project.pi,
            "members": sorted(m.username for m in project.members)}


def allocation_record(allocation: Allocation) -> dict:
    """An allocation as the admin API and the audit log record it (hours, not seconds)."""
    return {"id": allocation.id, "account": allocation.project.account,
            "gpu_hours": hours(allocation.gpu_seconds), "cpu_hours": hours(allocation.cpu_seconds),
            "starts_on": allocation.starts_on.isoformat(), "ends_on": allocation.ends_on.isoformat(),
            "notes": allocation.notes}


def _audit(session: Session, actor: str, action: str, entity: str, entity_id: str,
           before: dict | None, after: dict | None) -> None:
    session.add(AuditEntry(actor=actor, action=action, entity=entity, entity_id=entity_id,
                           before=before, after=after))


def create_project(session: Session, actor: str, body: ProjectCreate) -> Project:
    """Create a project for a Slurm account and audit it; Conflict if the account has one already."""
    if session.scalar(select(Project.id).where(Project.account == body.account)) is not None:
        raise Conflict("account", f"a project for Slurm account {body.account!r} exists already")
    if body.pi and body.pi not in body.members:
        raise Conflict("pi", f"{body.pi} is not among the project's members; name a member")
    project = Project(account=body.account, title=body.title, track=body.track, sector=body.sector,
                      contact=body.contact, pi=body.pi, members=[Member(username=u) for u in sorted(set(body.members))])
    session.add(project)
    session.flush()
    _audit(session, actor, "create", "project", project.account, None, project_record(project))
    return project


def update_project(session: Session, actor: str, account: str, body: ProjectUpdate) -> Project:
    """Change a project's fields given in ``body`` and audit the before and after."""
    project = _project(session, account)
    before = project_record(project)
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is None:
            raise Conflict(field, "may not be null")
        if field == "pi" and value and value not in {m.username for m in project.members}:
            raise Conflict("pi", f"{value} is not a member of project {account}; add them first")
        setattr(project, field, value)
    session.flush()
    _audit(session, actor, "update", "project", account, before, project_record(project))
    return project


def delete_project(session: Session, actor: str, account: str) -> dict:
    """Delete a project that has never been used (no usage, no hold), e.g. a workshop's whose
    creation was undone, and audit it; Conflict once anything was charged to it: the ledger
    keeps every project that has usage."""
    project = _project(session, account)
    if session.scalar(select(UsageRecord.id).where(UsageRecord.account == account).limit(1)) is not None:
        raise Conflict("account", f"project {account} has usage records: the ledger keeps it")
    if session.scalar(select(Hold.id).where(Hold.project_id == project.id).limit(1)) is not None:
        raise Conflict("account", f"project {account} has session holds: the ledger keeps it")
    before = project_record(project)
    session.delete(project)
    session.flush()
    _audit(session, actor, "delete", "project", account, before, None)
    return before


def set_member(session: Session, actor: str, account: str, username: str, member: bool) -> Project:
    """Add ``username`` to or remove them from a project's members and audit the change."""
    project = _project(session, account)
    before = project_record(project)
    current = {m.username: m for m in project.members}
    if member and username not in current:
        project.members.append(Member(username=username))
    elif not member and username in current:
        if username == project.pi:
            raise Conflict("username", f"{username} is the project's PI; name another PI (or none) first")
        project.members.remove(current[username])
    else:
        return project  # nothing changes, nothing to audit
    session.flush()
    _audit(session, actor, "add-member" if member else "remove-member", "project", account, before,
           project_record(project))
    return project


def add_allocation(session: Session, actor: str, account: str, body: AllocationCreate) -> Allocation:
    """Grant a project a new allocation of GPU- and CPU-hours for a period and audit it."""
    project = _project(session, account)
    allocation = Allocation(project=project, gpu_seconds=to_seconds(body.gpu_hours),
                            cpu_seconds=to_seconds(body.cpu_hours), starts_on=body.starts_on,
                            ends_on=body.ends_on, notes=body.notes)
    session.add(allocation)
    session.flush()
    _audit(session, actor, "create", "allocation", str(allocation.id), None, allocation_record(allocation))
    return allocation


def update_allocation(session: Session, actor: str, allocation_id: int, body: AllocationUpdate) -> Allocation:
    """Change an allocation's hours, period or notes and audit the before and after."""
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound(f"no allocation {allocation_id}")
    before = allocation_record(allocation)
    changes = body.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            raise Conflict(field, "may not be null")
        if field in ("gpu_hours", "cpu_hours"):
            setattr(allocation, field.replace("hours", "seconds"), to_seconds(value))
        else:
            setattr(allocation, field, value)
    if allocation.ends_on < allocation.starts_on:
        raise Conflict("ends_on", "must not be before starts_on")
    session.flush()
    _audit(session, actor, "update", "allocation", str(allocation.id), before, allocation_record(allocation))
    return allocation


def _project(session: Session, account: str) -> Project:
    try:
        return find_project(session, account, lock=True)
    except LookupError as err:
        raise NotFound(str(err)) from None


def audit_entries(session: Session, limit: int = 200, before_id: int | None = None) -> list[dict]:
    """The newest audit log entries, ``limit`` at most, older than ``before_id`` when paging."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "entity": e.entity,
             "entity_id": e.entity_id, "before": e.before, "after": e.after} for e in session.scalars(query)]

