"""Reconciler: cancel Slurm jobs this hub submitted that no session owns.

A small hub-managed service (like jupyterhub-idle-culler). Every ``interval`` seconds
it takes one ``squeue --json``, keeps the jobs whose comment says this hub submitted
them, asks the hub which job ids its sessions own (spawner state, read with the
``admin:server_state`` scope) and cancels the rest — jobs left behind when a cancel
failed during a scheduler outage, or a hub died between sbatch and storing the id.
A grace period protects spawns in flight.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Float, Unicode
from traitlets.config import Application

from factoryhub.orphan_guard import run_service

from .client import SlurmClient, SlurmError
from .jobscript import COMMENT_PREFIX
from .queue import Job, QueueSnapshot


def orphans(snapshot: QueueSnapshot, hub_id: str, owned: set[str], now: float, grace: float) -> list[Job]:
    """Active jobs tagged for ``hub_id`` that no session owns and are older than ``grace``."""
    prefix = f"{COMMENT_PREFIX}:{hub_id}:"
    found = []
    for job in snapshot.with_comment_prefix(prefix):
        parts = job.comment.split(":")
        tagged_user = parts[2] if len(parts) >= 4 else None
        if tagged_user != job.user:
            continue  # not a comment this hub wrote for that user: leave it alone
        if job.active and job.job_id not in owned and now - job.submit_time > grace:
            found.append(job)
    return found


def owned_job_ids(users: Iterable[dict]) -> set[str]:
    """Job ids named in any server's state (running, pending or being resumed)."""
    owned = set()
    for user in users:
        for server in (user.get("servers") or {}).values():
            job_id = (server.get("state") or {}).get("job_id")
            if job_id:
                owned.add(str(job_id))
    return owned


class Reconciler(Application):
    """``python -m factoryhub.spawners.slurm.reconciler`` (started by the hub as a service)."""

    name = "factoryhub-reconciler"
    hub_id = Unicode("factoryhub", config=True, help="The hub's tag in job comments (site: slurm.hub_id).")
    interval = Float(60.0, config=True, help="Seconds between two passes.")
    grace = Float(120.0, config=True, help="Never cancel a job younger than this many seconds (spawns in flight).")
    slurm_conf = Unicode("", config=True, help="slurm.conf to use.")
    slurm_bin_dir = Unicode("", config=True, help="Directory of the Slurm commands.")
    api_url = Unicode(config=True, help="The hub API URL (default: $JUPYTERHUB_API_URL).")
    api_token = Unicode(config=True, help="This service's token (default: $JUPYTERHUB_API_TOKEN).")

    aliases = {"hub-id": "Reconciler.hub_id", "interval": "Reconciler.interval", "grace": "Reconciler.grace",
               "slurm-conf": "Reconciler.slurm_conf", "slurm-bin-dir": "Reconciler.slurm_bin_dir"}

    def _api_url_default(self):
        return os.environ.get("JUPYTERHUB_API_URL", "")

    def _api_token_default(self):
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    @property
    def client(self) -> SlurmClient:
        return SlurmClient(bin_dir=Path(self.slurm_bin_dir) if self.slurm_bin_dir else None,
                           slurm_conf=Path(self.slurm_conf) if self.slurm_conf else None)

    async def users(self) -> AsyncIterator[dict]:
        """Every user with their servers' state, page by page."""
        http = AsyncHTTPClient()
        offset = 0
        while True:
            request = HTTPRequest(
                f"{self.api_url.rstrip('/')}/users?offset={offset}&limit=200",
                headers={"Authorization": f"token {self.api_token}",
                         "Accept": "application/jupyterhub-pagination+json"})
            page = json.loads((await http.fetch(request)).body)
            items = page["items"] if isinstance(page, dict) else page
            for user in items:
                yield user
            next_page = page.get("_pagination", {}).get("next") if isinstance(page, dict) else None
            if not next_page:
                return
            offset = next_page["offset"]

    async def reconcile_once(self) -> list[Job]:
        client = self.client
        snapshot = QueueSnapshot.from_squeue(await client.queue(), time.monotonic())
        owned = owned_job_ids([user async for user in self.users()])
        stray = orphans(snapshot, self.hub_id, owned, time.time(), self.grace)
        for job in stray:
            self.log.warning("Cancelling orphan job %s of %s (%s, %s): no session owns it",
                             job.job_id, job.user, job.state, job.comment)
            try:
                await client.cancel_as_hub(job.job_id)
            except SlurmError as err:
                self.log.error("Could not cancel orphan job %s: %s", job.job_id, err)
        return stray

    async def serve(self) -> None:
        while True:
            try:
                await self.reconcile_once()
            except SlurmError as err:  # scheduler away: nothing is known, so nothing is cancelled
                self.log.warning("Reconciler pass skipped: %s", err)
            except (OSError, HTTPClientError) as err:
                self.log.warning("Reconciler pass skipped, hub API unavailable: %s", err)
            await asyncio.sleep(self.interval)

    def start(self):
        run_service(self)


main = Reconciler.launch_instance

if __name__ == "__main__":
    main()
