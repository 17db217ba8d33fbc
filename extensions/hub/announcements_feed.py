"""The hub's feed of announcements for its own pages (``GET /hub/announcements``).

Every logged-in hub page fetches it (templates/factoryhub-announcements.html) and shows what
the announcements service says the user should see now. The hub asks the service with its own
identity ``factoryhub-announcements-reader`` (scope ``custom:announcements:read-any``) for the
user of the login cookie: the page never talks to the service itself (that would need the
service's own OAuth login first), and rendering a page never waits for the service (the script
asks after the page is shown). A service that does not answer costs the user the banner only.
On Slurm, the cluster's maintenance windows (``FLAGS=MAINT`` reservations) come first, as warnings.
Mixed into both authenticators, like the workshop and guest logins.
"""
from __future__ import annotations

import json

from jupyterhub.handlers.base import BaseHandler
from tornado import web
from traitlets import Unicode
from traitlets.config import Configurable

from factoryhub.spawners.slurm.client import SlurmError

from .restclient import RemoteError, RestClient, segment

PATH = "/announcements"


class AnnouncementsConfig(Configurable):
    """Where the announcements service answers, and the hub's token for it."""
    service_api_url = Unicode("", config=True, help="The announcements service's API, e.g. "
                              "http://127.0.0.1:10105/services/factoryhub-announcements/api/v1 (empty: no feed).")
    token = Unicode("", config=True, help="The token of the hub's factoryhub-announcements-reader identity.")


class AnnouncementsFeedHandler(BaseHandler):
    """GET: the announcements the logged-in user sees now, as JSON ``{"announcements": [...]}``."""

    @web.authenticated
    async def get(self):
        config = AnnouncementsConfig(parent=self.authenticator)
        if not config.service_api_url:
            raise web.HTTPError(404, "This hub has no announcements service.")
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        name = self.current_user.name
        try:
            answer = await RestClient(config.service_api_url, config.token, timeout=5).call(
                "GET", f"/announcements/current?user={segment(name)}")
        except RemoteError as err:
            self.log.warning("Announcements for %s unavailable: %s", name, err)
            self.set_status(503)
            self.finish(json.dumps({"announcements": [], "available": False,
                                    "message": "The announcements service did not answer."}))
            return
        self.finish(json.dumps({"announcements": [*await self._maintenance(), *answer.get("announcements", [])],
                                "available": True}))

    async def _maintenance(self) -> list[dict]:
        """The cluster's maintenance windows, where the user's sessions are Slurm jobs (the spawner
        reads them from its shared, cached view of the cluster; none when Slurm does not answer)."""
        windows = getattr(self.current_user.spawner, "maintenance_announcements", None)
        if windows is None:
            return []
        try:
            return await windows()
        except SlurmError as err:
            self.log.warning("Maintenance windows unavailable for the announcements feed: %s", err)
            return []


class AnnouncementsFeedMixin:
    """Adds the announcements feed to an authenticator's handlers where the service runs."""

    def get_handlers(self, app):
        """The authenticator's own handlers, and the feed where the announcements service runs."""
        mine = [(PATH, AnnouncementsFeedHandler)] if AnnouncementsConfig(parent=self).service_api_url else []
        return [*super().get_handlers(app), *mine]
