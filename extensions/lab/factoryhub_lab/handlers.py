"""The session's own API for the FactoryHub panels, below ``{base_url}factoryhub/api/``.

The frontend talks only to this server (same origin, the server's login); the server talks to
the site's services with its own token. Errors keep the services' JSON shape
``{"status", "message", "field"}``; an unreachable service answers 503 with ``available: false``
(except for workshop messages and announcements, which a site without those services simply does not have).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .services import ANNOUNCEMENTS, CATALOGUE, QUOTA, WORKSHOPS, Answer, ServiceClient
from .session import Session
from .starter import FOLDER as STARTER_FOLDER
from .starter import copy_starter, starter_source

ENTRY_ID = r"(?P<entry_id>[a-z0-9][a-z0-9._-]{0,99})"
SEARCH_PARAMETERS = ("q", "kind", "access", "theme", "licence", "format", "usable", "limit", "offset")
CHART_DAYS = "14"


class FactoryHubHandler(APIHandler):
    """Base of the extension's API handlers: the shared service client and replying with a service's answer."""
    @property
    def services(self) -> ServiceClient:
        return self.settings["factoryhub_services"]

    def reply(self, answer: Answer) -> None:
        self.set_status(answer.status)
        self.finish(json.dumps(answer.body))


class HealthHandler(FactoryHubHandler):
    """A liveness check: answers ok when the server extension is installed and loaded."""
    @web.authenticated
    def get(self):
        self.finish(json.dumps({"status": "ok"}))


class SessionHandler(FactoryHubHandler):
    """This server's session for the walltime countdown: account, profile, job, remaining time and cost so far."""
    @web.authenticated
    def get(self):
        self.finish(json.dumps(Session.from_env(os.environ).describe(time.time())))


class QuotaHandler(FactoryHubHandler):
    """The user's projects with their balance and recent daily usage, and this session's cost."""

    @web.authenticated
    async def get(self):
        listed = await self.services.call(QUOTA, "projects")
        if listed.status != 200:
            self.reply(listed)
            return
        projects = []
        for project in listed.body.get("projects", []):
            detail = await self.services.call(QUOTA, self.services.path("projects", project["account"]),
                                              {"days": CHART_DAYS})
            projects.append({**project, "daily_usage": detail.body.get("daily_usage", []) if detail.status == 200
                             else []})
        self.finish(json.dumps({"available": True, "projects": projects,
                                "session": Session.from_env(os.environ).describe(time.time())}))


class SearchHandler(FactoryHubHandler):
    """Catalogue search, passed on to the catalogue service with the user's server token."""
    @web.authenticated
    async def get(self):
        query = [(name, value) for name in SEARCH_PARAMETERS for value in self.get_arguments(name)]
        self.reply(await self.services.call(CATALOGUE, "entries", query))


class EntryHandler(FactoryHubHandler):
    """One catalogue entry, passed on from the catalogue service."""
    @web.authenticated
    async def get(self, entry_id):
        self.reply(await self.services.call(CATALOGUE, self.services.path("entries", entry_id)))


class SnippetsHandler(FactoryHubHandler):
    """An entry's code snippets for loading it in a notebook, passed on from the catalogue service."""
    @web.authenticated
    async def get(self, entry_id):
        self.reply(await self.services.call(CATALOGUE, self.services.path("entries", entry_id, "snippets")))


class AccessRequestHandler(FactoryHubHandler):
    """Asks the catalogue service for access to a restricted entry on the user's behalf."""
    @web.authenticated
    async def post(self, entry_id):
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise web.HTTPError(400, "the body is not JSON") from None
        self.reply(await self.services.call(CATALOGUE, self.services.path("entries", entry_id, "requests"),
                                            method="POST", body=body))


class MessagesHandler(FactoryHubHandler):
    """The user's workshop messages newer than ``?after=<id>``, oldest first, from the workshops service
    (docs/workshops.md, "Broadcast messages"). A site without that service, or one that does not answer
    now, has no messages for the user: ``{"messages": [], "available": false}``, not an error."""

    @web.authenticated
    async def get(self):
        answer = await self.services.call(WORKSHOPS, "messages", {"after": self.get_argument("after", "0")},
                                          quiet=True)
        if answer.status in (404, 503):
            self.finish(json.dumps({"messages": [], "available": False}))
        else:
            self.reply(answer)


class AnnouncementsHandler(FactoryHubHandler):
    """The site's announcements meant for the user now, from the announcements service (docs/announcements.md).
    A site without that service, or one that does not answer now, has none: ``{"announcements": [],
    "available": false}``, not an error."""

    @web.authenticated
    async def get(self):
        answer = await self.services.call(ANNOUNCEMENTS, "announcements/current", quiet=True)
        if answer.status in (404, 503):
            self.finish(json.dumps({"announcements": [], "available": False}))
        else:
            self.reply(answer)


class StarterHandler(FactoryHubHandler):
    """Copy FactoryHub's starter notebooks into ``~/factoryhub-starter`` (the server's root), never over
    a file the user already has; answers what was copied and what was kept."""

    @web.authenticated
    def post(self):
        root = Path(self.contents_manager.root_dir)
        try:
            done = copy_starter(starter_source(dict(os.environ)), root / STARTER_FOLDER)
        except FileNotFoundError as err:
            raise web.HTTPError(404, str(err)) from None
        except FileExistsError as err:
            raise web.HTTPError(409, str(err)) from None
        self.log.info("Starter notebooks: %d copied, %d kept in %s", len(done.copied), len(done.kept), STARTER_FOLDER)
        self.finish(json.dumps({"folder": STARTER_FOLDER, "copied": done.copied, "kept": done.kept}))


def setup_handlers(web_app) -> None:
    """Register the extension's API routes under ``<base_url>/factoryhub/api`` with a client for the hub's services."""
    settings = web_app.settings
    settings["factoryhub_services"] = ServiceClient(
        os.environ.get("JUPYTERHUB_API_TOKEN", ""), services_url=os.environ.get("FACTORYHUB_SERVICES_URL", ""),
        hub_api_url=os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"))
    base = url_path_join(settings["base_url"], "factoryhub", "api")
    web_app.add_handlers(".*$", [
        (url_path_join(base, "health"), HealthHandler),
        (url_path_join(base, "session"), SessionHandler),
        (url_path_join(base, "quota"), QuotaHandler),
        (url_path_join(base, "catalogue", "entries"), SearchHandler),
        (url_path_join(base, "catalogue", "entries", ENTRY_ID), EntryHandler),
        (url_path_join(base, "catalogue", "entries", ENTRY_ID, "snippets"), SnippetsHandler),
        (url_path_join(base, "catalogue", "entries", ENTRY_ID, "requests"), AccessRequestHandler),
        (url_path_join(base, "starter"), StarterHandler),
        (url_path_join(base, "messages"), MessagesHandler),
        (url_path_join(base, "announcements"), AnnouncementsHandler),
    ])
