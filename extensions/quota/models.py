"""The allocations ledger as tables: projects, members, allocations, usage, holds, audit, AI-Act records.

Amounts are whole GPU-seconds and CPU-seconds (BigInteger): sums are exact and the API
converts to hours at its edge. Times are UTC; SQLite stores them naive, so every
DateTime column goes through :class:`UTCDateTime`.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from factoryhub.servicedb import UTCDateTime, utcnow  # noqa: F401 - utcnow: the ledger's clock, imported from here


class Track(str, enum.Enum):
    """Access tracks, from a first try to production use."""

    exploratory = "exploratory"
    scaling = "scaling"
    production = "production"


class Sector(str, enum.Enum):
    """Where a project comes from."""
    research = "research"
    sme = "sme"
    industry = "industry"
    public = "public"
    training = "training"


class HoldState(str, enum.Enum):
    """Where a hold is in its life."""
    open = "open"          # reserved for a session that is starting or running
    settled = "settled"    # the session ended; its real usage comes from accounting
    released = "released"  # the session never ran (refused, failed, cancelled while pending)


class Base(DeclarativeBase):
    """The ledger's tables."""


class Project(Base):
    """A Slurm account that holds allocations."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    track: Mapped[Track] = mapped_column(Enum(Track, name="track", native_enum=False, length=20))
    sector: Mapped[Sector] = mapped_column(Enum(Sector, name="sector", native_enum=False, length=20))
    contact: Mapped[str] = mapped_column(String(254), default="")
    # the principal investigator: one of the members (admin.py checks), who edits the AI-Act record; "" none
    pi: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[Member]] = relationship(back_populates="project", cascade="all, delete-orphan",
                                                 order_by="Member.username")
    allocations: Mapped[list[Allocation]] = relationship(back_populates="project", cascade="all, delete-orphan",
                                                         order_by="Allocation.starts_on")


class Member(Base):
    """A hub user who may read a project and charge sessions to it."""
    __tablename__ = "members"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    project: Mapped[Project] = relationship(back_populates="members")


class Allocation(Base):
    """GPU and CPU time granted to a project for a period (both dates inclusive)."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger)
    cpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    project: Mapped[Project] = relationship(back_populates="allocations")


class UsageRecord(Base):
    """One Slurm job's allocation as accounting reports it; updated while it runs."""

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("cluster", "job_id", name="uq_usage_job"),
        Index("ix_usage_account_start", "account", "start_at"),
        Index("ix_usage_user_start", "username", "start_at"),
        Index("ix_usage_end_account", "end_at", "account"),  # running jobs (end_at IS NULL) of some accounts
        # covers the importer's "is this job stored as sacct reports it?" with one index probe
        Index("ix_usage_job_fingerprint", "cluster", "job_id", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(32))
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)  # None: still running
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    cpus: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    cpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    fingerprint: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # accounting.fingerprint


class UsageDay(Base):
    """Finished jobs' usage per account and UTC day of their start: the rollup that balances,
    burn rates and charts read (a year of a project is at most 366 rows, not its jobs).
    Kept in step with usage_records by the importer, in the same transaction."""

    __tablename__ = "usage_days"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    cpu_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs: Mapped[int] = mapped_column(Integer, default=0)


class Hold(Base):
    """The worst-case cost of a hub session, reserved while it starts and runs."""

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_project_state", "project_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    server_name: Mapped[str] = mapped_column(String(255), default="")
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    gpu_seconds: Mapped[int] = mapped_column(BigInteger)  # reserved: the session's worst case
    # settled with the spawner's figure: what the session cost (at most gpu_seconds); None: not given
    charged_gpu_seconds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state: Mapped[HoldState] = mapped_column(Enum(HoldState, name="hold_state", native_enum=False, length=16),
                                             default=HoldState.open)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    """Append-only: the database refuses updates and deletes (triggers in the migration)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class AiActRecord(Base):
    """A project's AI-Act record (factoryhub.ai_act.record.ProjectRecord as JSON), one per project."""

    __tablename__ = "ai_act_records"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(255))


class ImportState(Base):
    """How far accounting has been imported, per source (e.g. 'sacct:cluster')."""

    __tablename__ = "import_state"

    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    watermark: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
