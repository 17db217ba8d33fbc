"""The announcements board: posting, withdrawing and listing, on the service's database.

The API and the admin page call these same functions; refusals are :class:`Refused` with the
status and the field they concern.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from factoryhub.servicedb import Database

from .audience import state
from .models import Announcement
from .schemas import AnnouncementCreate

LISTED_AT_MOST = 500
States = Literal["scheduled", "current", "ended", "withdrawn"]


@dataclass
class Refused(Exception):
    """A request the board turns down: HTTP status, message, and the field at fault."""
    status: int
    message: str
    field: str | None = None


def post(db: Database, body: AnnouncementCreate, actor: str, now: dt.datetime) -> Announcement:
    """Store a new announcement (it starts now when ``starts_at`` is absent); it must end in the future."""
    starts = body.starts_at or now
    if body.ends_at <= now:
        raise Refused(400, "ends_at: is in the past (nobody would see the announcement)", "ends_at")
    if body.ends_at <= starts:
        raise Refused(400, "ends_at: must be after starts_at (now, when absent)", "ends_at")
    announcement = Announcement(level=body.level, title=body.title, text=body.text, starts_at=starts,
                                ends_at=body.ends_at, audience=body.audience, audience_name=body.audience_name,
                                created_by=actor, created_at=now, withdrawn_by="")
    with db.write() as session:
        session.add(announcement)
    return announcement


def find(db: Database, announcement_id: int) -> Announcement:
    """One announcement, or a 404 refusal."""
    with db.read() as session:
        found = session.get(Announcement, announcement_id)
    if found is None:
        raise Refused(404, f"no announcement {announcement_id}")
    return found


def withdraw(db: Database, announcement_id: int, actor: str, now: dt.datetime) -> Announcement:
    """Stop showing an announcement now (it stays listed as withdrawn); withdrawing twice is a 409."""
    with db.write() as session:
        found = session.get(Announcement, announcement_id)
        if found is None:
            raise Refused(404, f"no announcement {announcement_id}")
        if found.withdrawn_at is not None:
            raise Refused(409, f"announcement {announcement_id} was withdrawn by {found.withdrawn_by} already")
        found.withdrawn_at, found.withdrawn_by = now, actor
    return found


def listed(db: Database, now: dt.datetime, only: str | None = None, limit: int = LISTED_AT_MOST) -> list[Announcement]:
    """Announcements, newest first, optionally only those in one state."""
    with db.read() as session:
        rows = list(session.scalars(select(Announcement).order_by(Announcement.id.desc())))
    return [a for a in rows if only is None or state(a, now) == only][:limit]


def live(db: Database, now: dt.datetime) -> list[Announcement]:
    """The announcements current at ``now``, whoever they are for."""
    with db.read() as session:
        return list(session.scalars(select(Announcement).where(
            Announcement.withdrawn_at.is_(None), Announcement.starts_at <= now, Announcement.ends_at > now)))


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def model(announcement: Announcement, now: dt.datetime) -> dict:
    """An announcement as the API shows it to admins."""
    return {"id": announcement.id, "level": announcement.level, "title": announcement.title,
            "text": announcement.text, "starts_at": _time(announcement.starts_at),
            "ends_at": _time(announcement.ends_at), "audience": announcement.audience,
            "group": announcement.audience_name if announcement.audience == "group" else None,
            "project": announcement.audience_name if announcement.audience == "project" else None,
            "state": state(announcement, now), "created_by": announcement.created_by,
            "created_at": _time(announcement.created_at), "withdrawn_at": _time(announcement.withdrawn_at),
            "withdrawn_by": announcement.withdrawn_by or None}


def notice(announcement: Announcement) -> dict:
    """An announcement as its readers get it (no audience, no authors)."""
    return {"id": announcement.id, "level": announcement.level, "title": announcement.title,
            "text": announcement.text, "starts_at": _time(announcement.starts_at),
            "ends_at": _time(announcement.ends_at)}
