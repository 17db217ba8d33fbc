"""The dashboards REST API, version 1 (contract: openapi.yaml beside this file).

Any hub user may publish notebooks of their own home and act on their own dashboards;
``custom:dashboards:admin`` acts on every dashboard, link and guest; ``custom:dashboards:guest-login``
redeems a guest's login ticket (the hub's own identity, for /hub/dashboard-guest). Acting on
someone else's dashboard is a 403 that says so. Errors are JSON ``{"status", "field", "message"}``.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from urllib.parse import quote

from sqlalchemy import select

from factoryhub.restclient import RemoteError
from factoryhub.webservice import ApiError, HealthHandler, JsonHandler, api_catch_all, authenticated

from . import guests, links, publishing, sharing
from .models import AccessEvent, Dashboard, Guest
from .parts import Parts
from .plan import NAME_PATTERN, gpu_hours_so_far, is_guest
from .schemas import GROUP_NAME, UNIX_NAME, DashboardCreate, GuestLogin, LinkCreate, ShareCreate

ADMIN, GUEST_LOGIN = "custom:dashboards:admin", "custom:dashboards:guest-login"
API = "api/v1"
OWNER_IN_PATH = r"(?P<owner>[a-z_][a-z0-9_.-]{0,31})"
NAME_IN_PATH = "(?P<name>" + NAME_PATTERN.strip("^$") + ")"
GUEST_IN_PATH = r"(?P<guest>guest-[0-9a-f]{10})"


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def page_path(dashboard: Dashboard) -> str:
    """The dashboard's page below the hub's base URL (its server serves nothing else)."""
    return f"/user/{dashboard.owner}/{dashboard.server}/voila/render/{quote(dashboard.notebook)}"


def dashboard_model(parts: Parts, dashboard: Dashboard, servers: dict[str, dict], link_rows: list[dict],
                    shared: list[dict]) -> dict:
    """A dashboard with its server's state and what it has cost so far (GPU-hours, from the profile's price)."""
    server = servers.get(dashboard.server) or {}
    state = "running" if server.get("ready") else "starting" if server.get("pending") == "spawn" else \
        "stopping" if server.get("pending") == "stop" else "stopped"
    profile = parts.profiles.get(dashboard.profile or "")
    started = _time(server.get("started")) if state == "running" else None
    cost = gpu_hours_so_far(started, parts.clock(), profile.gpus, profile.price) if profile else 0.0
    return {"owner": dashboard.owner, "name": dashboard.name, "title": dashboard.title, "notebook": dashboard.notebook,
            "profile": dashboard.profile, "account": dashboard.account, "walltime_hours": dashboard.walltime_hours,
            "show_sources": dashboard.show_sources, "server": dashboard.server,
            "url": page_path(dashboard), "state": state, "started": started,
            "gpu_hours_so_far": round(cost, 4), "created_at": dashboard.created_at,
            "links": link_rows, "active_guests": sum(r["active_guests"] for r in link_rows), "shared_with": shared}


async def describe(parts: Parts, dashboards: list[Dashboard]) -> list[dict]:
    """Dashboards with their states: one hub call per owner, a few at a time."""
    owners = sorted({d.owner for d in dashboards})
    limit = asyncio.Semaphore(8)

    async def servers(owner: str) -> dict:
        async with limit:
            try:
                return await parts.servers_of(owner)
            except RemoteError:
                return {}  # shown as stopped; the page still lists the dashboard and its links

    async def shared(dashboard: Dashboard) -> list[dict]:
        async with limit:
            return await sharing.shared_with(parts, dashboard)

    found = dict(zip(owners, await asyncio.gather(*(servers(o) for o in owners)), strict=True))
    shares = await asyncio.gather(*(shared(d) for d in dashboards))
    return [dashboard_model(parts, d, found[d.owner], links.of_dashboard(parts, d.id), s)
            for d, s in zip(dashboards, shares, strict=True)]


def published(parts: Parts, owner: str | None = None) -> list[Dashboard]:
    """Published dashboards, of one owner or of everyone."""
    with parts.db.read() as session:
        query = select(Dashboard).filter(Dashboard.unpublished_at.is_(None)).order_by(Dashboard.owner, Dashboard.name)
        if owner is not None:
            query = query.filter(Dashboard.owner == owner)
        return list(session.scalars(query))


def active_guests(parts: Parts, owner: str | None = None) -> list[dict]:
    """Guests whose access is running, of one owner's dashboards or of all."""
    with parts.db.read() as session:
        query = (select(Guest, Dashboard).join(Dashboard, Dashboard.id == Guest.dashboard_id)
                 .filter(Guest.ended_at.is_(None)).order_by(Guest.created_at))
        if owner is not None:
            query = query.filter(Dashboard.owner == owner)
        rows = session.execute(query).all()
    return [{"name": g.name, "dashboard": f"{d.owner}/{d.name}", "link_id": g.link_id, "created_at": g.created_at,
             "expires_at": g.expires_at, "logged_in": g.logged_in_at is not None, "address": g.address}
            for g, d in rows]


def access_log(parts: Parts, owner: str | None = None, limit: int = 200) -> list[dict]:
    """The newest access-log lines, of one owner's dashboards or of all."""
    with parts.db.read() as session:
        query = (select(AccessEvent, Dashboard).outerjoin(Dashboard, Dashboard.id == AccessEvent.dashboard_id)
                 .order_by(AccessEvent.id.desc()).limit(limit))
        if owner is not None:
            query = query.filter(Dashboard.owner == owner)
        rows = session.execute(query).all()
    return [{"at": e.at, "kind": e.kind, "actor": e.actor, "dashboard": f"{d.owner}/{d.name}" if d else None,
             "link_id": e.link_id, "guest": e.guest or None, "detail": e.detail} for e, d in rows]


@contextlib.contextmanager
def refusals_as_api_errors():
    """The service's refusals (publishing.Refused) as the API's JSON errors."""
    try:
        yield
    except publishing.Refused as err:
        raise ApiError(err.status, err.message, err.field) from None


class ApiHandler(JsonHandler):
    """The dashboards API's handlers: who may act on which dashboard."""
    service_label = "the dashboards service"

    def initialize(self, parts: Parts):
        self.parts = parts

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def owner_name(self) -> str:
        """The calling hub user, who may own dashboards (services and guests may not)."""
        name = self.username
        if name is None or is_guest(name):
            raise ApiError(403, "only the hub's users publish dashboards")
        return name

    def dashboard(self, owner: str, name: str) -> Dashboard:
        """The dashboard, if the caller owns it (or administers dashboards); 404 or 403 otherwise."""
        with refusals_as_api_errors():
            return publishing.owned(self.parts, owner, name, self.username, self.is_admin)

    async def carry_out(self, action):
        """Run a publishing, links or sharing call, its refusal the API's JSON error."""
        with refusals_as_api_errors():
            return await action


class DashboardsHandler(ApiHandler):
    """GET: my dashboards (all=1: everyone's, admins); POST: publish one."""
    @authenticated
    async def get(self):
        everyone = self.flag("all")
        if everyone and not self.is_admin:
            raise ApiError(403, "all=1 needs custom:dashboards:admin")
        rows = published(self.parts, None if everyone else self.owner_name())
        self.answer({"dashboards": await describe(self.parts, rows)})

    @authenticated
    async def post(self):
        owner, body = self.owner_name(), self.body(DashboardCreate)
        dashboard = await self.carry_out(publishing.publish(self.parts, owner, body))
        self.answer((await describe(self.parts, [dashboard]))[0], 201)


class DashboardHandler(ApiHandler):
    """GET: one dashboard; DELETE: unpublish it (links revoked, guests ended, server removed)."""
    @authenticated
    async def get(self, owner, name):
        self.answer((await describe(self.parts, [self.dashboard(owner, name)]))[0])

    @authenticated
    async def delete(self, owner, name):
        await self.carry_out(publishing.unpublish(self.parts, self.dashboard(owner, name), self.actor))
        self.set_status(204)
        self.finish()


class ServerActionHandler(ApiHandler):
    """POST start|stop: the dashboard's server."""
    @authenticated
    async def post(self, owner, name, action):
        dashboard = self.dashboard(owner, name)
        await self.carry_out((publishing.start if action == "start" else publishing.stop)(
            self.parts, dashboard, self.actor))
        self.answer((await describe(self.parts, [dashboard]))[0], 202)


class LinksHandler(ApiHandler):
    """GET: a dashboard's links; POST: a new link (its code is in this answer only)."""
    @authenticated
    def get(self, owner, name):
        self.answer({"links": links.of_dashboard(self.parts, self.dashboard(owner, name).id)})

    @authenticated
    def post(self, owner, name):
        dashboard, body = self.dashboard(owner, name), self.body(LinkCreate)
        with refusals_as_api_errors():
            link, code = links.create(self.parts, dashboard, body, self.actor)
        self.answer({**links.link_model(link), "code": code, "url": links.guest_url(self, code)}, 201)


class SharesHandler(ApiHandler):
    """GET: who has access by name; POST: give a user or group access; DELETE ?user= or ?group=: take it back."""

    @authenticated
    async def get(self, owner, name):
        self.answer({"shared_with": await sharing.shared_with(self.parts, self.dashboard(owner, name))})

    @authenticated
    async def post(self, owner, name):
        dashboard, body = self.dashboard(owner, name), self.body(ShareCreate)
        await self.carry_out(sharing.change(self.parts, dashboard, self.actor, user=body.user, group=body.group))
        self.answer({"shared_with": await sharing.shared_with(self.parts, dashboard)}, 201)

    @authenticated
    async def delete(self, owner, name):
        dashboard = self.dashboard(owner, name)
        user, group = self.query("user"), self.query("group")
        if (user is None) == (group is None) or not re.fullmatch(UNIX_NAME if user else GROUP_NAME, user or group):
            raise ApiError(400, "give exactly one of user= and group=, a valid name", "user")
        await self.carry_out(sharing.change(self.parts, dashboard, self.actor, user=user, group=group, grant=False))
        self.set_status(204)
        self.finish()


class LinkHandler(ApiHandler):
    """DELETE: revoke a link; its guests end at once."""
    @authenticated
    async def delete(self, link_id):
        with refusals_as_api_errors():
            link, dashboard = links.find(self.parts, int(link_id))
        self.dashboard(dashboard.owner, dashboard.name)  # the owner's or an admin's
        failed = await links.revoke(self.parts, link, self.actor)
        if failed:
            raise ApiError(503, f"the link is revoked, but the hub did not delete guests {', '.join(failed)} yet "
                                "(retried within seconds)")
        self.set_status(204)
        self.finish()


class GuestsHandler(ApiHandler):
    """GET: active guests (of my dashboards; admins: all)."""
    @authenticated
    def get(self):
        self.answer({"guests": active_guests(self.parts, None if self.is_admin else self.owner_name())})


class GuestHandler(ApiHandler):
    """DELETE: end a guest now."""
    @authenticated
    async def delete(self, guest):
        with self.parts.db.read() as session:
            row = session.get(Guest, guest)
            dashboard = session.get(Dashboard, row.dashboard_id) if row else None
        if row is None or row.ended_at is not None:
            raise ApiError(404, f"no active guest {guest}")
        if not self.is_admin and dashboard.owner != self.username:
            raise ApiError(403, f"guest {guest} is not one of your dashboards' guests")
        if await guests.end(self.parts, [guest], "ended by " + self.actor, self.actor):
            raise ApiError(503, "the hub did not delete the guest yet (retried within seconds)")
        self.set_status(204)
        self.finish()


class EventsHandler(ApiHandler):
    """GET: the access log (of my dashboards; admins: all)."""
    @authenticated
    def get(self):
        limit = self.bounded("limit", 200, 1, 5000)
        self.answer({"events": access_log(self.parts, None if self.is_admin else self.owner_name(), limit)})


class GuestLoginsHandler(ApiHandler):
    """POST: the hub redeems a guest's one-time login ticket."""
    @authenticated
    def post(self):
        if GUEST_LOGIN not in self.scopes:
            raise ApiError(403, "this needs custom:dashboards:guest-login (the hub's login page)")
        body = self.body(GuestLogin)
        try:
            self.answer(guests.redeem(self.parts, body.ticket))
        except guests.GuestRefused as err:
            raise ApiError(err.status, err.message, "ticket") from None


def routes(prefix: str, parts: Parts) -> list[tuple]:
    """The API's routes below the service's prefix."""
    base = f"{prefix}{API}"
    one = f"{base}/dashboards/{OWNER_IN_PATH}/{NAME_IN_PATH}"
    args = {"parts": parts}
    return [
        (f"{base}/health", HealthHandler),
        (f"{base}/dashboards", DashboardsHandler, args),
        (one, DashboardHandler, args),
        (f"{one}/(?P<action>start|stop)", ServerActionHandler, args),
        (f"{one}/links", LinksHandler, args),
        (f"{one}/shares", SharesHandler, args),
        (rf"{base}/links/(?P<link_id>[0-9]{{1,12}})", LinkHandler, args),
        (f"{base}/guests", GuestsHandler, args),
        (f"{base}/guests/{GUEST_IN_PATH}", GuestHandler, args),
        (f"{base}/events", EventsHandler, args),
        (f"{base}/guest-logins", GuestLoginsHandler, args),
        api_catch_all(prefix),
    ]

