"""The workshops pages: the trainer's list and creation form, a workshop's dashboard, and the join pages.

Forms post back here with an xsrf token and go through the same functions as the API. The
join landing page and the pool-seat form need no login: the code is the credential.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import quote

from pydantic import ValidationError
from sqlalchemy import select
from tornado import web

from factoryhub import webservice
from factoryhub.restclient import RemoteError
from factoryhub.spawners.slurm.client import SlurmError

from . import broadcasts, creation, dashboard, ending, joining, records
from .api import ID_IN_PATH, ApiHandler, act, act_on_all
from .models import JoinCode, Workshop
from .parts import Parts
from .plan import UNKNOWN_CODE, JoinRefusal
from .schemas import CODE, BroadcastBody, WorkshopCreate

TEMPLATES = Path(__file__).with_name("templates")
CODE_IN_PATH = "(?P<code>" + CODE.strip("^$") + ")"
FORM_FIELDS = ("id", "title", "seats", "profile", "budget_gpu_hours", "trainer_account", "course_repo",
               "course_branch", "nodes", "idle_timeout_minutes")


def form_to_request(form: dict[str, str]) -> WorkshopCreate:
    """The creation form's fields (times as the browser's local time plus its UTC offset) as a request."""
    offset = dt.timezone(dt.timedelta(minutes=-int(form.get("tz_offset_minutes") or 0)))
    data: dict = {k: form[k] for k in FORM_FIELDS if form.get(k, "").strip()}
    for key in ("starts_at", "ends_at"):
        if form.get(key):
            data[key] = dt.datetime.fromisoformat(form[key]).replace(tzinfo=offset)
    for key in ("seats", "idle_timeout_minutes"):
        if key in data:
            data[key] = int(data[key])
    if "budget_gpu_hours" in data:
        data["budget_gpu_hours"] = float(data["budget_gpu_hours"])
    return WorkshopCreate.model_validate(data)


class PageHandler(ApiHandler, webservice.PageHandler):
    """A logged-in page of the service."""
    def page_values(self) -> dict:
        return {**super().page_values(), "is_trainer": self.is_trainer,
                "profiles": self.parts.profiles}


class HomePage(PageHandler):
    """Trainers: their workshops and the creation form. Everyone: a field to enter a join code."""
    @web.authenticated
    async def get(self):
        await self.show()

    async def show(self, status: int = 200, message: str = "", kind: str = "info", form: dict | None = None):
        workshops = []
        if self.is_trainer:
            with self.parts.db.read() as session:
                query = select(Workshop).order_by(Workshop.starts_at.desc()).limit(200)
                if not self.is_admin:
                    query = query.where(Workshop.trainer == self.current_user["name"])
                workshops = [records.workshop_record(w) for w in session.scalars(query)]
        self.page("home.html", status=status, message=message, message_kind=kind, title="Workshops",
                  workshops=workshops, form=form or {})

    @web.authenticated
    async def post(self):
        self.require_trainer()
        form = {k: self.get_body_argument(k, "") for k in (*FORM_FIELDS, "starts_at", "ends_at", "tz_offset_minutes")}
        try:
            body = form_to_request(form)
            workshop = await creation.create(self.parts, body, self.current_user["name"], self.is_admin)
        except ValidationError as err:
            field, reason = webservice.first_problem(err)
            return await self.show(400, f"{field}: {reason}", "danger", form)
        except ValueError as err:
            return await self.show(400, f"The form has a value that is not allowed: {err}", "danger", form)
        except creation.Refused as err:
            label = f"{err.field}: " if err.field else ""
            return await self.show(err.status, f"Not created — {label}{err.message}", "danger", form)
        self.redirect(f"{self.settings['service_prefix']}workshops/{workshop.id}?created=1")


class WorkshopPage(PageHandler):
    """A workshop's dashboard: participants and their sessions, actions, broadcast, report, end."""
    @web.authenticated
    async def get(self, workshop_id):
        message = "Workshop created: share the join links below." if self.get_argument("created", "") else ""
        await self.show(workshop_id, message=message)

    async def show(self, workshop_id, status=200, message="", kind="info"):
        workshop = self.own_workshop(workshop_id)
        try:
            board = await dashboard.dashboard(self.parts, workshop) if workshop.state.value == "ready" else None
        except (SlurmError, RemoteError) as err:
            board, message, kind = None, f"The sessions' state could not be read: {err}", "warning"
        self.page("workshop.html", status=status, message=message, message_kind=kind, title=workshop.title,
                  workshop=records.workshop_record(workshop), codes=self.codes(workshop), board=board,
                  report=workshop.report)

    @web.authenticated
    async def post(self, workshop_id):
        workshop = self.own_workshop(workshop_id)
        action = self.get_body_argument("action", "")
        message, kind = "", "info"
        if action in ("start-all", "stop-all"):
            verb = action.split("-")[0]
            outcomes = list((await act_on_all(self.parts, workshop, verb)).values())
            failed = [o for o in outcomes if o.startswith("failed")]
            message = f"{verb.title()}ing {len(outcomes) - len(failed)} sessions." + (
                f" {len(failed)} failed: {failed[0]}" if failed else "")
            kind = "warning" if failed else "info"
        elif action.startswith(("start:", "stop:")):
            verb, _, username = action.partition(":")
            self.participant(workshop, username)
            outcome = await act(self.parts, workshop, username, verb)
            message, kind = f"{username}: {outcome}", "warning" if outcome.startswith("failed") else "info"
        elif action == "broadcast":
            try:
                body = BroadcastBody(text=self.get_body_argument("text", ""))
            except ValidationError:
                return await self.show(workshop_id, 400, "The message must have 1 to 1000 characters.", "danger")
            broadcasts.send(self.parts, workshop.id, self.current_user["name"], body.text)
            message = "Message sent: participants see it in JupyterLab within 30 seconds."
        elif action == "end":
            try:
                await ending.end(self.parts, workshop.id, self.actor)
                message = "The workshop has ended: sessions stopped, reservation, group and codes removed."
            except ending.EndFailed as err:
                message, kind = f"Ending stopped part-way and will be retried: {err}", "danger"
        else:
            raise web.HTTPError(400, "unknown action")
        await self.show(workshop_id, message=message, kind=kind)


class PublicPage(webservice.JsonErrors):
    """A page anyone may open (no login): the join landing page and the pool-seat form."""
    def initialize(self, parts: Parts):
        self.parts = parts

    def write_error(self, status_code, **kwargs):
        web.RequestHandler.write_error(self, status_code, **kwargs)

    def show(self, template: str, status: int = 200, **values) -> None:
        self.set_status(status)
        self.render(template, prefix=self.settings["service_prefix"],
                    hub_prefix=os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/",
                    site_name=self.settings.get("site_name", "FactoryHub"), user_name="", signed_in=False,
                    url_escape=lambda text: quote(text, safe=""), **{"message": "", "message_kind": "info", **values})



def workshop_of(parts: Parts, code: str) -> Workshop | None:
    """The workshop a join code is for (None: no such code)."""
    with parts.db.read() as session:
        row = session.get(JoinCode, code)
        return session.get(Workshop, row.workshop_id) if row else None


class JoinLanding(PublicPage):
    """The link participants get: what the workshop is, and the two ways to take the seat."""
    def get(self, code):
        workshop = workshop_of(self.parts, code)
        if workshop is None:
            return self.show("join.html", 404, title="Join a workshop", workshop=None, code=code,
                             pool=False, message=UNKNOWN_CODE, message_kind="danger")
        self.show("join.html", title=f"Join {workshop.title}", workshop=records.workshop_record(workshop), code=code,
                  pool=bool(self.parts.pool.accounts))


class PoolJoinPage(PublicPage):
    """POST: take the seat with a pool training account; the page shows its login once."""
    async def post(self, code):
        name = self.get_body_argument("display_name", "")[:100]
        try:
            joined = await joining.join(self.parts, code, None, name)
        except JoinRefusal as refusal:
            return self.show("joined.html", refusal.status, title="Join a workshop", joined=None,
                             message=refusal.message, message_kind="danger")
        self.show("joined.html", 201, title=f"Joined {joined.title}", joined=joined)


class JoinAsMePage(PageHandler):
    """GET: confirm joining as the logged-in user; POST: join."""
    @web.authenticated
    def get(self, code):
        workshop = workshop_of(self.parts, code)
        self.page("join.html", status=200 if workshop else 404, title="Join a workshop", code=code, pool=False,
                  workshop=records.workshop_record(workshop) if workshop else None, signed_in=True,
                  message="" if workshop else UNKNOWN_CODE, message_kind="danger")

    @web.authenticated
    async def post(self, code):
        try:
            joined = await joining.join(self.parts, code, self.current_user["name"])
        except JoinRefusal as refusal:
            return self.page("joined.html", status=refusal.status, title="Join a workshop", joined=None,
                             message=refusal.message, message_kind="danger")
        self.page("joined.html", status=201, title=f"Joined {joined.title}", joined=joined)


def routes(prefix: str, parts: Parts) -> list:
    """The pages below the service prefix."""
    args = {"parts": parts}
    return [
        (rf"{prefix}?", HomePage, args),
        (rf"{prefix}workshops/{ID_IN_PATH}", WorkshopPage, args),
        (rf"{prefix}join/{CODE_IN_PATH}", JoinLanding, args),
        (rf"{prefix}join/{CODE_IN_PATH}/pool", PoolJoinPage, args),
        (rf"{prefix}join/{CODE_IN_PATH}/me", JoinAsMePage, args),
    ]
