"""Published dashboards, their guest links, guest identities and the access log, as tables.

Link codes and login tickets are stored as SHA-256 digests only: the database never holds
what lets someone in. The access log is append-only (the database refuses UPDATE/DELETE).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factoryhub.servicedb import UTCDateTime, utcnow


class Base(DeclarativeBase):
    """The dashboards service's tables."""


class Dashboard(Base):
    """A notebook of its owner's home published as a dashboard, shown by the server ``dash-<name>``."""
    __tablename__ = "dashboards"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_dashboards_owner_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(40))  # the server is dash-<name>
    title: Mapped[str] = mapped_column(String(120))
    notebook: Mapped[str] = mapped_column(String(255))  # relative to the owner's home
    profile: Mapped[str | None] = mapped_column(String(40), nullable=True)
    account: Mapped[str | None] = mapped_column(String(64), nullable=True)
    walltime_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    show_sources: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    unpublished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def server(self) -> str:
        return f"dash-{self.name}"


class Link(Base):
    """A guest link: anyone holding its code may become a guest of the dashboard until it expires."""
    __tablename__ = "links"
    __table_args__ = (Index("ix_links_dashboard", "dashboard_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dashboard_id: Mapped[int] = mapped_column(ForeignKey("dashboards.id"))
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    max_guests: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: no limit
    uses: Mapped[int] = mapped_column(Integer, default=0)  # guests admitted so far
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(80), default="")


class Guest(Base):
    """A short-lived hub identity made for one person who came through a link."""
    __tablename__ = "guests"
    __table_args__ = (Index("ix_guests_active", "ended_at", "expires_at"),)

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # the hub user, guest-<hex>
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"))
    dashboard_id: Mapped[int] = mapped_column(ForeignKey("dashboards.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ticket_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    ticket_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    logged_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(64), default="")  # where the guest came from


class AccessEvent(Base):
    """One line of the access log: who did what to which dashboard, when (append-only)."""
    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_dashboard", "dashboard_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    dashboard_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    link_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    guest: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
