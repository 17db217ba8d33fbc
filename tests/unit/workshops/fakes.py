"""Fakes of what the workshops service talks to: Slurm, the hub's API and the quota service's API.

Each records the calls it got, keeps the state a real one would (accounts, reservations,
groups, projects), and fails on demand (``fail_on``: an operation's name) the way the real
one does: SlurmError, RemoteError."""
from __future__ import annotations

import datetime as dt

from factoryhub.restclient import RemoteError
from factoryhub.servicedb import Database
from factoryhub.spawners.slurm.client import SlurmError
from factoryhub.spawners.slurm.cluster import Reservation
from factoryhub.workshops.parts import Parts, Pool, ProfileInfo
from factoryhub.workshops.service import MIGRATIONS

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


class FakeSlurm:
    """Accounts, associations and reservations in memory."""

    def __init__(self):
        self.accounts: dict[str, str] = {"trainers-proj": "root"}
        self.associations: set[tuple[str, str]] = set()
        self.made_reservations: dict[str, dict] = {}
        self.maintenance: list[Reservation] = []
        self.jobs: list[dict] = []
        self.fail_on: set[str] = set()
        self.calls: list[tuple] = []

    def _call(self, name, *args):
        self.calls.append((name, *args))
        if name in self.fail_on:
            raise SlurmError([name], 1, f"{name} refused by the fake")

    async def add_account(self, account, parent, description):
        self._call("add_account", account, parent)
        if parent not in self.accounts:
            raise SlurmError(["sacctmgr"], 1, f"parent account {parent} does not exist")
        self.accounts[account] = parent

    async def delete_account(self, account):
        self._call("delete_account", account)
        self.accounts.pop(account, None)
        self.associations = {a for a in self.associations if a[1] != account}

    async def add_user(self, username, account):
        self._call("add_user", username, account)
        self.associations.add((username, account))

    async def remove_user(self, username, account):
        self._call("remove_user", username, account)
        self.associations.discard((username, account))

    async def create_reservation(self, name, account, nodes, starts_at, ends_at):
        self._call("create_reservation", name, nodes)
        self.made_reservations[name] = {"account": account, "nodes": nodes, "starts_at": starts_at, "ends_at": ends_at}

    async def delete_reservation(self, name):
        self._call("delete_reservation", name)
        self.made_reservations.pop(name, None)

    async def reservations(self):
        self._call("reservations")
        return list(self.maintenance)

    async def jobs_of(self, account):
        self._call("jobs_of", account)
        return [j for j in self.jobs if j.get("account") == account]


class FakeRest:
    """A JSON API whose answers are functions of (method, path, body)."""

    def __init__(self, name):
        self.name, self.calls, self.fail_on = name, [], set()
        self.handlers = {}

    def on(self, method, path, answer):
        self.handlers[(method, path)] = answer

    async def call(self, method, path, body=None, timeout=None):
        self.calls.append((method, path, body))
        key = (method, path.split("?")[0])
        if key in self.fail_on or (method, "*") in self.fail_on:
            raise RemoteError(method, path, 500, f"{self.name} refused by the fake")
        answer = self.handlers.get(key)
        if answer is None:
            return {}
        return answer(body) if callable(answer) else answer

    async def text(self, path):
        self.calls.append(("GET", path, None))
        answer = self.handlers.get(("GET", path.split("?")[0]))
        return answer(None) if callable(answer) else (answer or "")


def make_parts(tmp_path, pool=("train01", "train02")) -> tuple[Parts, FakeSlurm, FakeRest, FakeRest]:
    """Parts over a fresh SQLite database with fakes; the clock is NOW (change parts.clock to move it)."""
    db = Database(f"sqlite:///{tmp_path}/workshops.sqlite", MIGRATIONS)
    db.upgrade()
    slurm, hub, quota = FakeSlurm(), FakeRest("hub"), FakeRest("quota")
    quota.on("GET", "/projects/trainers-proj", {"account": "trainers-proj", "members": ["tina"],
                                                "remaining_gpu_hours": 100.0})
    parts = Parts(db=db, slurm=slurm, hub=hub, quota=quota,
                  profiles={"gpu-1": ProfileInfo("gpu-1", "1 GPU", 1, 1.0)}, pool=Pool(pool), clock=lambda: NOW)
    return parts, slurm, hub, quota
