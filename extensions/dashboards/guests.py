"""Guest identities: admitted through a link, logged in by the hub with a one-time ticket, ended
(hub user deleted, its tokens and share with it) when they expire, their link is revoked or
expires, their dashboard is unpublished, or an admin ends them.

Admission happens in one write transaction (the service serialises writes): two guests taking
a link's last place cannot both win.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import or_, select

from factoryhub.restclient import RemoteError

from .models import Dashboard, Guest, Link
from .parts import Parts
from .plan import TICKET_SECONDS, admission_refusal, digest, guest_expiry, new_guest_name
from .records import record

log = logging.getLogger(__name__)
UNKNOWN_LINK = "This link is not known here: check that it was copied whole, or ask the dashboard's owner."


class GuestRefused(Exception):
    """A guest who may not come in (or a ticket that is no good), with the status and the reason."""

    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(message)


def link_by_code(parts: Parts, code: str) -> tuple[Link, Dashboard]:
    """The link a code opens and its dashboard; GuestRefused 404 for an unknown code."""
    with parts.db.read() as session:
        link = session.scalars(select(Link).filter_by(code_sha256=digest(code))).first()
        dashboard = session.get(Dashboard, link.dashboard_id) if link is not None else None
    if link is None or dashboard is None:
        raise GuestRefused(404, UNKNOWN_LINK)
    return link, dashboard


def _refusal(link: Link, dashboard: Dashboard, now: dt.datetime, *, newcomer: bool = True) -> str | None:
    """Why the link admits no one now (None: it does). An admitted guest (``newcomer=False``) was counted
    already: for them only the link's revocation or end, or the dashboard's, matter."""
    return admission_refusal(now=now, expires_at=link.expires_at, revoked=link.revoked_at is not None,
                             uses=link.uses if newcomer else 0, max_guests=link.max_guests if newcomer else None,
                             published=dashboard.unpublished_at is None)


def check_link(parts: Parts, code: str, address: str) -> tuple[Link, Dashboard]:
    """The terms page: the link must still admit guests (logged either way)."""
    link, dashboard = link_by_code(parts, code)
    refusal = _refusal(link, dashboard, parts.clock())
    with parts.db.write() as session:
        record(session, "link.refused" if refusal else "link.opened", f"guest@{address}", dashboard_id=dashboard.id,
               link_id=link.id, detail=refusal or "")
    if refusal:
        raise GuestRefused(410 if link.revoked_at or link.expires_at <= parts.clock() else 409, refusal)
    return link, dashboard


def admit(parts: Parts, code: str, address: str) -> tuple[str, str]:
    """A new guest of the link's dashboard: (guest name, one-time login ticket for the hub)."""
    ticket = secrets.token_urlsafe(24)
    now = parts.clock()
    with parts.db.write() as session:
        link = session.scalars(select(Link).filter_by(code_sha256=digest(code)).with_for_update()).first()
        dashboard = session.get(Dashboard, link.dashboard_id) if link is not None else None
        if link is None or dashboard is None:
            raise GuestRefused(404, UNKNOWN_LINK)
        refusal = _refusal(link, dashboard, now)
        if refusal:
            record(session, "guest.refused", f"guest@{address}", dashboard_id=dashboard.id, link_id=link.id,
                   detail=refusal)
        else:
            link.uses += 1
            name = new_guest_name()
            session.add(Guest(name=name, link_id=link.id, dashboard_id=dashboard.id, created_at=now,
                              expires_at=guest_expiry(now, link.expires_at, parts.limits),
                              ticket_sha256=digest(ticket),
                              ticket_expires_at=now + dt.timedelta(seconds=TICKET_SECONDS),
                              address=address[:64]))
            record(session, "guest.admitted", f"guest@{address}", dashboard_id=dashboard.id, link_id=link.id,
                   guest=name, detail=f"accepted the terms; guest {link.uses} of {link.max_guests or 'unlimited'}")
    if refusal:
        raise GuestRefused(409, refusal)
    return name, ticket


def redeem(parts: Parts, ticket: str) -> dict:
    """The hub's login page turns a ticket into the guest's login, once: who, and which server."""
    now = parts.clock()
    with parts.db.write() as session:
        guest = session.scalars(select(Guest).filter_by(ticket_sha256=digest(ticket))).first()
        if guest is None or guest.ticket_expires_at is None or guest.ticket_expires_at <= now:
            raise GuestRefused(403, "this guest login is unknown, used or expired: open the dashboard's link again")
        guest.ticket_sha256, guest.ticket_expires_at = None, None  # one time only
        link, dashboard = session.get(Link, guest.link_id), session.get(Dashboard, guest.dashboard_id)
        if guest.ended_at is not None or guest.expires_at <= now or _refusal(link, dashboard, now, newcomer=False):
            raise GuestRefused(403, "this guest access has ended")
        guest.logged_in_at = now
        record(session, "guest.login", f"user:{guest.name}", dashboard_id=dashboard.id, link_id=link.id,
               guest=guest.name)
        return {"guest": guest.name, "owner": dashboard.owner, "server": dashboard.server,
                "notebook": dashboard.notebook, "expires_at": guest.expires_at.isoformat()}


async def end(parts: Parts, names: list[str], reason: str, actor: str) -> list[str]:
    """Delete each guest's hub user and mark them ended; returns those that could not be ended (retried later)."""
    failed = []
    for name in names:
        try:
            await parts.delete_guest_user(name)
        except RemoteError as err:
            log.error("Could not delete guest %s from the hub: %s", name, err)
            failed.append(name)
            continue
        with parts.db.write() as session:
            guest = session.get(Guest, name)
            if guest is None or guest.ended_at is not None:
                continue
            guest.ended_at, guest.end_reason, guest.ticket_sha256 = parts.clock(), reason, None
            record(session, "guest.ended", actor, dashboard_id=guest.dashboard_id, link_id=guest.link_id, guest=name,
                   detail=reason)
    return failed


async def end_where(parts: Parts, reason: str, actor: str, *, dashboard_id: int | None = None,
                    link_id: int | None = None) -> list[str]:
    """End every active guest of a dashboard or a link."""
    with parts.db.read() as session:
        query = select(Guest.name).filter(Guest.ended_at.is_(None))
        if dashboard_id is not None:
            query = query.filter(Guest.dashboard_id == dashboard_id)
        if link_id is not None:
            query = query.filter(Guest.link_id == link_id)
        names = list(session.scalars(query))
    return await end(parts, names, reason, actor)


def due(parts: Parts) -> list[tuple[str, str]]:
    """Active guests whose time is over: (name, why) — their own expiry, or their link's end or revocation."""
    now = parts.clock()
    with parts.db.read() as session:
        rows = session.execute(
            select(Guest.name, Guest.expires_at, Link.expires_at, Link.revoked_at, Dashboard.unpublished_at)
            .join(Link, Link.id == Guest.link_id).join(Dashboard, Dashboard.id == Guest.dashboard_id)
            .filter(Guest.ended_at.is_(None))
            .filter(or_(Guest.expires_at <= now, Link.expires_at <= now, Link.revoked_at.is_not(None),
                        Dashboard.unpublished_at.is_not(None)))).all()
    return [(name, "revoked" if revoked else "unpublished" if unpublished else
             "link expired" if link_end <= now else "expired")
            for name, _, link_end, revoked, unpublished in rows]


async def expire(parts: Parts) -> None:
    """End every guest whose time is over (the service's loop; a failure is retried on the next pass)."""
    by_reason: dict[str, list[str]] = {}
    for name, why in due(parts):
        by_reason.setdefault(why, []).append(name)
    for why, names in by_reason.items():
        await end(parts, names, why, "service:expiry")
