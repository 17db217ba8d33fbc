"""Who a user is, as announcements need it: their hub groups (from the hub) and, of the projects
some announcement targets, those they are a member of (from the quota service).

Each fact has one home — groups the hub, memberships the quota ledger — and is asked there
with the service's own token, then kept for ``ttl`` seconds (a home page shown to a hundred
users must not ask the hub a hundred times). When a source does not answer, the last answer
known is used, or none: a user then misses targeted announcements for a while, never sees
someone else's.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlencode

from factoryhub.restclient import RemoteError, RestClient, segment

from .audience import Reader

log = logging.getLogger(__name__)
ACCOUNTS_PER_CALL = 100  # the quota API's limit of account= values


class Readers:
    """Builds a :class:`Reader` from the hub and the quota service, with a short cache."""

    def __init__(self, hub: RestClient, quota: RestClient | None, ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.hub, self.quota, self.ttl, self.clock = hub, quota, ttl, clock
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def reader(self, name: str, projects: set[str]) -> Reader:
        """``name`` with their groups, and which of ``projects`` they are a member of."""
        members = await self.members_of(projects)
        return Reader(name, await self.groups_of(name),
                      frozenset(p for p in projects if name in members.get(p, frozenset())))

    def _fresh(self, cache: dict, key: str) -> frozenset[str] | None:
        hit = cache.get(key)
        return hit[1] if hit and self.clock() - hit[0] < self.ttl else None

    async def groups_of(self, name: str) -> frozenset[str]:
        """The user's hub groups (none for a user the hub does not know)."""
        if (known := self._fresh(self._groups, name)) is not None:
            return known
        try:
            model = await self.hub.call("GET", f"/users/{segment(name)}")
            groups = frozenset(model.get("groups") or ())
        except RemoteError as err:
            if err.status != 404:
                log.warning("Groups of %s unknown (the hub: %s); using the last known", name, err)
                return self._groups.get(name, (0.0, frozenset()))[1]
            groups = frozenset()
        self._groups[name] = (self.clock(), groups)
        return groups

    async def members_of(self, projects: set[str]) -> dict[str, frozenset[str]]:
        """The members of each of ``projects`` (an unknown project has none)."""
        found = {p: m for p in projects if (m := self._fresh(self._members, p)) is not None}
        missing = sorted(projects - found.keys())
        if not missing:
            return found
        if self.quota is None:
            return {**found, **{p: frozenset() for p in missing}}
        for start in range(0, len(missing), ACCOUNTS_PER_CALL):
            chunk = missing[start:start + ACCOUNTS_PER_CALL]
            query = urlencode([("all", "1"), ("limit", "500"), *(("account", a) for a in chunk)])
            try:
                answer = await self.quota.call("GET", f"/projects?{query}")
            except RemoteError as err:
                log.warning("Members of projects %s unknown (the quota service: %s); using the last known",
                            ", ".join(chunk), err)
                found.update({p: self._members.get(p, (0.0, frozenset()))[1] for p in chunk})
                continue
            listed = {p["account"]: frozenset(p.get("members") or ()) for p in answer.get("projects", [])}
            for account in chunk:
                members = listed.get(account, frozenset())
                self._members[account] = (self.clock(), members)
                found[account] = members
        return found
