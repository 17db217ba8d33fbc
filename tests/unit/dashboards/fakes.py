"""A fake of the hub's API as the dashboards service uses it: users, their servers, failures on demand."""
from __future__ import annotations

import datetime as dt

from factoryhub.dashboards.parts import Parts, ProfileInfo
from factoryhub.dashboards.plan import Limits
from factoryhub.dashboards.service import MIGRATIONS
from factoryhub.restclient import RemoteError
from factoryhub.servicedb import Database

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


class FakeHub:
    """Users and servers in memory; ``refuse_spawn`` makes the next spawn a 400 with that message."""

    def __init__(self):
        self.users: dict[str, dict] = {"alice": {}, "bob": {}}
        self.calls: list[tuple] = []
        self.refuse_spawn = ""
        self.unreachable = False
        self.groups = {"eng"}
        self.shares: dict[tuple[str, str], set[tuple[str, str]]] = {}  # (owner, server) -> {("user", name)}

    async def call(self, method, path, body=None, timeout=None):
        self.calls.append((method, path, body))
        if self.unreachable:
            raise RemoteError(method, path, None, "connection refused")
        parts = path.strip("/").split("/")
        if parts[0] == "dashboard-shares":
            return self._share(body)
        if parts[0] == "shares":
            items = self.shares.get((parts[1], parts[2]), set())
            return {"items": [{kind: {"name": name}} for kind, name in sorted(items)]}
        user = parts[1]
        if user not in self.users:
            raise RemoteError(method, path, 404, f"no such user {user}")
        if len(parts) == 2 and method == "GET":
            return {"name": user, "servers": self.users[user]}
        if len(parts) == 2 and method == "DELETE":
            del self.users[user]
            return {}
        server = parts[3]
        if method == "POST":
            if self.refuse_spawn:
                raise RemoteError(method, path, 400, self.refuse_spawn)
            self.users[user][server] = {"ready": True, "started": NOW.isoformat(), "options": body["user_options"],
                                      "display_name": body["display_name"]}
        elif method == "DELETE":
            self.users[user].pop(server, None)
        return {}


    def _share(self, body):
        owner, server = body["owner"], body["server"]
        if server not in self.users.get(owner, {}):
            raise RemoteError("POST", "/dashboard-shares", 404, f"{owner} has no server {server}")
        kind, name = ("user", body["user"]) if body["user"] is not None else ("group", body["group"])
        if name not in (self.users if kind == "user" else self.groups):
            raise RemoteError("POST", "/dashboard-shares", 400, f"no {kind} {name} on this hub")
        found = self.shares.setdefault((owner, server), set())
        (found.add if body["grant"] else found.discard)((kind, name))
        return {}


class Clock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)


def make_parts(tmp_path, limits: Limits | None = None) -> tuple[Parts, FakeHub, Clock]:
    db = Database(f"sqlite:///{tmp_path}/dashboards.sqlite", MIGRATIONS)
    db.upgrade()
    hub, clock = FakeHub(), Clock()
    parts = Parts(db=db, hub=hub, hub_root=hub, profiles={"cpu-small": ProfileInfo("cpu-small", "CPU", 0, 1.0),
                                            "gpu-1": ProfileInfo("gpu-1", "1 GPU", 1, 2.0)},
                  default_profile="cpu-small", limits=limits or Limits(), clock=clock)
    return parts, hub, clock
