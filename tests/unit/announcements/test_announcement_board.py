"""The announcements board on a real (SQLite) database, and who reads what: the hub's groups and the
quota service's memberships asked through fakes, with their cache and their failures."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest

from factoryhub.announcements import board
from factoryhub.announcements.parts import Parts
from factoryhub.announcements.readers import Readers
from factoryhub.announcements.schemas import AnnouncementCreate
from factoryhub.announcements.service import MIGRATIONS
from factoryhub.restclient import RemoteError
from factoryhub.servicedb import Database

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


class FakeHub:
    """The hub's users and groups (GET /users/{name})."""
    def __init__(self, groups: dict[str, list[str]]):
        self.groups, self.calls, self.down = groups, [], False

    async def call(self, method, path, body=None, timeout=None):
        self.calls.append(path)
        if self.down:
            raise RemoteError(method, path, None, "connection refused")
        name = path.rsplit("/", 1)[1]
        if name not in self.groups:
            raise RemoteError(method, path, 404, "no such user")
        return {"name": name, "groups": self.groups[name]}


class FakeQuota:
    """The quota service's project listing (GET /projects?all=1&account=…)."""
    def __init__(self, members: dict[str, list[str]]):
        self.members, self.calls, self.down = members, [], False

    async def call(self, method, path, body=None, timeout=None):
        self.calls.append(path)
        if self.down:
            raise RemoteError(method, path, 503, "down")
        query = parse_qs(urlparse(path).query)
        assert query["all"] == ["1"]
        return {"projects": [{"account": a, "members": self.members[a]} for a in query["account"]
                             if a in self.members]}


class Clock:
    def __init__(self):
        self.seconds = 0.0

    def __call__(self):
        return self.seconds


@pytest.fixture
def world(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/announcements.sqlite", MIGRATIONS)
    db.upgrade()
    hub = FakeHub({"alice": ["gpu-users"], "bob": [], "carol": ["students"]})
    quota = FakeQuota({"proj-a": ["alice", "carol"], "proj-b": ["bob"]})
    clock = Clock()
    parts = Parts(db, Readers(hub, quota, ttl=30, clock=clock), clock=lambda: NOW)
    yield parts, hub, quota, clock
    db.dispose()


def post(parts, **fields):
    data = {"title": "T", "text": "words", "ends_at": NOW + HOUR, **fields}
    return board.post(parts.db, AnnouncementCreate.model_validate(data), "user:admin", NOW)


def titles(found) -> list[str]:
    return [a.title for a in found]


async def test_each_user_sees_what_is_meant_for_them(world):
    parts, *_ = world
    post(parts, title="all")
    post(parts, title="gpu", audience="group", group="gpu-users")
    post(parts, title="a", audience="project", project="proj-a")
    post(parts, title="b", audience="project", project="proj-b", level="warning")
    post(parts, title="later", starts_at=NOW + HOUR, ends_at=NOW + 2 * HOUR)
    assert titles(await parts.current_for("alice")) == ["a", "gpu", "all"]
    assert titles(await parts.current_for("bob")) == ["b", "all"]
    assert titles(await parts.current_for("carol")) == ["a", "all"]
    assert titles(await parts.current_for("stranger")) == ["all"]  # unknown to the hub: everyone's only


async def test_withdrawn_announcements_stop_at_once_and_stay_listed(world):
    parts, *_ = world
    made = post(parts, title="oops")
    assert titles(await parts.current_for("bob")) == ["oops"]
    board.withdraw(parts.db, made.id, "user:admin", NOW)
    assert titles(await parts.current_for("bob")) == []
    listed = board.model(board.find(parts.db, made.id), NOW)
    assert (listed["state"], listed["withdrawn_by"]) == ("withdrawn", "user:admin")
    with pytest.raises(board.Refused) as again:
        board.withdraw(parts.db, made.id, "user:admin", NOW)
    assert again.value.status == 409
    with pytest.raises(board.Refused) as missing:
        board.withdraw(parts.db, 999, "user:admin", NOW)
    assert missing.value.status == 404
    assert [a.title for a in board.listed(parts.db, NOW, "withdrawn")] == ["oops"]


def test_an_announcement_that_would_never_be_seen_is_refused(world):
    parts, *_ = world
    with pytest.raises(board.Refused) as past:
        post(parts, starts_at=NOW - 3 * HOUR, ends_at=NOW - HOUR)
    assert (past.value.status, past.value.field) == (400, "ends_at") and "past" in past.value.message


async def test_groups_and_members_are_asked_once_per_cache_period_and_only_for_named_projects(world):
    parts, hub, quota, clock = world
    post(parts, audience="project", project="proj-a")
    for _ in range(3):
        await parts.current_for("alice")
    assert len(hub.calls) == 1 and len(quota.calls) == 1
    assert parse_qs(urlparse(quota.calls[0]).query)["account"] == ["proj-a"]  # not every project of the ledger
    clock.seconds = 31
    await parts.current_for("alice")
    assert len(hub.calls) == 2 and len(quota.calls) == 2


async def test_nothing_current_asks_nobody(world):
    parts, hub, quota, _ = world
    assert await parts.current_for("alice") == []
    assert hub.calls == [] and quota.calls == []


async def test_a_source_that_does_not_answer_keeps_the_last_known_and_never_widens_the_audience(world):
    parts, hub, quota, clock = world
    post(parts, title="gpu", audience="group", group="gpu-users")
    post(parts, title="a", audience="project", project="proj-a")
    assert titles(await parts.current_for("alice")) == ["a", "gpu"]
    hub.down = quota.down = True
    clock.seconds = 100
    assert titles(await parts.current_for("alice")) == ["a", "gpu"]  # the last known answer
    assert titles(await parts.current_for("bob")) == []  # never asked before: no targeted announcement
