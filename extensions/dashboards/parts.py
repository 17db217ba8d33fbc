"""The dashboards service's collaborators, and its calls to the hub (tests pass a fake hub)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from factoryhub.restclient import RemoteError, RestClient, segment
from factoryhub.servicedb import Database, utcnow

from .plan import Limits


@dataclass(frozen=True)
class ProfileInfo:
    """What the service knows of a site profile (for the owner's cost figure)."""
    id: str
    title: str
    gpus: int
    price: float


@dataclass
class Parts:
    """The database, the hub, the site's profiles and rules, and a clock."""
    db: Database
    hub: RestClient  # the hub's REST API, …/hub/api
    hub_root: RestClient  # the hub's own endpoints below …/hub (dashboard-shares)
    profiles: dict[str, ProfileInfo]
    default_profile: str
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], dt.datetime] = utcnow
    public_url: str = ""  # the hub's public address; guest links start with it ("" : the request's)

    # --- the hub ---------------------------------------------------------------------
    async def start_server(self, owner: str, server: str, options: dict, title: str) -> None:
        """Start a dash- server; a spawner refusal raises RemoteError 400 with the spawner's message."""
        try:
            await self.hub.call("POST", f"/users/{segment(owner)}/servers/{segment(server)}",
                                {"user_options": options, "display_name": title})
        except RemoteError as err:
            if err.status == 400 and "already" in err.message:  # running or starting: fine
                return
            raise

    async def stop_server(self, owner: str, server: str, remove: bool = False) -> None:
        """Stop (and with ``remove``, forget) a server; one already gone is fine."""
        try:
            await self.hub.call("DELETE", f"/users/{segment(owner)}/servers/{segment(server)}",
                                {"remove": True} if remove else None)
        except RemoteError as err:
            if err.status not in (400, 404):
                raise

    async def servers_of(self, owner: str) -> dict[str, dict]:
        """The owner's servers as the hub sees them ({} for an unknown user)."""
        try:
            model = await self.hub.call("GET", f"/users/{segment(owner)}")
        except RemoteError as err:
            if err.status == 404:
                return {}
            raise
        return model.get("servers") or {}

    async def delete_guest_user(self, name: str) -> None:
        """Delete a guest's hub user: its tokens, cookies' tokens and shares go with it."""
        try:
            await self.hub.call("DELETE", f"/users/{segment(name)}")
        except RemoteError as err:
            if err.status != 404:
                raise

    async def share(self, owner: str, server: str, *, user: str | None = None, group: str | None = None,
                    grant: bool = True) -> None:
        """Have the hub grant (or revoke) a share of a dash- server to a user or group by name."""
        await self.hub_root.call("POST", "/dashboard-shares", {"owner": owner, "server": server, "user": user,
                                                                "group": group, "grant": grant})

    async def shares_of(self, owner: str, server: str) -> list[dict]:
        """Who the server is shared with: [{"user": name} or {"group": name}] (guests included)."""
        try:
            found = await self.hub.call("GET", f"/shares/{segment(owner)}/{segment(server)}")
        except RemoteError as err:
            if err.status == 404:
                return []
            raise
        return [{"user": item["user"]["name"]} if item.get("user") else {"group": item["group"]["name"]}
                for item in found.get("items", []) if item.get("user") or item.get("group")]
