"""The dashboards pages: the owner's (publish, links, revoke, stop), the admin's, and the guest's terms page.

Forms post back with an xsrf token and call the same functions as the API. The guest page
needs no login (the link's code is the credential): accepting the site's terms admits a
guest and sends the browser to the hub's /hub/dashboard-guest with a one-time ticket.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from pydantic import ValidationError
from tornado import web

from factoryhub import webservice

from . import guests, links, publishing, sharing
from .api import ApiHandler, access_log, active_guests, describe, published
from .models import Guest
from .plan import is_guest
from .schemas import CODE, DashboardCreate, LinkCreate, ShareCreate

TEMPLATES = Path(__file__).with_name("templates")
CODE_IN_PATH = "(?P<code>" + CODE.strip("^$") + ")"
HUB_GUEST_LOGIN = "dashboard-guest"  # below the hub's prefix (factoryhub/guest_login.py)


class PageHandler(ApiHandler, webservice.PageHandler):
    """A logged-in page of the service."""

    def page_values(self) -> dict:
        return {**super().page_values(), "is_admin": self.is_admin, "profiles": self.parts.profiles,
                "default_profile": self.parts.default_profile}

    def form(self, *names: str) -> dict[str, str]:
        return {n: self.get_body_argument(n, "").strip() for n in names}


def publish_request(form: dict[str, str]) -> DashboardCreate:
    """The publish form as an API body (validated the same way)."""
    data: dict = {k: form[k] for k in ("name", "title", "notebook", "profile", "account") if form.get(k)}
    if form.get("walltime_hours"):
        data["walltime_hours"] = float(form["walltime_hours"])
    data["show_sources"] = form.get("show_sources") == "on"
    return DashboardCreate.model_validate(data)


def link_request(form: dict[str, str]) -> LinkCreate:
    """The link form (hours) as an API body (seconds)."""
    data: dict = {"label": form.get("label", "")}
    if form.get("expires_in_hours"):
        data["expires_in_seconds"] = round(float(form["expires_in_hours"]) * 3600)
    if form.get("max_guests"):
        data["max_guests"] = int(form["max_guests"])
    return LinkCreate.model_validate(data)


class HomePage(PageHandler):
    """The owner's dashboards, their state, cost and links; the publish form."""

    @web.authenticated
    async def get(self):
        await self.show()

    async def show(self, status: int = 200, message: str = "", kind: str = "info", new_link: str = "",
                   form: dict | None = None):
        owner = self.username
        rows = await describe(self.parts, published(self.parts, owner)) if owner and not is_guest(owner) else []
        self.page("home.html", status=status, message=message, message_kind=kind, title="Dashboards",
                  dashboards=rows, new_link=new_link, form=form or {}, limits=self.parts.limits)

    @web.authenticated
    async def post(self):
        action = self.get_body_argument("action", "")
        try:
            if action == "publish":
                form = self.form("name", "title", "notebook", "profile", "account", "walltime_hours", "show_sources")
                try:
                    body = publish_request(form)
                except ValidationError as err:
                    field, reason = webservice.first_problem(err)
                    return await self.show(400, f"Not published — {field}: {reason}", "danger", form=form)
                except ValueError as err:
                    return await self.show(400, f"Not published — {err}", "danger", form=form)
                await publishing.publish(self.parts, self.owner_name(), body)
                return await self.show(message=f"Published {body.title}: its server is starting.")
            owner, name = self.get_body_argument("owner", ""), self.get_body_argument("name", "")
            dashboard = self.dashboard(owner, name)
            if action == "link":
                try:
                    body = link_request(self.form("label", "expires_in_hours", "max_guests"))
                except (ValidationError, ValueError) as err:
                    detail = webservice.first_problem(err) if isinstance(err, ValidationError) else ("", str(err))
                    return await self.show(400, f"No link made — {': '.join(d for d in detail if d)}", "danger")
                _, code = links.create(self.parts, dashboard, body, self.actor)
                url = links.guest_url(self, code)
                return await self.show(message=f"Link made for {dashboard.title}; it is shown once, copy it now.",
                                       new_link=url)
            if action.startswith("revoke:"):
                link, owning = links.find(self.parts, int(action.partition(":")[2]))
                if owning.id != dashboard.id:
                    raise web.HTTPError(400, "that link is not this dashboard's")
                await links.revoke(self.parts, link, self.actor)
                return await self.show(message="Link revoked: its guests were signed out.")
            if action == "share" or action.startswith("unshare:"):
                grant = action == "share"
                if grant:
                    form = self.form("share_kind", "share_name")
                    kind, target = form["share_kind"], form["share_name"]
                else:
                    _, kind, target = action.split(":", 2)
                schema = ShareCreate.model_validate({"user" if kind == "user" else "group": target})
                await sharing.change(self.parts, dashboard, self.actor, user=schema.user, group=schema.group,
                                     grant=grant)
                verb = "can now open" if grant else "can no longer open"
                return await self.show(message=f"{kind.title()} {target} {verb} {dashboard.title}.")
            if action in ("start", "stop"):
                await (publishing.start if action == "start" else publishing.stop)(self.parts, dashboard, self.actor)
                return await self.show(message=f"{dashboard.title}: {action} requested.")
            if action == "unpublish":
                await publishing.unpublish(self.parts, dashboard, self.actor)
                return await self.show(message=f"{dashboard.title} is no longer published.")
        except publishing.Refused as err:
            return await self.show(err.status, f"{err.message}", "danger")
        except ValidationError as err:
            field, reason = webservice.first_problem(err)
            return await self.show(400, f"{field}: {reason}", "danger")
        except webservice.ApiError as err:
            return await self.show(err.status_code, err.message, "danger")
        raise web.HTTPError(400, "unknown action")


class AdminPage(PageHandler):
    """Every published dashboard, every active guest and the access log; end any guest or revoke any link."""

    @web.authenticated
    async def get(self):
        await self.show()

    async def show(self, status: int = 200, message: str = "", kind: str = "info"):
        if not self.is_admin:
            raise web.HTTPError(403, "this page needs custom:dashboards:admin")
        self.page("admin.html", status=status, message=message, message_kind=kind, title="Dashboards (admin)",
                  dashboards=await describe(self.parts, published(self.parts)), guests=active_guests(self.parts),
                  events=access_log(self.parts, limit=100))

    @web.authenticated
    async def post(self):
        if not self.is_admin:
            raise web.HTTPError(403, "this page needs custom:dashboards:admin")
        action = self.get_body_argument("action", "")
        kind, _, target = action.partition(":")
        if kind == "end-guest":
            with self.parts.db.read() as session:
                active = session.get(Guest, target)
            if active is None or active.ended_at is not None:
                return await self.show(404, f"no active guest {target}", "danger")
            failed = await guests.end(self.parts, [target], "ended by " + self.actor, self.actor)
            return await self.show(message=f"Guest {target} ended." if not failed else
                                   f"The hub did not delete {target} yet; retried within seconds.")
        if kind == "revoke":
            try:
                link, _ = links.find(self.parts, int(target))
            except (ValueError, publishing.Refused):
                return await self.show(404, f"no link {target}", "danger")
            await links.revoke(self.parts, link, self.actor)
            return await self.show(message=f"Link {target} revoked; its guests were signed out.")
        raise web.HTTPError(400, "unknown action")


class GuestPage(web.RequestHandler):
    """A guest link: the site's terms first; accepting them admits a guest and logs them in at the hub."""

    def initialize(self, parts, terms: str):
        self.parts, self.terms = parts, terms

    def show(self, status: int, code: str, dashboard=None, message: str = "") -> None:
        self.set_status(status)
        self.render("guest.html", title="Guest access", prefix=self.settings["service_prefix"],
                    hub_prefix=os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/", user_name="guest",
                    site_name=self.settings.get("site_name", "FactoryHub"), message=message, message_kind="warning",
                    dashboard=dashboard, code=code, terms=[p for p in self.terms.split("\n\n") if p.strip()])

    def get(self, code):
        try:
            _, dashboard = guests.check_link(self.parts, code, self.request.remote_ip or "")
        except guests.GuestRefused as err:
            return self.show(err.status, code, message=err.message)
        self.show(200, code, dashboard)

    def post(self, code):
        if self.get_body_argument("accept", "") != "yes":
            return self.get(code)
        try:
            _, ticket = guests.admit(self.parts, code, self.request.remote_ip or "")
        except guests.GuestRefused as err:
            return self.show(err.status, code, message=err.message)
        hub = os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/"
        self.redirect(f"{hub}{HUB_GUEST_LOGIN}?ticket={quote(ticket, safe='')}")


def routes(prefix: str, parts, terms: str) -> list[tuple]:
    """The pages' routes below the service's prefix."""
    args = {"parts": parts}
    return [(prefix, HomePage, args), (f"{prefix}admin", AdminPage, args),
            (f"{prefix}{links.GUEST_PATH}{CODE_IN_PATH}", GuestPage, {"parts": parts, "terms": terms})]

