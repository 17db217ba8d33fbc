"""The catalogue service: a hub-managed process serving the dataset and model catalogue.

Started by the hub (``python -m factoryhub.catalogue.service``) with its URL, prefix and API
token in JupyterHub's service environment. It reads the catalogue directory at start (and
refuses to start without one), reloads it when files change, keeps access requests in its
own database, and adds approved users to the entry's hub groups.
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web
from traitlets import Bool, Float, Integer, Unicode
from traitlets.config import Application

from factoryhub.heap import settle_heap
from factoryhub.orphan_guard import run_service
from factoryhub.request_logs import app_settings
from factoryhub.service_metrics import metrics_route
from factoryhub.servicedb import DB_URL_VARIABLE, Database
from factoryhub.webservice import TemplateLoader

from . import access_requests as requests_
from . import api, metrics, pages
from .catalogue import Catalogue, CatalogueLoader, CatalogueUnavailable
from .hub_groups import HubGroups, HubUnavailable
from .verification import Verifier

MIGRATIONS = Path(__file__).with_name("migrations")


class CatalogueService(Application):
    """The catalogue hub service: loads the entry files, serves search, DCAT export, access requests and pages."""
    name = "factoryhub-catalogue"
    description = __doc__.split("\n\n")[0]

    catalogue_dir = Unicode("", config=True, help="Folder of the catalogue's entry files (<id>.yaml, sub-folders "
                            "allowed), e.g. /srv/factoryhub/catalogue.")
    db_url = Unicode(os.environ.get(DB_URL_VARIABLE, "sqlite:///catalogue.sqlite"), config=True,
                     help="SQLAlchemy URL of the access-request database, e.g. postgresql://catalogue@db/catalogue.")
    reload_every = Float(5.0, config=True, help="Seconds between two looks for changed entry files (0: never).")
    group_cache_seconds = Float(30.0, config=True,
                                help="How long a user's hub groups are trusted before they are asked again.")
    public_export = Bool(False, config=True,
                         help="Publish the anonymous DCAT-AP export (open entries' locations only) for harvesters.")
    site_name = Unicode("FactoryHub", config=True, help="The site's name, shown in the pages' navigation bar.")
    title = Unicode("FactoryHub data and model catalogue", config=True, help="The catalogue's title (DCAT export).")
    catalogue_description = Unicode("Curated datasets and models on the AI Factory's filesystems.", config=True,
                                    help="The catalogue's description (DCAT export).")
    publisher_name = Unicode("FactoryHub", config=True, help="Who publishes the catalogue (DCAT export).")
    publisher_url = Unicode("", config=True, help="The publisher's web page (DCAT export).")
    public_url = Unicode("", config=True, help="The hub's public address, e.g. https://hub.example.eu: the DCAT "
                         "export's IRIs start with it and the service prefix (empty: taken from each request).")

    verify_every = Float(7 * 86400.0, config=True, help="Seconds between two verifications of an entry's data "
                         "against its curated checksums (0: only when a steward asks, or from the command line).")
    verify_workers = Integer(4, min=1, max=64, config=True,
                             help="Files of one directory hashed at the same time during a verification.")
    verify_journal_dir = Unicode("", config=True, help="Folder where an interrupted verification keeps what it "
                                 "hashed, to resume after a restart (empty: start again from the beginning).")

    aliases = {"catalogue-dir": "CatalogueService.catalogue_dir", "db-url": "CatalogueService.db_url",
               "reload-every": "CatalogueService.reload_every", "site-name": "CatalogueService.site_name",
               "publisher-name": "CatalogueService.publisher_name", "publisher-url": "CatalogueService.publisher_url",
               "public-url": "CatalogueService.public_url",
               "group-cache-seconds": "CatalogueService.group_cache_seconds",
               "verify-every": "CatalogueService.verify_every", "verify-workers": "CatalogueService.verify_workers",
               "verify-journal-dir": "CatalogueService.verify_journal_dir"}
    flags = {"public-export": ({"CatalogueService": {"public_export": True}}, "Publish the anonymous export.")}

    catalogue: Catalogue

    # --- the snapshot -----------------------------------------------------------------
    def reload(self) -> Catalogue:
        """A new snapshot if files changed; raises CatalogueUnavailable and keeps the old one otherwise.
        Runs in a worker thread (parsing thousands of files must not stall requests); requests
        keep reading the previous snapshot until the new one replaces it in one assignment."""
        with self._reloading:
            fresh = self.loader.load()
            if fresh.version != self.catalogue.version:
                self.log.info("Catalogue %s: %d entries, %d problems, %d stale", fresh.version, len(fresh.entries),
                              len(fresh.problems), len(fresh.stale))
                self.catalogue = fresh
            return self.catalogue

    async def reload_in_background(self) -> Catalogue:
        return await asyncio.get_running_loop().run_in_executor(None, self.reload)

    async def _reload_loop(self) -> None:
        while self.reload_every > 0:
            await asyncio.sleep(self.reload_every)
            try:
                await self.reload_in_background()
            except CatalogueUnavailable as err:
                self.log.error("Catalogue not reloaded, the previous one keeps serving: %s", err)
            except Exception:  # keep serving; the next look retries
                self.log.exception("Catalogue reload failed; the previous one keeps serving")

    # --- decisions --------------------------------------------------------------------
    async def decide(self, request_id: int, steward: str, approve: bool, note: str) -> dict:
        """Approve (groups granted at the hub first, then recorded) or reject one request.
        Decisions are serialised: no request is decided twice."""
        async with self._decisions:
            with self.db.read() as session:
                request = requests_.pending_request(session, request_id)
                username, groups, entry_id = request.username, list(request.groups), request.entry_id
            if approve:
                try:
                    for group in groups:
                        await self.hub_groups.add_member(group, username)
                except HubUnavailable as err:
                    with self.db.write() as session:
                        requests_.record(session, f"user:{steward}", "grant-failed",
                                         session.get(requests_.AccessRequest, request_id), error=str(err))
                    self.log.warning("Approval of request #%s (%s for %s) failed: %s", request_id, username,
                                     entry_id, err)
                    raise
            with self.db.write() as session:
                decided = requests_.as_dict(requests_.decide(session, request_id, steward, approve, note))
            self.log.info("Request #%s (%s for %s) %s by %s", request_id, username, entry_id, decided["state"],
                          steward)
            return decided

    # --- the web application ------------------------------------------------------------
    def make_app(self, prefix: str) -> web.Application:
        handlers = [(rf"{prefix}oauth_callback", HubOAuthCallbackHandler),
                    *api.routes(prefix, self), *pages.routes(prefix, self), metrics_route(prefix)]
        return web.Application(handlers, cookie_secret=os.urandom(32), xsrf_cookies=True, service_prefix=prefix,
                               site_name=self.site_name, template_loader=TemplateLoader(pages.TEMPLATES),
                               catalogue_title=self.title, catalogue_description=self.catalogue_description,
                               publisher_name=self.publisher_name, publisher_url=self.publisher_url,
                               public_export=self.public_export, public_url=self.public_url, **app_settings())

    def setup(self) -> None:
        if not self.catalogue_dir:
            raise CatalogueUnavailable("--catalogue-dir is required: the folder of the catalogue's entry files")
        self.loader = CatalogueLoader(Path(self.catalogue_dir))
        self._reloading = threading.Lock()
        self.catalogue = self.loader.load()
        self.db = Database(self.db_url, MIGRATIONS)
        self.db.upgrade()
        metrics.register(self.db)
        self.hub_groups = HubGroups(os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"),
                                    os.environ.get("JUPYTERHUB_API_TOKEN", ""), ttl=self.group_cache_seconds)
        self._decisions = asyncio.Lock()
        self.verifier = Verifier(self.db, lambda: self.catalogue.entries, every=self.verify_every,
                                 workers=self.verify_workers,
                                 journal_dir=Path(self.verify_journal_dir) if self.verify_journal_dir else None,
                                 on_result=metrics.count_verification)

    async def serve(self) -> None:
        self.setup()
        settle_heap()
        url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10102"))
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/factoryhub-catalogue/")
        self.make_app(prefix).listen(url.port, url.hostname)
        self.log.info("Catalogue service on %s (prefix %s): %d entries from %s, %d problems", url.geturl(), prefix,
                      len(self.catalogue.entries), self.catalogue_dir, len(self.catalogue.problems))
        verifying = asyncio.create_task(self.verifier.run())
        try:
            await self._reload_loop() if self.reload_every > 0 else await asyncio.Event().wait()
        finally:
            self.verifier.stop()
            verifying.cancel()

    def start(self):
        try:
            run_service(self)
        except CatalogueUnavailable as err:
            self.log.critical("%s", err)
            sys.exit(2)


main = CatalogueService.launch_instance

if __name__ == "__main__":
    main()
