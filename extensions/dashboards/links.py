"""Guest links: made by a dashboard's owner with an expiry and an optional guest limit, revocable at once."""
from __future__ import annotations

from sqlalchemy import select

from . import guests
from .models import Dashboard, Guest, Link
from .parts import Parts
from .plan import LinkRefused, digest, link_expiry, new_code
from .publishing import Refused
from .records import record
from .schemas import LinkCreate

GUEST_PATH = "guest/"  # below the service's prefix: the page a link opens


def guest_url(handler, code: str) -> str:
    """The address a guest link has: the hub's public address when the site set one, else the request's."""
    base = handler.parts.public_url.rstrip("/") or f"{handler.request.protocol}://{handler.request.host}"
    return f"{base}{handler.settings['service_prefix']}{GUEST_PATH}{code}"


def link_model(link: Link, active_guests: int = 0, now=None) -> dict:
    """A link as the API and the pages show it (never its code: only its digest is kept)."""
    state = "revoked" if link.revoked_at else "expired" if now is not None and link.expires_at <= now else "active"
    return {"id": link.id, "label": link.label, "created_by": link.created_by, "created_at": link.created_at,
            "expires_at": link.expires_at, "max_guests": link.max_guests, "uses": link.uses,
            "active_guests": active_guests, "state": state, "revoked_at": link.revoked_at,
            "revoked_by": link.revoked_by or None}


def create(parts: Parts, dashboard: Dashboard, body: LinkCreate, actor: str) -> tuple[Link, str]:
    """A new link and its code (shown once)."""
    try:
        expires_at = link_expiry(parts.clock(), body.expires_in_seconds, parts.limits)
    except LinkRefused as err:
        raise Refused(400, str(err), err.field) from None
    code = new_code()
    with parts.db.write() as session:
        link = Link(dashboard_id=dashboard.id, code_sha256=digest(code), label=body.label, created_by=actor,
                    expires_at=expires_at, max_guests=body.max_guests, uses=0, revoked_by="")
        session.add(link)
        session.flush()
        record(session, "link.created", actor, dashboard_id=dashboard.id, link_id=link.id,
               detail=f"expires {expires_at.isoformat()}, guests {body.max_guests or 'unlimited'}")
    return link, code


def of_dashboard(parts: Parts, dashboard_id: int) -> list[dict]:
    """A dashboard's links, newest first, with their active guests."""
    now = parts.clock()
    with parts.db.read() as session:
        links = list(session.scalars(select(Link).filter_by(dashboard_id=dashboard_id).order_by(Link.id.desc())))
        counts: dict[int, int] = {}
        for link_id in session.scalars(select(Guest.link_id).filter(Guest.dashboard_id == dashboard_id,
                                                                     Guest.ended_at.is_(None))):
            counts[link_id] = counts.get(link_id, 0) + 1
    return [link_model(link, counts.get(link.id, 0), now) for link in links]


def find(parts: Parts, link_id: int) -> tuple[Link, Dashboard]:
    """A link and its dashboard, or a 404."""
    with parts.db.read() as session:
        link = session.get(Link, link_id)
        dashboard = session.get(Dashboard, link.dashboard_id) if link else None
    if link is None or dashboard is None:
        raise Refused(404, f"no link {link_id}")
    return link, dashboard


async def revoke(parts: Parts, link: Link, actor: str) -> list[str]:
    """Revoke a link: it admits no one from now on, and its guests end now (hub users deleted)."""
    with parts.db.write() as session:
        row = session.get(Link, link.id)
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = parts.clock(), actor
            record(session, "link.revoked", actor, dashboard_id=row.dashboard_id, link_id=row.id)
    return await guests.end_where(parts, "revoked", actor, link_id=link.id)
