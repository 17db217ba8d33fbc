"""The quota REST API, version 1 (contract: openapi.yaml beside this file).

Authentication is JupyterHub's (tokens for programs, HubOAuth cookies for browsers);
authorization is by custom scopes:

- any hub user with access to the service reads the projects they are a member of;
- ``custom:quota:read`` reads every project (support staff, reports);
- ``custom:quota:admin`` also creates and changes projects, members and allocations, and reads
  the KPI report;
- a project's PI (``pi``, one of its members) and admins edit its AI-Act record (ai_act_api.py);
- ``custom:quota:holds`` places and closes spawn holds (the hub's session spawner).

Errors are JSON ``{"status", "field", "message"}``: 400 (a parameter or the body), 401 (no
identity), 403 (no right), 404 (no such thing, or no such path), 409 (contradicts what is
stored), 405 with ``Allow``.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from factoryhub.report_period import requested_period
from factoryhub.spawners.slurm.client import SlurmError
from factoryhub.webservice import ApiError, HealthHandler, JsonHandler, api_catch_all, authenticated

from . import admin, metrics, reports
from .balances import UnknownHold, UnknownProject, attach_job, close_hold, find_project, is_member, place_hold
from .db import Database
from .kpi_report import kpi_report, report_csv
from .ledger import session_cost
from .models import utcnow
from .schemas import (
    USERNAME,
    AllocationCreate,
    AllocationUpdate,
    HoldClose,
    HoldJob,
    HoldRequest,
    ProjectCreate,
    ProjectUpdate,
)

log = logging.getLogger(__name__)

READ_ALL, ADMIN, HOLDS = "custom:quota:read", "custom:quota:admin", "custom:quota:holds"
ACCOUNT_IN_PATH = r"(?P<account>[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})"  # schemas.SLURM_ACCOUNT
API = "api/v1"
ID_MAX = 2**63 - 1  # ids are BIGINT-sized at most (openapi.yaml: before's maximum)
MAX_OFFSET = 10**9
MAX_ACCOUNTS = 100  # account= values of one project list


class ApiHandler(JsonHandler):
    """The quota API's handlers: the ledger, and who may read which project."""

    service_label = "the quota service"

    def initialize(self, db: Database, hold_lifetime: dt.timedelta):
        self.db, self.hold_lifetime = db, hold_lifetime

    def require(self, scope: str) -> None:
        if scope not in self.scopes and not (scope == READ_ALL and ADMIN in self.scopes):
            raise ApiError(403, f"this needs the {scope} permission")

    def may_read(self, session, account: str):
        project = self.project(session, account)
        if READ_ALL in self.scopes or ADMIN in self.scopes:
            return project
        if self.current_user.get("kind") == "user" and is_member(session, project, self.current_user["name"]):
            return project
        raise ApiError(403, f"you are not a member of project {account}")

    def apply(self, change, session, *args):
        """Run an admin change as the caller; domain errors become 404/409 naming the field."""
        try:
            return change(session, self.actor, *args)
        except admin.Conflict as err:
            raise ApiError(409, f"{err.field}: {err.reason}", err.field) from None
        except admin.NotFound as err:
            raise ApiError(404, str(err)) from None

    def days(self) -> int:
        return self.bounded("days", 30, 1, 366)

    @staticmethod
    def project(session, account: str):
        try:
            return find_project(session, account)
        except UnknownProject:
            raise ApiError(404, f"no project {account!r}") from None


class ProjectsHandler(ApiHandler):
    """GET projects: the caller's (or every) project with its balance; POST: create one."""
    @authenticated
    def get(self):
        everyone = self.flag("all") and (READ_ALL in self.scopes or ADMIN in self.scopes)
        limit, offset = self.bounded("limit", 50, 1, 500), self.bounded("offset", 0, 0, MAX_OFFSET)
        accounts = self.choices("account", at_most=MAX_ACCOUNTS)
        now = utcnow()
        with self.db.read() as session:
            member_of = None if everyone else self.current_user["name"]
            projects = reports.projects_of(session, member_of, accounts, limit, offset)
            total = reports.count_projects(session, member_of, accounts)
            self.answer({"projects": reports.summaries(session, projects, now), "total": total,
                         "limit": limit, "offset": offset})

    @authenticated
    def post(self):
        self.require(ADMIN)
        body = self.body(ProjectCreate)
        with self.db.write() as session:
            record = admin.project_record(self.apply(admin.create_project, session, body))
        self.answer(record, 201)


class ProjectHandler(ApiHandler):
    """GET projects/{account}: one project with its usage per day; PATCH: change it; DELETE: remove an unused one."""
    @authenticated
    def get(self, account):
        now = utcnow()
        days = self.days()
        with self.db.read() as session:
            project = self.may_read(session, account)
            payload = reports.summary(session, project, now)
            payload["daily_usage"] = reports.daily_usage(session, account, now.date() - dt.timedelta(days=days - 1),
                                                         now)
        self.answer(payload)

    @authenticated
    def patch(self, account):
        self.require(ADMIN)
        body = self.body(ProjectUpdate)
        with self.db.write() as session:
            record = admin.project_record(self.apply(admin.update_project, session, account, body))
        self.answer(record)


    @authenticated
    def delete(self, account):
        self.require(ADMIN)
        with self.db.write() as session:
            record = self.apply(admin.delete_project, session, account)
        self.answer(record)


class MemberHandler(ApiHandler):
    """PUT/DELETE projects/{account}/members/{username}: add or remove a member."""
    @authenticated
    def put(self, account, username):
        self._set(account, username, True)

    @authenticated
    def delete(self, account, username):
        self._set(account, username, False)

    def _set(self, account, username, member):
        self.require(ADMIN)
        if not re.fullmatch(USERNAME, username):
            raise ApiError(400, "username: has characters or a length that are not allowed", "username")
        with self.db.write() as session:
            record = admin.project_record(self.apply(admin.set_member, session, account, username, member))
        self.answer(record)


class AllocationsHandler(ApiHandler):
    """POST projects/{account}/allocations: grant an allocation."""
    @authenticated
    def post(self, account):
        self.require(ADMIN)
        body = self.body(AllocationCreate)
        with self.db.write() as session:
            record = admin.allocation_record(self.apply(admin.add_allocation, session, account, body))
        self.application.settings["on_allocation_change"](account)
        self.answer(record, 201)


class AllocationHandler(ApiHandler):
    """PATCH allocations/{id}: change an allocation."""
    @authenticated
    def patch(self, allocation_id):
        self.require(ADMIN)
        body = self.body(AllocationUpdate)
        with self.db.write() as session:
            record = admin.allocation_record(self.apply(admin.update_allocation, session, int(allocation_id), body))
        self.application.settings["on_allocation_change"](record["account"])
        self.answer(record)


class UsageCsvHandler(ApiHandler):
    """GET projects/{account}/usage.csv: the usage records of the last days."""
    @authenticated
    def get(self, account):
        now = utcnow()
        since = now - dt.timedelta(days=self.days())
        with self.db.read() as session:
            self.may_read(session, account)
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition", f'attachment; filename="{account}-usage.csv"')
            for chunk in reports.usage_csv(reports.usage_records(session, account, since, now)):
                self.write(chunk)
        self.finish()


class AuditHandler(ApiHandler):
    """GET audit: the audit log, newest first (admins)."""
    @authenticated
    def get(self):
        self.require(ADMIN)
        before = self.bounded("before", None, 1, ID_MAX)
        with self.db.read() as session:
            entries = admin.audit_entries(session, before_id=before)
        self.answer({"entries": entries})


class HoldsHandler(ApiHandler):
    """POST holds: hold a session's worst-case cost, or refuse (the hub's spawner)."""
    @authenticated
    def post(self):
        self.require(HOLDS)
        body = self.body(HoldRequest)
        cost = session_cost(body.gpus, body.walltime_hours, body.price)
        # a safety net for holds nobody closes: queue wait + walltime + grace, then it counts no more
        lifetime = dt.timedelta(hours=body.max_pending_hours + body.walltime_hours) + self.hold_lifetime
        try:
            result = place_hold(self.db, body.account, body.username, body.server_name, cost, lifetime)
        except UnknownProject:
            raise ApiError(404, f"project {body.account} has no GPU allocation in FactoryHub; ask the "
                                f"allocation team to register it", "account") from None
        if not result.decision.allowed:
            metrics.REFUSALS.inc()
        payload = {"allowed": result.decision.allowed, "message": result.decision.message,
                   "hold_id": result.hold_id, "cost_gpu_hours": cost / 3600,
                   "remaining_gpu_hours": result.balance.remaining / 3600}
        self.answer(payload, 201 if result.decision.allowed else 403)


class HoldJobHandler(ApiHandler):
    """POST holds/{id}/job: link a hold to its Slurm job."""
    @authenticated
    def post(self, hold_id):
        self.require(HOLDS)
        body = self.body(HoldJob)
        try:
            linked = attach_job(self.db, int(hold_id), body.job_id)
        except UnknownHold:
            raise ApiError(404, f"no hold {hold_id}") from None
        self.answer({"hold_id": int(hold_id), "linked": linked})


class HoldCloseHandler(ApiHandler):
    """POST holds/{id}/close: settle (at the session's charge, when given) or release."""
    @authenticated
    def post(self, hold_id):
        self.require(HOLDS)
        body = self.body(HoldClose)
        try:
            closed = close_hold(self.db, int(hold_id), body.ran, charged_gpu_hours=body.charged_gpu_hours)
        except UnknownHold:
            raise ApiError(404, f"no hold {hold_id}") from None
        self.answer({"hold_id": int(hold_id), "closed": closed})


class ImportsHandler(ApiHandler):
    """Import accounting now (instead of waiting for the next pass); answers what changed."""

    @authenticated
    async def post(self):
        self.require(ADMIN)
        try:
            report, drifts = await self.settings["run_import"]()
        except SlurmError as err:
            log.warning("Import requested by %s failed: %s", self.actor, err)
            raise ApiError(503, f"Slurm accounting is unavailable: {err}") from None
        self.answer({"jobs_seen": report.jobs_seen, "rows_changed": report.rows_changed,
                     "watermark": report.watermark.isoformat(), "limit_drift": [d.describe() for d in drifts]})


class KpiHandler(ApiHandler):
    """GET reports/kpi: the KPI report of a period (admins), JSON or, with format=csv, CSV."""

    @authenticated
    async def get(self):
        self.require(ADMIN)
        as_csv = self.choice("format", ("json", "csv")) == "csv"
        now = utcnow()
        period = requested_period(self, now.date())
        report = await kpi_report(self.db, self.settings.get("kpi_sources", {}), period, now)
        if not as_csv:
            return self.answer(report)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="kpi-{period.since}-{period.until}.csv"')
        self.finish(report_csv(report))


def routes(prefix: str, db: Database, hold_grace: dt.timedelta) -> list:
    """URL patterns below the service prefix (e.g. /services/factoryhub-quota/)."""
    from . import ai_act_api  # its handlers extend ApiHandler: imported once this module is complete

    args = {"db": db, "hold_lifetime": hold_grace}
    account = ACCOUNT_IN_PATH
    return [
        (rf"{prefix}{API}/health", HealthHandler),
        (rf"{prefix}{API}/projects", ProjectsHandler, args),
        (rf"{prefix}{API}/projects/{account}", ProjectHandler, args),
        (rf"{prefix}{API}/projects/{account}/members/(?P<username>[^/]+)", MemberHandler, args),
        (rf"{prefix}{API}/projects/{account}/allocations", AllocationsHandler, args),
        (rf"{prefix}{API}/projects/{account}/usage\.csv", UsageCsvHandler, args),
        *ai_act_api.routes(prefix, API, account, args),
        (rf"{prefix}{API}/allocations/(?P<allocation_id>[0-9]{{1,12}})", AllocationHandler, args),
        (rf"{prefix}{API}/audit", AuditHandler, args),
        (rf"{prefix}{API}/reports/kpi", KpiHandler, args),
        (rf"{prefix}{API}/imports", ImportsHandler, args),
        (rf"{prefix}{API}/holds", HoldsHandler, args),
        (rf"{prefix}{API}/holds/(?P<hold_id>[0-9]{{1,12}})/job", HoldJobHandler, args),
        (rf"{prefix}{API}/holds/(?P<hold_id>[0-9]{{1,12}})/close", HoldCloseHandler, args),
        api_catch_all(prefix),  # last: any other path below api/ is a JSON 404
    ]
