"""Workshops, their join codes, participants, pool-account leases, broadcasts and audit, as tables.

A workshop row is written first (state ``creating``) and records, step by step, what its
creation has made in Slurm, the quota ledger and the hub (``made``): a creation that fails
part-way, or a service killed in the middle, can always undo exactly that.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factoryhub.servicedb import UTCDateTime, utcnow


class WorkshopState(str, enum.Enum):
    """Where a workshop is in its life."""
    creating = "creating"  # its parts are being made; undone if that fails
    ready = "ready"        # made: participants may join (during its window)
    ending = "ending"      # its end is being carried out
    ended = "ended"        # everything it made is removed; its report is kept
    failed = "failed"      # creation failed and was undone


class ParticipantKind(str, enum.Enum):
    """How a participant came: with their own (institutional) account, or given a pool account."""
    institutional = "institutional"
    pool = "pool"


class Base(DeclarativeBase):
    """The workshops service's tables."""


class Workshop(Base):
    """A training event: its window, seats, profile, budget, course material and what was made for it."""
    __tablename__ = "workshops"
    __table_args__ = (Index("ix_workshops_trainer", "trainer"), Index("ix_workshops_state_end", "state", "ends_at"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    trainer: Mapped[str] = mapped_column(String(64))
    trainer_account: Mapped[str] = mapped_column(String(64))  # the trainer's project the budget comes from
    account: Mapped[str] = mapped_column(String(64))  # the training project (Slurm account) participants use
    profile: Mapped[str] = mapped_column(String(40))
    seats: Mapped[int] = mapped_column(Integer)
    budget_gpu_seconds: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    course_repo: Mapped[str] = mapped_column(String(500))
    course_branch: Mapped[str] = mapped_column(String(100))
    nodes: Mapped[str] = mapped_column(String(500), default="")  # "" : no node reservation
    reservation: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idle_timeout_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[WorkshopState] = mapped_column(Enum(WorkshopState, name="workshop_state", native_enum=False,
                                                      length=16), default=WorkshopState.creating)
    made: Mapped[list] = mapped_column(JSON, default=list)  # the parts made so far, in order (see creation.py)
    problem: Mapped[str] = mapped_column(Text, default="")  # why creation or the end failed
    report: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the end-of-workshop report, kept
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class JoinCode(Base):
    """One seat's code: used once, by one participant."""
    __tablename__ = "join_codes"
    __table_args__ = (Index("ix_codes_workshop", "workshop_id"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    workshop_id: Mapped[str] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    used_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Participant(Base):
    """A hub user in a workshop (an institutional user, or a pool account handed out by a code)."""
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("workshop_id", "username", name="uq_participant"),
                      Index("ix_participants_username", "username"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workshop_id: Mapped[str] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ParticipantKind] = mapped_column(Enum(ParticipantKind, name="participant_kind", native_enum=False,
                                                       length=16))
    display_name: Mapped[str] = mapped_column(String(100), default="")  # what a pool participant called themself
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PoolLease(Base):
    """A pre-provisioned training Unix account lent to one participant of one workshop.

    A pool account without a row is free. The password is stored as a salted hash only; the
    lease ends with the workshop."""
    __tablename__ = "pool_leases"

    account: Mapped[str] = mapped_column(String(32), primary_key=True)
    workshop_id: Mapped[str] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    leased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Broadcast(Base):
    """A trainer's message to every participant of a workshop (shown in their JupyterLab)."""
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_workshop", "workshop_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workshop_id: Mapped[str] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only (triggers in the migration): who did what to which workshop, and what came of it."""
    __tablename__ = "workshops_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    workshop_id: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
