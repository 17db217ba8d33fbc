"""Announcements as a table: what admins tell users, to whom, and for how long.

An announcement is never deleted: withdrawing one stamps it (who, when), so the list an
admin sees is also the record of what users were told.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factoryhub.servicedb import UTCDateTime, utcnow


class Base(DeclarativeBase):
    """The announcements service's tables."""


class Announcement(Base):
    """One message shown to its audience between ``starts_at`` and ``ends_at`` unless withdrawn."""
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_window", "withdrawn_at", "ends_at", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))  # info | warning
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    audience: Mapped[str] = mapped_column(String(16))  # everyone | group | project
    audience_name: Mapped[str] = mapped_column(String(64), default="")  # the group or Slurm account
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str] = mapped_column(String(80), default="")
