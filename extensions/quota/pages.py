"""The quota service's pages: a user's own balances; admins' project, allocation and audit views.

Browsers authenticate through the hub (HubOAuth); forms post back here with an xsrf token,
are validated by the same schemas and admin functions as the API, and re-render with the
problem named when they are refused. Nothing is written on a refusal.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, ValidationError
from tornado import web

from factoryhub import webservice
from factoryhub.webservice import first_problem

from . import admin, reports
from .api import ACCOUNT_IN_PATH, ADMIN, ApiHandler
from .db import Database
from .models import Allocation, Sector, Track, utcnow
from .schemas import AllocationCreate, AllocationUpdate, ProjectCreate

TEMPLATES = Path(__file__).with_name("templates")
NEAR_LIMIT = 0.8  # a project at 80 % used or held is "near its limit"


class PageHandler(ApiHandler, webservice.PageHandler):
    """The quota pages: the API's ledger access, rendered in the hub's look."""

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def page_values(self) -> dict:
        return {**super().page_values(), "is_admin": self.is_admin, "near": NEAR_LIMIT}

    def form_body(self, schema: type[BaseModel], fields: tuple[str, ...], **extra):
        """Validate the posted fields (empty ones left out) with the API's schema."""
        data = {f: self.get_body_argument(f) for f in fields if self.get_body_argument(f, "").strip() != ""}
        return schema.model_validate({**data, **extra})

    def require_admin_page(self):
        if not self.is_admin:
            raise web.HTTPError(403, "managing allocations needs the custom:quota:admin permission")


class MinePage(PageHandler):
    """The user's page: the projects they belong to with balance, burn rate and allocations."""
    @web.authenticated
    def get(self):
        now = utcnow()
        with self.db.read() as session:
            projects = reports.summaries(session, reports.projects_of(session, self.current_user["name"]), now)
        self.page("mine.html", title="My allocations", projects=projects)


class AdminPage(PageHandler):
    """The admins' page: every project, creating projects, top consumers and the audit log."""
    @web.authenticated
    def get(self):
        self.require_admin_page()
        self.render_admin()

    def render_admin(self, status: int = 200, message: str = "", form: dict | None = None, kind: str = "info"):
        now = utcnow()
        with self.db.read() as session:
            projects = reports.summaries(session, reports.projects_of(session, None), now)
            top = reports.top_consumers(session, now - dt.timedelta(days=30))
            audit = admin.audit_entries(session, limit=30)
        attention = [p for p in projects if p["allocated_gpu_hours"] and
                     (p["used_gpu_hours"] + p["held_gpu_hours"]) >= NEAR_LIMIT * p["allocated_gpu_hours"]]
        self.page("admin.html", status, message, kind, title="Manage allocations", projects=projects, top=top,
                  audit=audit, attention=attention, form=form or {}, tracks=[t.value for t in Track],
                  sectors=[s.value for s in Sector])

    @web.authenticated
    def post(self):  # new project
        self.require_admin_page()
        fields = ("account", "title", "track", "sector", "contact")
        form = {f: self.get_body_argument(f, "") for f in (*fields, "members")}
        try:
            body = self.form_body(ProjectCreate, fields,
                                  members=[m.strip() for m in form["members"].split(",") if m.strip()])
            with self.db.write() as session:
                admin.create_project(session, self.actor, body)
        except ValidationError as err:
            field, reason = first_problem(err)
            return self.render_admin(400, f"Not created — {field}: {reason}", form, "danger")
        except admin.Conflict as err:
            return self.render_admin(409, f"Not created — {err.field}: {err.reason}", form, "danger")
        self.redirect(f"{self.settings['service_prefix']}admin/projects/{quote(body.account, safe='')}?created=1")


class ProjectPage(PageHandler):
    """An admin's page of one project: its fields, members, allocations and balance."""
    @web.authenticated
    def get(self, account):
        self.require_admin_page()
        message = "Saved." if self.get_argument("saved", "") else "Project created." if self.get_argument(
            "created", "") else ""
        self.render_project(account, message=message, kind="success")

    def render_project(self, account: str, status: int = 200, message: str = "", kind: str = "info"):
        now = utcnow()
        with self.db.read() as session:
            project = self.project(session, account)
            p = reports.summary(session, project, now)
            p["daily_usage"] = reports.daily_usage(session, account, now.date() - dt.timedelta(days=29), now)
        self.page("project.html", status, message, kind, title=account, p=p)

    def change(self, account: str, apply) -> bool:
        """Run one admin change; re-render with the problem (False), or redirect to the saved page."""
        self.require_admin_page()
        try:
            with self.db.write() as session:
                apply(session)
        except ValidationError as err:
            field, reason = first_problem(err)
            self.render_project(account, 400, f"Not saved — {field}: {reason}", "danger")
            return False
        except (admin.Conflict, admin.NotFound, ValueError) as err:
            self.render_project(account, 400, f"Not saved — {err}", "danger")
            return False
        self.redirect(f"{self.settings['service_prefix']}admin/projects/{quote(account, safe='')}?saved=1")
        return True


class NewAllocationPage(ProjectPage):
    """An admin's form post granting a project a new allocation."""
    @web.authenticated
    def post(self, account):
        def apply(session):
            body = self.form_body(AllocationCreate, ("gpu_hours", "cpu_hours", "starts_on", "ends_on", "notes"))
            admin.add_allocation(session, self.actor, account, body)
        if self.change(account, apply):
            self.settings["on_allocation_change"](account)


class AllocationPage(ProjectPage):
    """An admin's form post changing one allocation."""
    @web.authenticated
    def post(self, allocation_id):
        with self.db.read() as session:
            allocation = session.get(Allocation, int(allocation_id))
            if allocation is None:
                raise web.HTTPError(404, f"no allocation {allocation_id}")
            account = allocation.project.account

        def apply(session):
            body = self.form_body(AllocationUpdate, ("gpu_hours", "cpu_hours", "starts_on", "ends_on", "notes"))
            admin.update_allocation(session, self.actor, int(allocation_id), body)
        if self.change(account, apply):
            self.settings["on_allocation_change"](account)


class MembersPage(ProjectPage):
    """An admin's form post adding a member to or removing one from a project."""
    @web.authenticated
    def post(self, account):
        username = self.get_body_argument("username", "").strip()
        remove = bool(self.get_body_argument("remove", ""))

        def apply(session):
            ProjectCreate.model_validate({"account": account, "title": "-", "members": [username]})
            admin.set_member(session, self.actor, account, username, not remove)
        self.change(account, apply)


def routes(prefix: str, db: Database) -> list:
    """The quota service's HTML page routes under ``prefix``, each handler given the ledger ``db``."""
    args = {"db": db, "hold_lifetime": dt.timedelta()}
    account = ACCOUNT_IN_PATH
    return [
        (rf"{prefix}", MinePage, args),
        (rf"{prefix}admin", AdminPage, args),
        (rf"{prefix}admin/projects", AdminPage, args),
        (rf"{prefix}admin/projects/{account}", ProjectPage, args),
        (rf"{prefix}admin/projects/{account}/allocations", NewAllocationPage, args),
        (rf"{prefix}admin/projects/{account}/members", MembersPage, args),
        (rf"{prefix}admin/allocations/(?P<allocation_id>[0-9]{{1,12}})", AllocationPage, args),
    ]

