"""The quota service's pages: a user's own balances; admins' project, allocation, audit and KPI views
(a project's AI-Act record page: ai_act_pages.py).

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
from factoryhub.report_period import PeriodError, read_period
from factoryhub.webservice import first_problem

from . import admin, kpi, reports
from .api import ACCOUNT_IN_PATH, ADMIN, ApiHandler
from .db import Database
from .kpi_report import kpi_report
from .models import Allocation, Sector, Track, utcnow
from .schemas import AllocationCreate, AllocationUpdate, ProjectCreate, ProjectUpdate

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


class PiPage(ProjectPage):
    """An admin's form post naming the project's PI (one of its members; empty: none)."""
    @web.authenticated
    def post(self, account):
        def apply(session):
            pi = self.get_body_argument("pi", "").strip()
            admin.update_project(session, self.actor, account, ProjectUpdate(pi=pi))
        self.change(account, apply)


class KpiPage(PageHandler):
    """The admins' KPI report of a month or any period: its figures, charts and links to its exports."""

    @web.authenticated
    async def get(self):
        self.require_admin_page()
        now = utcnow()
        asked = {name: self.get_argument(name, None) for name in ("month", "since", "until")}
        try:
            period = read_period(asked["month"], asked["since"], asked["until"], now.date())
        except PeriodError as err:
            return self.page("kpi.html", 400, f"No report — {err}", "danger", title="KPI report", report=None,
                             period=None, asked=asked, definitions=DEFINITIONS)
        report = await kpi_report(self.db, self.settings.get("kpi_sources", {}), period, now)
        self.page("kpi.html", title="KPI report", report=report, period=period, asked=asked,
                  top=report["usage"]["by_project"][:kpi.TOP_PROJECTS], definitions=DEFINITIONS)


# the footnotes of the page; docs/kpi.md says the same at more length
DEFINITIONS = (
    ("active_users", "distinct users with a job (usage record) that started in the period."),
    ("new_users", "users whose first job in the whole ledger started in the period."),
    ("smes_served", "distinct projects of sector sme with a job that started in the period."),
    ("organisations_served", "distinct organisations among the projects with a job that started in the period; "
                             "a project's organisation is its contact's e-mail domain, lower-cased (its account "
                             "when the contact has no domain)."),
    ("GPU-hours and sessions", "of the jobs that started in the period (sessions: jobs started): finished jobs "
                               "as accounting recorded them, running ones to now; by the project's access "
                               "track and sector (unregistered: an account the ledger has no project for)."),
    ("request to running", "seconds from a session's request (its budget hold) to its job's start, over the "
                           "holds made in the period whose job accounting knows; percentiles by nearest rank."),
    ("allocated_share_used", "GPU-hours used / GPU-hours allocated: each allocation overlapping the period "
                             "counts pro rata to the days it overlaps; used is its project's GPU-hours in "
                             "those days."),
    ("workshops, participants", "workshops whose start falls in the period, and their distinct participants "
                                "(a pool account counts once per workshop), from the workshops service."),
    ("access_requests_granted", "catalogue access requests approved in the period, from the catalogue service."),
)


def routes(prefix: str, db: Database) -> list:
    """The quota service's HTML page routes under ``prefix``, each handler given the ledger ``db``."""
    from . import ai_act_pages  # its page extends PageHandler: imported once this module is complete

    args = {"db": db, "hold_lifetime": dt.timedelta()}
    account = ACCOUNT_IN_PATH
    return [
        (rf"{prefix}", MinePage, args),
        (rf"{prefix}admin", AdminPage, args),
        (rf"{prefix}admin/projects", AdminPage, args),
        (rf"{prefix}admin/kpi", KpiPage, args),
        (rf"{prefix}admin/projects/{account}", ProjectPage, args),
        (rf"{prefix}admin/projects/{account}/allocations", NewAllocationPage, args),
        (rf"{prefix}admin/projects/{account}/members", MembersPage, args),
        (rf"{prefix}admin/projects/{account}/pi", PiPage, args),
        *ai_act_pages.routes(prefix, account, args),
        (rf"{prefix}admin/allocations/(?P<allocation_id>[0-9]{{1,12}})", AllocationPage, args),
    ]

