"""The announcements page: what the user is told now; for admins also posting, the list and withdrawing.

The form posts back with an xsrf token and calls the same board functions as the API. Times
in the form are UTC (an ``<input type=datetime-local>`` has no zone).
"""
from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from tornado import web

from factoryhub import webservice

from . import board
from .api import ADMIN, ApiHandler
from .schemas import AnnouncementCreate

TEMPLATES = Path(__file__).with_name("templates")
FORM_FIELDS = ("level", "title", "text", "starts_at", "ends_at", "audience", "group", "project")


def form_request(form: dict[str, str]) -> AnnouncementCreate:
    """The posting form as an API body, validated the same way (times read as UTC)."""
    data: dict = {k: v for k, v in form.items() if v}
    for key in ("starts_at", "ends_at"):
        if key in data:
            data[key] = data[key] + ("+00:00" if len(data[key]) <= 19 else "")
    audience = data.get("audience", "everyone")
    data = {k: v for k, v in data.items() if k not in ("group", "project") or k == audience}
    return AnnouncementCreate.model_validate(data)


class AnnouncementsPage(ApiHandler, webservice.PageHandler):
    """GET: the user's current announcements (admins: also the form and every announcement); POST: admins act."""

    async def show(self, status: int = 200, message: str = "", kind: str = "info", form: dict | None = None):
        now = self.parts.clock()
        mine = await self.parts.current_for(self.username) if self.username else []
        everything = [board.model(a, now) for a in board.listed(self.parts.db, now)] if self.is_admin else []
        self.page("announcements.html", status=status, message=message, message_kind=kind, title="Announcements",
                  mine=[board.notice(a) for a in mine], announcements=everything, is_admin=self.is_admin,
                  form=form or {})

    @web.authenticated
    async def get(self):
        await self.show()

    @web.authenticated
    async def post(self):
        if not self.is_admin:
            raise web.HTTPError(403, f"posting announcements needs {ADMIN}")
        action = self.get_body_argument("action", "")
        now = self.parts.clock()
        if action == "post":
            form = {n: self.get_body_argument(n, "").strip() for n in FORM_FIELDS}
            try:
                made = board.post(self.parts.db, form_request(form), self.actor, now)
            except ValidationError as err:
                field, reason = webservice.first_problem(err)
                return await self.show(400, f"{field}: {reason}", "danger", form)
            except board.Refused as err:
                return await self.show(err.status, err.message, "danger", form)
            return await self.show(message=f"Announcement {made.id} posted.")
        kind, _, target = action.partition(":")
        if kind == "withdraw" and target.isdigit():
            try:
                board.withdraw(self.parts.db, int(target), self.actor, now)
            except board.Refused as err:
                return await self.show(err.status, err.message, "danger")
            return await self.show(message=f"Announcement {target} withdrawn.")
        raise web.HTTPError(400, "unknown action")



def routes(prefix: str, parts) -> list[tuple]:
    """The page's route: the service's root."""
    return [(prefix, AnnouncementsPage, {"parts": parts})]
