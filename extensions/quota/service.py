"""``python -m factoryhub.quota.service``: the quota service, started by the hub.

A small tornado application below the service prefix: the REST API (api.py), the pages
(pages.py), and two background loops — the accounting import every ``import_every``
seconds and, where the site lets the service own Slurm's limits, the drift repair after
each import. The hub passes its address, the prefix and a token through the usual
JUPYTERHUB_* variables.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web
from traitlets import Enum, Float, Int, Unicode
from traitlets.config import Application

from factoryhub.heap import settle_heap
from factoryhub.orphan_guard import run_service
from factoryhub.request_logs import app_settings
from factoryhub.restclient import RestClient
from factoryhub.service_metrics import metrics_route
from factoryhub.servicedb import DB_URL_VARIABLE
from factoryhub.spawners.slurm.client import SlurmClient, SlurmError
from factoryhub.webservice import TemplateLoader

from . import api, metrics, pages
from .db import Database
from .importer import SacctSource, UsageImporter
from .limits import SlurmLimits, desired_limit, drift
from .models import utcnow
from .reports import balances, projects_of


class QuotaService(Application):
    """The quota hub service: the allocation ledger, accounting imports, Slurm limit sync, REST API and pages."""
    name = "factoryhub-quota"
    description = __doc__.split("\n\n")[0]

    db_url = Unicode(os.environ.get(DB_URL_VARIABLE, "sqlite:///quota.sqlite"), config=True,
                     help="SQLAlchemy URL of the ledger, e.g. postgresql://quota@db/quota.")
    import_every = Float(300.0, config=True, help="Seconds between two accounting imports (0: never).")
    limits_owner = Enum(["service", "external"], "service", config=True,
                        help="service: allocations are applied to Slurm (sacctmgr GrpTRESMins) and drift is "
                        "repaired; external: another tool owns Slurm's limits, drift is only reported.")
    hold_grace_minutes = Int(30, config=True,
                             help="A hold outlives its session's walltime by this much before it expires.")
    slurm_conf = Unicode("", config=True, help="slurm.conf to use (Slurm's default when empty).")
    slurm_bin_dir = Unicode("", config=True, help="Directory of sacct/sacctmgr/sshare (PATH when empty).")
    site_name = Unicode("FactoryHub", config=True, help="The site's name, shown in the pages' navigation bar.")
    workshops_url = Unicode("", config=True, help="The workshops service's API the KPI report asks for workshops "
                            "and participants, e.g. http://127.0.0.1:10103/services/factoryhub-workshops/api/v1 "
                            "(empty: the hub runs none; the report says so).")
    catalogue_url = Unicode("", config=True, help="The catalogue service's API the KPI report asks for access "
                            "requests granted, e.g. http://127.0.0.1:10102/services/factoryhub-catalogue/api/v1 "
                            "(empty: the hub runs none; the report says so).")

    aliases = {"db-url": "QuotaService.db_url", "import-every": "QuotaService.import_every",
               "limits-owner": "QuotaService.limits_owner", "slurm-conf": "QuotaService.slurm_conf",
               "slurm-bin-dir": "QuotaService.slurm_bin_dir", "hold-grace-minutes": "QuotaService.hold_grace_minutes",
               "site-name": "QuotaService.site_name", "workshops-url": "QuotaService.workshops_url",
               "catalogue-url": "QuotaService.catalogue_url"}

    @property
    def client(self) -> SlurmClient:
        return SlurmClient(bin_dir=Path(self.slurm_bin_dir) if self.slurm_bin_dir else None,
                           slurm_conf=Path(self.slurm_conf) if self.slurm_conf else None)

    def kpi_sources(self) -> dict[str, RestClient | None]:
        """The services the KPI report asks, with the service's own token (None: not run by the hub)."""
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        return {name: RestClient(url, token) if url else None
                for name, url in (("workshops", self.workshops_url), ("catalogue", self.catalogue_url))}

    def make_app(self, db: Database, prefix: str) -> web.Application:
        handlers = [
            (rf"{prefix}oauth_callback", HubOAuthCallbackHandler),
            *api.routes(prefix, db, dt.timedelta(minutes=self.hold_grace_minutes)),
            *pages.routes(prefix, db),
            metrics_route(prefix),
        ]
        return web.Application(handlers, cookie_secret=os.urandom(32), xsrf_cookies=True,
                               on_allocation_change=self.allocation_changed, run_import=self.import_now,
                               service_prefix=prefix, site_name=self.site_name, kpi_sources=self.kpi_sources(),
                               template_loader=TemplateLoader(pages.TEMPLATES), **app_settings())

    # --- Slurm limits ------------------------------------------------------------------
    def allocation_changed(self, account: str) -> None:
        if self.limits_owner == "service":
            asyncio.ensure_future(self._apply_limits([account]))

    async def _apply_limits(self, accounts: list[str] | None = None, repair: bool = True) -> list:
        """Compare each project's Slurm budget with the ledger; set it where it drifted."""
        limits, now = SlurmLimits(self.client), utcnow()
        with self.db.read() as session:
            ledger = balances(session, projects_of(session, None, accounts or ()), now)
        # holds are the hub's own bookkeeping: Slurm's budget is allocated - used
        remaining = {b.account: max(0, b.allocated - b.used) for b, _burn in ledger.values()}
        found = []
        try:
            budgets = await limits.budgets(sorted(remaining))
            for account, seconds in remaining.items():
                budget = budgets.get(account)
                problem = drift(budget, seconds) if budget else None
                if problem is None:
                    continue
                found.append(problem)
                if repair and self.limits_owner == "service":
                    self.log.info("Setting Slurm GPU budget: %s", problem.describe())
                    await limits.set_limit(account, desired_limit(budget, seconds))
                else:
                    self.log.warning("Slurm limit drift (owned externally): %s", problem.describe())
        except SlurmError as err:
            self.log.warning("Could not compare Slurm limits: %s", err)
        return found

    async def import_now(self):
        """One accounting import, then the Slurm limits compared (and repaired if ours)."""
        async with self._import_lock:
            started = time.monotonic()
            report = await self.importer.run()
            metrics.import_done(time.monotonic() - started)
            return report, await self._apply_limits()

    async def _import_loop(self) -> None:
        while self.import_every > 0:
            try:
                await self.import_now()
            except SlurmError as err:
                self.log.warning("Accounting import skipped: %s", err)
            except Exception:  # keep serving; the next pass retries
                self.log.exception("Accounting import failed")
            await asyncio.sleep(self.import_every)

    async def serve(self) -> None:
        self.db = Database(self.db_url)
        self.db.upgrade()
        metrics.register(self.db)
        settle_heap()
        self.importer = UsageImporter(self.db, SacctSource(self.client))
        self._import_lock = asyncio.Lock()
        url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/factoryhub-quota/")
        self.make_app(self.db, prefix).listen(url.port, url.hostname)
        self.log.info("Quota service on %s (prefix %s, ledger %s)", url.geturl(), prefix,
                      self.db.engine.url.render_as_string(hide_password=True))
        await self._import_loop() if self.import_every > 0 else await asyncio.Event().wait()

    def start(self):
        run_service(self)


main = QuotaService.launch_instance

if __name__ == "__main__":
    main()
