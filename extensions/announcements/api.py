"""The announcements REST API, version 1 (contract: openapi.yaml beside this file).

``custom:announcements:admin`` posts, lists and withdraws announcements. Every hub user with
access to the service reads the announcements meant for them now (``announcements/current``);
``custom:announcements:read-any`` reads them for any user named in ``?user=`` (the hub's own
identity, for its home and spawn pages). Errors are JSON ``{"status", "field", "message"}``.
"""
from __future__ import annotations

import contextlib
import logging
import re

from factoryhub.webservice import ApiError, HealthHandler, JsonHandler, api_catch_all, authenticated

from . import board
from .parts import Parts
from .schemas import AnnouncementCreate

log = logging.getLogger(__name__)
ADMIN, READ_ANY = "custom:announcements:admin", "custom:announcements:read-any"
API = "api/v1"
USER_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,254}"
STATES = ("scheduled", "current", "ended", "withdrawn")


@contextlib.contextmanager
def refusals_as_api_errors():
    """The board's refusals as the API's JSON errors."""
    try:
        yield
    except board.Refused as err:
        raise ApiError(err.status, err.message, err.field) from None


class ApiHandler(JsonHandler):
    """The announcements API's handlers."""
    service_label = "the announcements service"

    def initialize(self, parts: Parts):
        self.parts = parts

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def require_admin(self) -> None:
        if not self.is_admin:
            raise ApiError(403, f"this needs {ADMIN} (the hub's admins)")


class AnnouncementsHandler(ApiHandler):
    """GET: every announcement, newest first (?state= narrows); POST: post one."""
    @authenticated
    def get(self):
        self.require_admin()
        only = self.choice("state", STATES)
        now = self.parts.clock()
        self.answer({"announcements": [board.model(a, now) for a in board.listed(self.parts.db, now, only)]})

    @authenticated
    def post(self):
        self.require_admin()
        body = self.body(AnnouncementCreate)
        now = self.parts.clock()
        with refusals_as_api_errors():
            made = board.post(self.parts.db, body, self.actor, now)
        log.info("Announcement %d (%s, for %s %s) posted by %s", made.id, made.level, made.audience,
                      made.audience_name, self.actor)
        self.answer(board.model(made, now), 201)


class AnnouncementHandler(ApiHandler):
    """GET: one announcement."""
    @authenticated
    def get(self, announcement_id):
        self.require_admin()
        with refusals_as_api_errors():
            found = board.find(self.parts.db, int(announcement_id))
        self.answer(board.model(found, self.parts.clock()))


class WithdrawHandler(ApiHandler):
    """POST: withdraw an announcement now (it is shown no more, and stays listed as withdrawn)."""
    @authenticated
    def post(self, announcement_id):
        self.require_admin()
        now = self.parts.clock()
        with refusals_as_api_errors():
            withdrawn = board.withdraw(self.parts.db, int(announcement_id), self.actor, now)
        log.info("Announcement %s withdrawn by %s", announcement_id, self.actor)
        self.answer(board.model(withdrawn, now))


class CurrentHandler(ApiHandler):
    """GET: the announcements meant for the caller now (or for ?user=, with read-any)."""
    @authenticated
    async def get(self):
        named = self.query("user")
        if named is not None:
            if not re.fullmatch(USER_NAME, named):
                raise ApiError(400, "user: not a user name", "user")
            if named != self.username and READ_ANY not in self.scopes:
                raise ApiError(403, f"reading another user's announcements needs {READ_ANY}")
        name = named or self.username
        if name is None:
            raise ApiError(400, "user: required with a service's token (whose announcements?)", "user")
        shown = await self.parts.current_for(name)
        self.answer({"user": name, "announcements": [board.notice(a) for a in shown]})


def routes(prefix: str, parts: Parts) -> list[tuple]:
    """The API's routes below the service's prefix."""
    base = f"{prefix}{API}"
    args = {"parts": parts}
    return [
        (f"{base}/health", HealthHandler),
        (f"{base}/announcements", AnnouncementsHandler, args),
        (f"{base}/announcements/current", CurrentHandler, args),
        (rf"{base}/announcements/(?P<announcement_id>[0-9]{{1,12}})", AnnouncementHandler, args),
        (rf"{base}/announcements/(?P<announcement_id>[0-9]{{1,12}})/withdraw", WithdrawHandler, args),
        api_catch_all(prefix),
    ]
