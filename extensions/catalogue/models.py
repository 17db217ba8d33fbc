"""Access requests and the catalogue's audit log, as tables.

A request records who asked for which entry, why, and exactly which terms they acknowledged
(the text and its SHA-256); a decision records who decided, when and why. The audit log is
append-only in the database itself (see migration 0001).
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Enum, Index, Integer, String, Text, text
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
