"""The workshops REST API, version 1 (contract: openapi.yaml beside this file).

Authorization by custom scopes: ``custom:workshops:train`` creates workshops and acts on
one's own; ``custom:workshops:admin`` acts on every workshop; ``custom:workshops:pool-login``
checks pool accounts' logins (the hub's login page). A trainer acting on a workshop that is
not theirs, or on a user who is not one of its participants, gets 403. Any logged-in user may
join with a code and read their own messages; anyone holding a code may take a pool seat.
Errors are JSON ``{"status", "field", "message"}``.
"""
from __future__ import annotations

import asyncio
import logging

from factoryhub.report_period import KPI_READ, requested_period
from factoryhub.restclient import RemoteError, segment
from factoryhub.servicedb import utcnow
from factoryhub.spawners.slurm.client import SlurmError
from factoryhub.webservice import (
    ApiError,
    HealthHandler,
    JsonErrors,
    JsonHandler,
    api_catch_all,
    authenticated,
    read_body,
)

from . import broadcasts, creation, dashboard, ending, joining, kpi, records
from .models import JoinCode, Participant, Workshop
from .parts import Parts
from .plan import JoinRefusal
from .schemas import WORKSHOP_ID, BroadcastBody, JoinBody, PoolLogin, SessionsAction, WorkshopCreate

log = logging.getLogger(__name__)

TRAIN, ADMIN, POOL_LOGIN = "custom:workshops:train", "custom:workshops:admin", "custom:workshops:pool-login"
API = "api/v1"
ID_IN_PATH = "(?P<workshop_id>" + WORKSHOP_ID.strip("^$") + ")"
USER_IN_PATH = r"(?P<username>[a-z_][a-z0-9_-]{0,31})"
START_CONCURRENCY = 8


class ApiHandler(JsonHandler):
    """The workshops API's handlers: who may act on which workshop."""
    service_label = "the workshops service"

    def initialize(self, parts: Parts):
        self.parts = parts

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    @property
    def is_trainer(self) -> bool:
        return TRAIN in self.scopes or self.is_admin

    def require_trainer(self) -> None:
        if not self.is_trainer:
            raise ApiError(403, "this needs the trainer role (custom:workshops:train)")

    def own_workshop(self, workshop_id: str) -> Workshop:
        """The workshop, if the caller trains it (or administers workshops); else 404/403."""
        self.require_trainer()
        with self.parts.db.read() as session:
            workshop = session.get(Workshop, workshop_id)
        if workshop is None:
            raise ApiError(404, f"no workshop {workshop_id!r}")
        if not self.is_admin and workshop.trainer != self.current_user["name"]:
            raise ApiError(403, f"workshop {workshop_id} is not yours: a trainer acts only on their own workshops")
        return workshop

    def participant(self, workshop: Workshop, username: str) -> None:
        with self.parts.db.read() as session:
            found = session.query(Participant).filter_by(workshop_id=workshop.id, username=username).first()
        if found is None and username != workshop.trainer:
            raise ApiError(403, f"{username} is not a participant of workshop {workshop.id}")

    def codes(self, workshop: Workshop) -> list[dict]:
        with self.parts.db.read() as session:
            rows = session.query(JoinCode).filter_by(workshop_id=workshop.id).order_by(JoinCode.code).all()
        # the hub's public address when the site names one (behind a TLS proxy this request says http://)
        public = self.settings.get("public_url") or f"{self.request.protocol}://{self.request.host}"
        base = public.rstrip("/") + self.settings["service_prefix"]
        return [{"code": r.code, "used_by": r.used_by, "link": f"{base}join/{r.code}"} for r in rows]


class WorkshopsHandler(ApiHandler):
    """GET workshops: the caller's (all with ?all=1, for admins); POST: create one, all or nothing."""
    @authenticated
    def get(self):
        self.require_trainer()
        everyone = self.flag("all") and self.is_admin
        with self.parts.db.read() as session:
            query = session.query(Workshop).order_by(Workshop.starts_at.desc())
            if not everyone:
                query = query.filter(Workshop.trainer == self.current_user["name"])
            self.answer({"workshops": [records.workshop_record(w) for w in query.limit(500)]})

    @authenticated
    async def post(self):
        self.require_trainer()
        body = self.body(WorkshopCreate)
        try:
            workshop = await creation.create(self.parts, body, self.current_user["name"], self.is_admin)
        except creation.Refused as err:
            raise ApiError(err.status, err.message, err.field) from None
        self.answer({**records.workshop_record(workshop), "codes": self.codes(workshop)}, 201)


class WorkshopHandler(ApiHandler):
    """GET workshops/{id}: the workshop with its join codes and links."""
    @authenticated
    def get(self, workshop_id):
        workshop = self.own_workshop(workshop_id)
        self.answer({**records.workshop_record(workshop), "codes": self.codes(workshop)})


class ParticipantsHandler(ApiHandler):
    """GET workshops/{id}/participants: each participant's session state, and the budget's use."""
    @authenticated
    async def get(self, workshop_id):
        workshop = self.own_workshop(workshop_id)
        try:
            self.answer(await dashboard.dashboard(self.parts, workshop))
        except (SlurmError, RemoteError) as err:
            raise ApiError(503, f"the sessions' state could not be read: {err}") from None


class SessionsHandler(ApiHandler):
    """POST workshops/{id}/sessions {"action": "start"|"stop"}: every participant's session."""
    @authenticated
    async def post(self, workshop_id):
        workshop = self.own_workshop(workshop_id)
        action = self.body(SessionsAction).action
        self.answer({"action": action, "results": await act_on_all(self.parts, workshop, action)})


async def act_on_all(parts: Parts, workshop: Workshop, action: str) -> dict[str, str]:
    """Start or stop every participant's session, a few at a time: username -> outcome in words."""
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(username):
        async with gate:
            return username, await act(parts, workshop, username, action)

    return dict(await asyncio.gather(*(one(p.username) for p in dashboard.participants(parts, workshop.id))))


async def act(parts: Parts, workshop: Workshop, username: str, action: str) -> str:
    """Start (with the workshop's binding) or stop one user's session; the outcome in words."""
    try:
        if action == "stop":
            await parts.stop_server(username)
            return "stopping"
        await parts.hub.call("POST", f"/users/{segment(username)}/server", {"user_options": {"workshop": workshop.id}})
        return "starting"
    except RemoteError as err:
        if action == "start" and err.status == 400 and "already" in err.message:
            return "already running"
        log.warning("%s of %s's session (workshop %s) failed: %s", action, username, workshop.id, err)
        return f"failed: {err.message}"


class ParticipantSessionHandler(ApiHandler):
    """POST / DELETE workshops/{id}/participants/{user}/session: start or stop one participant's session."""
    @authenticated
    async def post(self, workshop_id, username):
        await self._act(workshop_id, username, "start")

    @authenticated
    async def delete(self, workshop_id, username):
        await self._act(workshop_id, username, "stop")

    async def _act(self, workshop_id, username, action):
        workshop = self.own_workshop(workshop_id)
        self.participant(workshop, username)
        outcome = await act(self.parts, workshop, username, action)
        self.answer({"username": username, "result": outcome}, 502 if outcome.startswith("failed") else 202)


class BroadcastsHandler(ApiHandler):
    """POST workshops/{id}/broadcasts: a message to every participant's JupyterLab."""
    @authenticated
    def post(self, workshop_id):
        workshop = self.own_workshop(workshop_id)
        body = self.body(BroadcastBody)
        self.answer(broadcasts.send(self.parts, workshop.id, self.current_user["name"], body.text), 201)


class ReportHandler(ApiHandler):
    """GET workshops/{id}/report(.csv): participants, sessions and GPU-hours (kept after the end)."""
    def initialize(self, parts: Parts, as_csv: bool = False):
        super().initialize(parts)
        self.as_csv = as_csv

    @authenticated
    async def get(self, workshop_id):
        workshop = self.own_workshop(workshop_id)
        data = workshop.report
        if data is None:
            try:
                data = await dashboard.current_report(self.parts, workshop)
            except RemoteError as err:
                raise ApiError(503, f"the quota ledger could not be read: {err}") from None
        if self.as_csv:
            self.set_header("Content-Disposition", f'attachment; filename="{workshop.id}-report.csv"')
            self.answer_text(dashboard.report_csv(data), "text/csv; charset=utf-8")
        else:
            self.answer(data)

    def answer_text(self, text: str, content_type: str) -> None:
        self.set_header("Content-Type", content_type)
        self.finish(text)


class KpiHandler(ApiHandler):
    """GET reports/kpi: workshops that started in a period and their participants (admins, the KPI report)."""
    @authenticated
    def get(self):
        if not (self.is_admin or KPI_READ in self.scopes):
            raise ApiError(403, f"this needs the {ADMIN} or {KPI_READ} permission")
        period = requested_period(self, utcnow().date())
        with self.parts.db.read() as session:
            self.answer({"period": period.as_dict(), **kpi.kpi_counts(session, period)})


class EndHandler(ApiHandler):
    """POST workshops/{id}/end: end the workshop now (what the end of its window does)."""
    @authenticated
    async def post(self, workshop_id):
        workshop = self.own_workshop(workshop_id)
        if workshop.state.value not in ("ready", "ending", "ended"):
            raise ApiError(409, f"workshop {workshop_id} is {workshop.state.value}: there is nothing to end")
        try:
            report = await ending.end(self.parts, workshop.id, self.actor)
        except ending.EndFailed as err:
            raise ApiError(502, f"ending stopped part-way and will be retried: {err}") from None
        self.answer(report)


class JoinHandler(ApiHandler):
    """POST join {"code"}: the logged-in user takes a seat."""
    @authenticated
    async def post(self):
        if self.username is None:
            raise ApiError(403, "only a hub user can join a workshop")
        body = self.body(JoinBody)
        try:
            joined = await joining.join(self.parts, body.code, self.username)
        except JoinRefusal as refusal:
            raise ApiError(refusal.status, refusal.message, "code") from None
        self.answer({"workshop": joined.workshop_id, "title": joined.title, "username": joined.username,
                     "ends_at": joined.ends_at}, 201)


class PoolJoinHandler(JsonErrors):
    """POST pool-joins {"code", "display_name"}: a seat with a training account, for someone without one.

    No identity is needed: the code is the credential (one seat, used once)."""
    def initialize(self, parts: Parts):
        self.parts = parts

    def check_xsrf_cookie(self):  # no cookie identity is involved: the code itself is the secret
        return None

    async def post(self):
        body = read_body(self.request.body, JoinBody)
        try:
            joined = await joining.join(self.parts, body.code, None, body.display_name)
        except JoinRefusal as refusal:
            raise ApiError(refusal.status, refusal.message, "code") from None
        self.set_status(201)
        self.finish({"workshop": joined.workshop_id, "title": joined.title, "username": joined.username,
                     "password": joined.password, "ends_at": joined.ends_at})


class PoolLoginHandler(ApiHandler):
    """POST pool-logins {"username", "password"}: whether a pool account's login is valid now."""
    @authenticated
    def post(self):
        if POOL_LOGIN not in self.scopes:
            raise ApiError(403, "this needs the custom:workshops:pool-login permission")
        body = self.body(PoolLogin)
        lease = joining.check_pool_login(self.parts, body.username, body.password)
        if lease is None:
            raise ApiError(403, "unknown training account or wrong password, or its workshop has ended")
        self.answer(lease)


class MessagesHandler(ApiHandler):
    """GET messages?after=N: the caller's broadcast messages newer than N, oldest first."""
    @authenticated
    def get(self):
        after = self.bounded("after", 0, 0, 2**62)
        name = self.username
        self.answer({"messages": broadcasts.messages_for(self.parts, name, after) if name else []})


class PoolLeaseHandler(ApiHandler):
    """DELETE pool/{account}: an admin frees an expired pool account (its home dealt with)."""
    @authenticated
    def delete(self, account):
        if not self.is_admin:
            raise ApiError(403, "this needs the custom:workshops:admin permission")
        try:
            freed = ending.free_pool_account(self.parts, account, self.actor)
        except ValueError as err:
            raise ApiError(409, str(err), "account") from None
        if not freed:
            raise ApiError(404, f"{account} is not lent")
        self.answer({"account": account, "freed": True})


def routes(prefix: str, parts: Parts) -> list:
    """URL patterns below the service prefix."""
    args = {"parts": parts}
    base, wid, user = f"{prefix}{API}", ID_IN_PATH, USER_IN_PATH
    return [
        (rf"{base}/health", HealthHandler),
        (rf"{base}/workshops", WorkshopsHandler, args),
        (rf"{base}/workshops/{wid}", WorkshopHandler, args),
        (rf"{base}/workshops/{wid}/participants", ParticipantsHandler, args),
        (rf"{base}/workshops/{wid}/participants/{user}/session", ParticipantSessionHandler, args),
        (rf"{base}/workshops/{wid}/sessions", SessionsHandler, args),
        (rf"{base}/workshops/{wid}/broadcasts", BroadcastsHandler, args),
        (rf"{base}/workshops/{wid}/report", ReportHandler, args),
        (rf"{base}/workshops/{wid}/report\.csv", ReportHandler, {**args, "as_csv": True}),
        (rf"{base}/workshops/{wid}/end", EndHandler, args),
        (rf"{base}/join", JoinHandler, args),
        (rf"{base}/pool-joins", PoolJoinHandler, args),
        (rf"{base}/pool-logins", PoolLoginHandler, args),
        (rf"{base}/pool/{user}", PoolLeaseHandler, args),
        (rf"{base}/messages", MessagesHandler, args),
        (rf"{base}/reports/kpi", KpiHandler, args),
        api_catch_all(prefix),
    ]
