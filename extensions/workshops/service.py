"""``python -m factoryhub.workshops.service``: the workshops service, started by the hub.

Trainers create workshops (pages, REST API, ``factoryhub workshop`` CLI); participants join
with codes; at each workshop's end the service removes what it made (ending.py). It acts in
Slurm with the hub's operator rights, in the quota ledger and the hub with its own token.
"""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web
from traitlets import Enum, Float, Unicode
from traitlets.config import Application

from factoryhub.heap import settle_heap
from factoryhub.orphan_guard import run_service
from factoryhub.request_logs import app_settings
from factoryhub.restclient import RestClient
from factoryhub.service_metrics import metrics_route
from factoryhub.servicedb import DB_URL_VARIABLE, Database
from factoryhub.spawners.slurm.client import SlurmClient
from factoryhub.webservice import TemplateLoader

from . import api, ending, metrics, pages
from .parts import Parts, Pool, ProfileInfo
from .slurm_ops import TrainingSlurm

MIGRATIONS = Path(__file__).with_name("migrations")


class WorkshopsService(Application):
    """The workshops hub service: creation, joining, the trainer dashboard, broadcasts and expiry."""
    name = "factoryhub-workshops"
    description = __doc__.split("\n\n")[0]

    db_url = Unicode(os.environ.get(DB_URL_VARIABLE, "sqlite:///workshops.sqlite"), config=True,
                     help="SQLAlchemy URL of the workshops database, e.g. postgresql://workshops@db/workshops.")
    quota_url = Unicode("", config=True, help="The quota service's API, e.g. "
                        "http://127.0.0.1:10101/services/factoryhub-quota/api/v1 (required).")
    profiles = Unicode("[]", config=True, help='Workshop profiles as JSON: [{"id": "gpu-1", "title": "1 GPU", '
                       '"gpus": 1, "price": 1.0}].')
    pool_accounts = Unicode("[]", config=True, help="Pre-provisioned training Unix accounts lent to participants "
                            'without an account, as JSON: ["train01", "train02"].')
    home_policy = Enum(["keep", "clean", "archive"], "keep", config=True,
                       help="A pool account's home at its workshop's end: keep (an admin frees the account after "
                       "dealing with it), clean (emptied by a job as the account, then lent again) or archive "
                       "(packed into archive_dir first).")
    archive_dir = Unicode("", config=True, help="Where the archive policy packs pool homes, e.g. "
                          "/srv/factoryhub/workshop-archives (writable by the pool accounts, not listable by them).")
    expire_every = Float(30.0, config=True, help="Seconds between two looks for workshops whose end has come.")
    slurm_conf = Unicode("", config=True, help="slurm.conf to use (Slurm's default when empty).")
    slurm_bin_dir = Unicode("", config=True, help="Directory of sacctmgr/scontrol/squeue (PATH when empty).")
    site_name = Unicode("FactoryHub", config=True, help="The site's name, shown in the pages' navigation bar.")
    public_url = Unicode("", config=True, help="The hub's public address, e.g. https://hub.example.eu: join links "
                         "start with it (empty: taken from each request).")

    aliases = {"quota-url": "WorkshopsService.quota_url", "profiles": "WorkshopsService.profiles",
               "pool-accounts": "WorkshopsService.pool_accounts", "home-policy": "WorkshopsService.home_policy",
               "archive-dir": "WorkshopsService.archive_dir",
               "expire-every": "WorkshopsService.expire_every", "slurm-conf": "WorkshopsService.slurm_conf",
               "slurm-bin-dir": "WorkshopsService.slurm_bin_dir", "site-name": "WorkshopsService.site_name",
               "public-url": "WorkshopsService.public_url"}

    def make_parts(self) -> Parts:
        client = SlurmClient(bin_dir=Path(self.slurm_bin_dir) if self.slurm_bin_dir else None,
                             slurm_conf=Path(self.slurm_conf) if self.slurm_conf else None, timeout=30.0)
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        profiles = {p["id"]: ProfileInfo(p["id"], p.get("title", p["id"]), int(p.get("gpus", 0)),
                                         float(p.get("price", 1.0)), p.get("partition", "gpu"))
                    for p in json.loads(self.profiles)}
        db = Database(self.db_url, MIGRATIONS)
        db.upgrade()
        metrics.register(db)
        return Parts(db=db, slurm=TrainingSlurm(client),
                     hub=RestClient(os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"), token),
                     quota=RestClient(self.quota_url, token), profiles=profiles,
                     pool=Pool(tuple(json.loads(self.pool_accounts)), self.home_policy, self.archive_dir or None))

    def make_app(self, parts: Parts, prefix: str) -> web.Application:
        handlers = [(rf"{prefix}oauth_callback", HubOAuthCallbackHandler), *api.routes(prefix, parts),
                    *pages.routes(prefix, parts), metrics_route(prefix)]
        return web.Application(handlers, cookie_secret=os.urandom(32), xsrf_cookies=True, service_prefix=prefix,
                               site_name=self.site_name, template_loader=TemplateLoader(pages.TEMPLATES),
                               public_url=self.public_url, **app_settings())

    async def expire_loop(self, parts: Parts) -> None:
        """End every workshop whose end has come; one that fails part-way is retried next time."""
        while True:
            for workshop_id in ending.due_workshops(parts):
                try:
                    await ending.end(parts, workshop_id, "service:expiry")
                except ending.EndFailed:
                    pass  # logged by end(); the next pass continues
                except Exception:
                    self.log.exception("Ending workshop %s failed", workshop_id)
            await asyncio.sleep(self.expire_every)

    async def serve(self) -> None:
        parts = self.make_parts()
        settle_heap()
        url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10103"))
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/factoryhub-workshops/")
        self.make_app(parts, prefix).listen(url.port, url.hostname)
        self.log.info("Workshops service on %s (prefix %s): %d workshop profiles, %d pool accounts", url.geturl(),
                      prefix, len(parts.profiles), len(parts.pool.accounts))
        await self.expire_loop(parts)

    def start(self):
        run_service(self)


main = WorkshopsService.launch_instance

if __name__ == "__main__":
    main()
