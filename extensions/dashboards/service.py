"""``python -m factoryhub.dashboards.service``: the dashboards service, started by the hub.

Owners publish notebooks as dashboards (servers ``dash-<name>``) and make guest links; guests
accept the site's terms and get a short-lived hub identity that reaches that one server. The
service ends guests whose time is over and keeps the access log. See docs/dashboards.md.
"""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web
from traitlets import Float, Integer, Unicode
from traitlets.config import Application

from factoryhub.heap import settle_heap
from factoryhub.orphan_guard import run_service
from factoryhub.request_logs import app_settings
from factoryhub.restclient import RestClient
from factoryhub.service_metrics import metrics_route
from factoryhub.servicedb import DB_URL_VARIABLE, Database
from factoryhub.webservice import TemplateLoader

from . import api, guests, metrics, pages
from .parts import Parts, ProfileInfo
from .plan import Limits

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_TERMS = ("This dashboard is shown for demonstration only. Do not enter personal or confidential data.\n\n"
                 "Your visit (a guest name, the time and your address) is logged.")


class DashboardsService(Application):
    """The dashboards hub service: publication, guest links, guest identities and their expiry."""
    name = "factoryhub-dashboards"
    description = __doc__.split("\n\n")[0]

    db_url = Unicode(os.environ.get(DB_URL_VARIABLE, "sqlite:///dashboards.sqlite"), config=True,
                     help="SQLAlchemy URL of the dashboards database, e.g. postgresql://dash@db/dashboards.")
    profiles = Unicode("[]", config=True, help='Profiles as JSON, for the cost figures: [{"id": "gpu-1", '
                       '"title": "1 GPU", "gpus": 1, "price": 1.0}].')
    default_profile = Unicode("", config=True, help="Profile of a dashboard whose owner chose none (the first when "
                              "empty).")
    link_default_seconds = Integer(7 * 86400, config=True, help="Lifetime of a guest link whose owner set none.")
    link_max_seconds = Integer(30 * 86400, config=True, help="Longest lifetime an owner may give a guest link.")
    guest_seconds = Integer(4 * 3600, config=True, help="Longest life of a guest identity (never past its link's).")
    terms = Unicode(DEFAULT_TERMS, config=True, help="The terms a guest accepts before seeing a dashboard (plain "
                    "text, paragraphs separated by blank lines).")
    max_per_owner = Integer(3, config=True, help="Dashboards one user may publish at once.")
    expire_every = Float(5.0, config=True, help="Seconds between two looks for guests whose time is over.")
    site_name = Unicode("FactoryHub", config=True, help="The site's name, shown in the pages' navigation bar.")
    public_url = Unicode("", config=True, help="The hub's public address, e.g. https://hub.example.eu: guest links "
                         "start with it (empty: taken from each request).")

    aliases = {"profiles": "DashboardsService.profiles", "default-profile": "DashboardsService.default_profile",
               "link-default-seconds": "DashboardsService.link_default_seconds",
               "link-max-seconds": "DashboardsService.link_max_seconds",
               "guest-seconds": "DashboardsService.guest_seconds",
               "max-per-owner": "DashboardsService.max_per_owner", "terms": "DashboardsService.terms",
               "expire-every": "DashboardsService.expire_every", "site-name": "DashboardsService.site_name",
               "public-url": "DashboardsService.public_url"}

    def make_parts(self) -> Parts:
        profiles = {p["id"]: ProfileInfo(p["id"], p.get("title", p["id"]), int(p.get("gpus", 0)),
                                         float(p.get("price", 1.0))) for p in json.loads(self.profiles)}
        db = Database(self.db_url, MIGRATIONS)
        db.upgrade()
        api_url, token = os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"), \
            os.environ.get("JUPYTERHUB_API_TOKEN", "")
        return Parts(db=db, hub=RestClient(api_url, token), hub_root=RestClient(api_url.removesuffix("/api"), token),
                     profiles=profiles,
                     default_profile=self.default_profile or next(iter(profiles), ""),
                     limits=Limits(self.link_default_seconds, self.link_max_seconds, self.guest_seconds,
                                   self.max_per_owner), public_url=self.public_url)

    def make_app(self, parts: Parts, prefix: str) -> web.Application:
        handlers = [(rf"{prefix}oauth_callback", HubOAuthCallbackHandler), *api.routes(prefix, parts),
                    *pages.routes(prefix, parts, self.terms), metrics_route(prefix)]
        return web.Application(handlers, cookie_secret=os.urandom(32), xsrf_cookies=True, service_prefix=prefix,
                               site_name=self.site_name, template_loader=TemplateLoader(pages.TEMPLATES),
                               **app_settings())

    async def expire_loop(self, parts: Parts) -> None:
        """End every guest whose time is over; a hub that does not answer is tried again next time."""
        while True:
            try:
                await guests.expire(parts)
            except Exception:
                self.log.exception("Ending guests failed; trying again in %.0f s", self.expire_every)
            await asyncio.sleep(self.expire_every)

    async def serve(self) -> None:
        parts = self.make_parts()
        metrics.register(parts)
        settle_heap()
        url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10104"))
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/factoryhub-dashboards/")
        self.make_app(parts, prefix).listen(url.port, url.hostname)
        self.log.info("Dashboards service on %s (prefix %s); links last %d s by default, at most %d s",
                      url.geturl(), prefix, parts.limits.link_default_seconds, parts.limits.link_max_seconds)
        await self.expire_loop(parts)

    def start(self):
        run_service(self)


main = DashboardsService.launch_instance

if __name__ == "__main__":
    main()
