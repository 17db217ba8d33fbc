"""Everything a workshop touches, gathered once: the database, Slurm, the hub and the quota service."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from factoryhub.restclient import RemoteError, RestClient, segment
from factoryhub.servicedb import Database, utcnow

from .slurm_ops import TrainingSlurm


@dataclass(frozen=True)
class ProfileInfo:
    """What the service knows of a site profile a workshop may use."""
    id: str
    title: str
    gpus: int
    price: float
    partition: str = "gpu"


@dataclass(frozen=True)
class Pool:
    """The site's pre-provisioned training Unix accounts and what happens to their homes."""
    accounts: tuple[str, ...] = ()
    home_policy: str = "keep"  # keep | clean | archive (pool_homes.py)
    archive_dir: str | None = None  # where ``archive`` packs homes


@dataclass
class Parts:
    """The workshops service's collaborators (tests pass fakes of the three remote ones)."""
    db: Database
    slurm: TrainingSlurm
    hub: RestClient
    quota: RestClient  # …/services/factoryhub-quota/api/v1
    profiles: dict[str, ProfileInfo]
    pool: Pool = field(default_factory=Pool)
    clock: Callable[[], dt.datetime] = utcnow

    # --- the hub ---------------------------------------------------------------------
    async def add_to_group(self, group: str, username: str) -> None:
        await self.hub.call("POST", f"/groups/{segment(group)}/users", {"users": [username]})

    async def remove_from_group(self, group: str, username: str) -> None:
        await self.hub.call("DELETE", f"/groups/{segment(group)}/users", {"users": [username]})

    async def stop_server(self, username: str) -> None:
        try:
            await self.hub.call("DELETE", f"/users/{segment(username)}/server")
        except RemoteError as err:
            if err.status not in (400, 404):  # 400: not running; 404: no such user
                raise
