"""Access requests and the catalogue's audit log, as tables.

A request records who asked for which entry, why, and exactly which terms they acknowledged
(the text and its SHA-256); a decision records who decided, when and why. The audit log is
append-only in the database itself (see migration 0001).
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Enum, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factoryhub.servicedb import UTCDateTime, utcnow


class RequestState(str, enum.Enum):
    """Where an access request stands: pending until a steward approves or rejects it, or its user withdraws it."""
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Base(DeclarativeBase):
    """The declarative base of the catalogue service's own tables."""


class AccessRequest(Base):
    """A user's request for access to a restricted entry, with its justification and the steward's decision."""
    __tablename__ = "access_requests"
    __table_args__ = (Index("ix_requests_entry_user", "entry_id", "username"),
                      Index("ix_requests_state", "state"),
                      # one pending request per user and entry, even for two asks at the same moment
                      Index("uq_requests_pending", "entry_id", "username", unique=True,
                            sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(100))
    entry_title: Mapped[str] = mapped_column(String(200))
    groups: Mapped[list] = mapped_column(JSON)  # the groups an approval grants, as the entry named them then
    username: Mapped[str] = mapped_column(String(255))
    justification: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    terms_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[RequestState] = mapped_column(Enum(RequestState, name="request_state", native_enum=False,
                                                     length=16), default=RequestState.pending)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """One append-only record of who did what to an access request (request, approve, reject, withdraw)."""
    __tablename__ = "catalogue_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))  # request | approve | reject | withdraw | grant-failed
    entry_id: Mapped[str] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class IntegrityState(Base):
    """The last verification of one distribution (entry id, 1-based position), replaced by each new one.

    ``expected`` and ``location`` are the entry's values when it was checked: a steward who
    re-curates (a new checksum or path) makes the old verdict not apply any more.
    ``good_manifest`` keeps a directory's per-file hashes from its last verified check, so that a
    later mismatch can name the files that changed.
    """
    __tablename__ = "integrity_states"

    entry_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    distribution: Mapped[int] = mapped_column(Integer, primary_key=True)
    location: Mapped[str] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(String(64), nullable=True)
    observed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))  # integrity.STATES
    detail: Mapped[str] = mapped_column(Text, default="")
    files: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by: Mapped[str] = mapped_column(String(255))
    good_manifest: Mapped[list | None] = mapped_column(JSON, nullable=True)


class StewardNotification(Base):
    """Something the data stewards must look at: a distribution changed, vanished or became unreadable.

    Opened when a verification finds it, resolved (kept, with when and how) when a later one
    finds the data as curated again.
    """
    __tablename__ = "steward_notifications"
    __table_args__ = (Index("ix_notifications_open", "entry_id", "distribution", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    entry_id: Mapped[str] = mapped_column(String(100))
    distribution: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # changed | missing | unreadable
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
