"""Publishing a notebook as a dashboard: its row, its server dash-<name>, starting, stopping, unpublishing."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from factoryhub.restclient import RemoteError

from . import guests
from .models import Dashboard, Link
from .parts import Parts
from .plan import server_name
from .records import record
from .schemas import DashboardCreate


class Refused(Exception):
    """A request the service will not carry out: the HTTP status, a message and the field it concerns."""

    def __init__(self, status: int, message: str, field: str | None = None):
        self.status, self.message, self.field = status, message, field
        super().__init__(message)


def server_options(dashboard: Dashboard) -> dict:
    """The user_options that start a dashboard's server (spawners/dashboard.py reads the dashboard keys)."""
    options: dict = {"dashboard": dashboard.notebook, "dashboard_sources": dashboard.show_sources}
    if dashboard.profile:
        options["profile"] = dashboard.profile
    if dashboard.account:
        options["account"] = dashboard.account
    if dashboard.walltime_hours:
        options["walltime_hours"] = dashboard.walltime_hours
    return options


def find(parts: Parts, owner: str, name: str) -> Dashboard:
    """A published dashboard, or a 404 naming it."""
    with parts.db.read() as session:
        dashboard = session.scalars(select(Dashboard).filter_by(owner=owner, name=name)).first()
    if dashboard is None or dashboard.unpublished_at is not None:
        raise Refused(404, f"{owner} publishes no dashboard named {name!r}")
    return dashboard


def owned(parts: Parts, owner: str, name: str, caller: str | None, is_admin: bool) -> Dashboard:
    """The dashboard if the caller owns it (or administers dashboards); 404 or 403 otherwise."""
    dashboard = find(parts, owner, name)
    if not is_admin and caller != owner:
        raise Refused(403, f"dashboard {owner}/{name} is not yours: only its owner (or an admin) acts on it")
    return dashboard


async def publish(parts: Parts, owner: str, body: DashboardCreate) -> Dashboard:
    """Record the dashboard and start its server; a server the hub refuses leaves nothing recorded."""
    profile = body.profile or parts.default_profile
    if profile not in parts.profiles:
        raise Refused(400, f"profile: {profile!r} is not offered (choose one of {', '.join(parts.profiles)})",
                      "profile")
    fields = {"title": body.title, "notebook": body.notebook, "profile": profile, "account": body.account,
              "walltime_hours": body.walltime_hours, "show_sources": body.show_sources}
    try:
        with parts.db.write() as session:
            dashboard = session.scalars(select(Dashboard).filter_by(owner=owner, name=body.name)).first()
            if dashboard is not None and dashboard.unpublished_at is None:
                raise Refused(409, f"you already publish a dashboard named {body.name!r}", "name")
            mine = session.scalar(select(func.count()).select_from(Dashboard).filter(
                Dashboard.owner == owner, Dashboard.unpublished_at.is_(None)))
            if mine >= parts.limits.max_per_owner:
                raise Refused(409, f"you already publish {mine} dashboards, the most this site allows: "
                                   "unpublish one first", "name")
            previous = None if dashboard is None else {k: getattr(dashboard, k) for k in (*fields, "unpublished_at")}
            if dashboard is None:
                dashboard = Dashboard(owner=owner, name=body.name, **fields)
                session.add(dashboard)
            else:  # published again: the same row keeps its history
                for key, value in {**fields, "unpublished_at": None}.items():
                    setattr(dashboard, key, value)
            session.flush()
            dashboard_id = dashboard.id
    except IntegrityError:
        raise Refused(409, f"you already publish a dashboard named {body.name!r}", "name") from None
    try:
        await parts.start_server(owner, server_name(body.name), server_options(dashboard), body.title)
    except RemoteError as err:
        with parts.db.write() as session:
            row = session.get(Dashboard, dashboard_id)
            if previous is None:
                session.delete(row)
            else:
                for key, value in previous.items():
                    setattr(row, key, value)
        if err.status in (400, 403):
            raise Refused(400, f"the dashboard's server was refused: {err.message}") from None
        raise Refused(503, f"the hub did not start the dashboard's server: {err.message}") from None
    with parts.db.write() as session:
        record(session, "dashboard.published", f"user:{owner}", dashboard_id=dashboard_id,
               detail=f"{body.notebook} as {server_name(body.name)} (profile {profile})")
        return session.get(Dashboard, dashboard_id)


async def start(parts: Parts, dashboard: Dashboard, actor: str) -> None:
    """Start a published dashboard's server again."""
    try:
        await parts.start_server(dashboard.owner, dashboard.server, server_options(dashboard), dashboard.title)
    except RemoteError as err:
        raise Refused(400 if err.status in (400, 403) else 503, f"the server did not start: {err.message}") from None
    with parts.db.write() as session:
        record(session, "dashboard.started", actor, dashboard_id=dashboard.id)


async def stop(parts: Parts, dashboard: Dashboard, actor: str) -> None:
    """Stop a dashboard's server (it stays published; links keep working once it runs)."""
    try:
        await parts.stop_server(dashboard.owner, dashboard.server)
    except RemoteError as err:
        raise Refused(503, f"the hub did not stop the server: {err.message}") from None
    with parts.db.write() as session:
        record(session, "dashboard.stopped", actor, dashboard_id=dashboard.id)


async def unpublish(parts: Parts, dashboard: Dashboard, actor: str) -> None:
    """Revoke every link (their guests end), then remove the server and mark the dashboard unpublished."""
    now = parts.clock()
    with parts.db.write() as session:
        for link in session.scalars(select(Link).filter_by(dashboard_id=dashboard.id, revoked_at=None)):
            link.revoked_at, link.revoked_by = now, actor
    await guests.end_where(parts, "unpublished", actor, dashboard_id=dashboard.id)
    try:
        await parts.stop_server(dashboard.owner, dashboard.server, remove=True)
    except RemoteError as err:
        raise Refused(503, f"the hub did not remove the server (the links are revoked): {err.message}") from None
    with parts.db.write() as session:
        session.get(Dashboard, dashboard.id).unpublished_at = now
        record(session, "dashboard.unpublished", actor, dashboard_id=dashboard.id)
