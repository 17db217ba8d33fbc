"""``python -m factoryhub.announcements.service``: the announcements service, started by the hub.

Admins post messages (info or warning, a time window, for everyone, one hub group or one
project); users see those meant for them on the hub's home and spawn pages and as JupyterLab
notifications in their sessions. See docs/announcements.md.
"""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web
from traitlets import Float, Unicode
from traitlets.config import Application

from factoryhub.heap import settle_heap
from factoryhub.orphan_guard import run_service
from factoryhub.request_logs import app_settings
from factoryhub.restclient import RestClient
from factoryhub.service_metrics import metrics_route
from factoryhub.servicedb import DB_URL_VARIABLE, Database
from factoryhub.webservice import TemplateLoader

from . import api, metrics, pages
from .parts import Parts
from .readers import Readers

MIGRATIONS = Path(__file__).with_name("migrations")


class AnnouncementsService(Application):
    """The announcements hub service: the board, and who sees which announcement."""
    name = "factoryhub-announcements"
    description = __doc__.split("\n\n")[0]

    db_url = Unicode(os.environ.get(DB_URL_VARIABLE, "sqlite:///announcements.sqlite"), config=True,
                     help="SQLAlchemy URL of the announcements database, e.g. postgresql://ann@db/announcements.")
    quota_url = Unicode("", config=True, help="The quota service's API, e.g. "
                        "http://127.0.0.1:10101/services/factoryhub-quota/api/v1/ (empty: no project announcements "
                        "reach anyone).")
    cache_seconds = Float(30.0, config=True, help="How long a user's groups and a project's members are kept "
                          "before the hub and the quota service are asked again.")
    site_name = Unicode("FactoryHub", config=True, help="The site's name, shown in the page's navigation bar.")

    aliases = {"quota-url": "AnnouncementsService.quota_url", "cache-seconds": "AnnouncementsService.cache_seconds",
               "site-name": "AnnouncementsService.site_name"}

    def make_parts(self) -> Parts:
        db = Database(self.db_url, MIGRATIONS)
        db.upgrade()
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        hub = RestClient(os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"), token, timeout=10)
        quota = RestClient(self.quota_url, token, timeout=10) if self.quota_url else None
        return Parts(db=db, readers=Readers(hub, quota, ttl=self.cache_seconds))

    def make_app(self, parts: Parts, prefix: str) -> web.Application:
        handlers = [(rf"{prefix}oauth_callback", HubOAuthCallbackHandler), *api.routes(prefix, parts),
                    *pages.routes(prefix, parts), metrics_route(prefix)]
        return web.Application(handlers, cookie_secret=os.urandom(32), xsrf_cookies=True, service_prefix=prefix,
                               site_name=self.site_name, template_loader=TemplateLoader(pages.TEMPLATES),
                               **app_settings())

    async def serve(self) -> None:
        parts = self.make_parts()
        metrics.register(parts)
        settle_heap()
        url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10105"))
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/factoryhub-announcements/")
        self.make_app(parts, prefix).listen(url.port, url.hostname)
        self.log.info("Announcements service on %s (prefix %s); quota service %s", url.geturl(), prefix,
                      self.quota_url or "none (project announcements reach nobody)")
        await asyncio.Event().wait()

    def start(self):
        run_service(self)


main = AnnouncementsService.launch_instance

if __name__ == "__main__":
    main()
