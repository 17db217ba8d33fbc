"""Access requests for restricted entries: asked with a justification and acknowledged terms,
decided by a data steward; every step in the audit log.

Domain functions on a session; they raise :class:`RequestRefused` with the field and the
reason, and write nothing when they refuse.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factoryhub.servicedb import utcnow

from .access import Viewer, may_use, terms_digest, terms_text
from .entries import Entry
from .models import AccessRequest, AuditEntry, RequestState

MIN_JUSTIFICATION = 20  # characters that are not white space: padding with blanks says nothing
MAX_JUSTIFICATION = 4000  # characters in all, as sent
MIN_REJECTION_NOTE = 5  # characters without the white space around them
# the same rules as patterns (openapi.yaml states them so; tests/unit/catalogue check they agree)
JUSTIFICATION_PATTERN = r"^\s*(\S\s*){%d,}$" % MIN_JUSTIFICATION
REJECTION_NOTE_PATTERN = r"\S[\s\S]{%d,}\S" % (MIN_REJECTION_NOTE - 2)


def justified(justification: str) -> bool:
    """Says what the data is for: MIN_JUSTIFICATION to MAX_JUSTIFICATION characters, that many not blank."""
    return (len(justification) <= MAX_JUSTIFICATION
            and sum(not c.isspace() for c in justification) >= MIN_JUSTIFICATION)


class RequestRefused(ValueError):
    """A request or decision refused: the HTTP status, the field and the reason."""
    def __init__(self, status: int, field: str | None, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.status, self.field, self.reason = status, field, reason


def record(session: Session, actor: str, action: str, request: AccessRequest, **details) -> None:
    """Append one audit entry about ``request``."""
    session.add(AuditEntry(actor=actor, action=action, entry_id=request.entry_id, username=request.username,
                           request_id=request.id, details=details))


def ask(session: Session, entry: Entry, viewer: Viewer, justification: str, acknowledged_sha256: str) -> AccessRequest:
    """A user asks for a restricted entry, having read and acknowledged its current terms."""
    if entry.access != "restricted":
        raise RequestRefused(409, None, f"{entry.id} is {entry.access}: it needs no access request")
    if may_use(entry, viewer):
        raise RequestRefused(409, None, f"you may already use {entry.id}")
    if not justified(justification):
        said = sum(not c.isspace() for c in justification)
        raise RequestRefused(400, "justification", f"say in {MIN_JUSTIFICATION} to {MAX_JUSTIFICATION} characters "
                                                   f"what you will use the data for (got {said} that are not "
                                                   f"white space, {len(justification)} in all)")
    text = " ".join(justification.split())
    terms = terms_text(entry)
    if acknowledged_sha256 != terms_digest(terms):
        raise RequestRefused(409, "acknowledge_terms", "the acknowledged terms are not the entry's current terms; "
                                                       "read them again and acknowledge them")
    pending = session.scalar(select(AccessRequest).where(AccessRequest.entry_id == entry.id,
                                                         AccessRequest.username == viewer.name,
                                                         AccessRequest.state == RequestState.pending))
    if pending is not None:
        raise RequestRefused(409, None, f"your request #{pending.id} for {entry.id} is still waiting for a decision")
    request = AccessRequest(entry_id=entry.id, entry_title=entry.title, groups=list(entry.groups),
                            username=viewer.name, justification=text, terms=terms, terms_sha256=terms_digest(terms),
                            state=RequestState.pending, decision_note="", created_at=utcnow())
    session.add(request)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another ask of the same user for the same entry won the race
        raise RequestRefused(409, None, f"a request of yours for {entry.id} is already waiting for a decision") \
            from None
    record(session, f"user:{viewer.name}", "request", request, justification=text, terms_sha256=request.terms_sha256)
    return request


def pending_request(session: Session, request_id: int) -> AccessRequest:
    """The pending request ``request_id``; refused with 404 (none) or 409 (decided already)."""
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise RequestRefused(404, None, f"no access request #{request_id}")
    if request.state != RequestState.pending:
        raise RequestRefused(409, None, f"request #{request_id} was already {request.state.value}")
    return request


def decide(session: Session, request_id: int, steward: str, approve: bool, note: str) -> AccessRequest:
    """Record a steward's decision (the caller has granted the groups before an approval)."""
    request = pending_request(session, request_id)
    note = note.strip()
    if not approve and len(note) < MIN_REJECTION_NOTE:
        raise RequestRefused(400, "note", "say why the request is rejected (the user reads this)")
    request.state = RequestState.approved if approve else RequestState.rejected
    request.decided_at, request.decided_by, request.decision_note = utcnow(), steward, note[:4000]
    record(session, f"user:{steward}", "approve" if approve else "reject", request, note=request.decision_note,
           groups=request.groups if approve else [])
    return request


def withdraw(session: Session, request_id: int, username: str) -> AccessRequest:
    """The user takes back their own pending request."""
    request = pending_request(session, request_id)
    if request.username != username:
        raise RequestRefused(403, None, f"request #{request_id} is not yours")
    request.state, request.decided_at, request.decided_by = RequestState.withdrawn, utcnow(), username
    record(session, f"user:{username}", "withdraw", request)
    return request


def as_dict(request: AccessRequest) -> dict:
    """A request as the API shows it."""
    return {"id": request.id, "entry_id": request.entry_id, "entry_title": request.entry_title,
            "username": request.username, "groups": request.groups, "justification": request.justification,
            "terms_sha256": request.terms_sha256, "state": request.state.value,
            "created_at": request.created_at.isoformat(),
            "decided_at": request.decided_at.isoformat() if request.decided_at else None,
            "decided_by": request.decided_by, "decision_note": request.decision_note}


def requests_of(session: Session, username: str | None, state: RequestState | None = None,
                entry_id: str | None = None, limit: int = 200) -> list[AccessRequest]:
    """Requests, newest first: one user's (``username``) or everyone's (None), optionally in one state."""
    query = select(AccessRequest).order_by(AccessRequest.id.desc()).limit(limit)
    if username is not None:
        query = query.where(AccessRequest.username == username)
    if state is not None:
        query = query.where(AccessRequest.state == state)
    if entry_id is not None:
        query = query.where(AccessRequest.entry_id == entry_id)
    return list(session.scalars(query))


def audit_entries(session: Session, before_id: int | None = None, limit: int = 100) -> list[dict]:
    """The audit trail, newest first, ``limit`` entries older than ``before_id``."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [{"id": a.id, "at": a.at.isoformat(), "actor": a.actor, "action": a.action, "entry_id": a.entry_id,
             "username": a.username, "request_id": a.request_id, "details": a.details}
            for a in session.scalars(query)]
