"""Group membership through the hub's REST API, with the service's own token.

The hub is the authority on groups (an identity provider may sync them at login, issue 8),
so the catalogue asks it rather than keeping its own copy; answers are cached briefly per
user, and forgotten when this service changes that user's groups.
"""
from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

log = logging.getLogger(__name__)


class HubUnavailable(RuntimeError):
    """The hub did not answer as expected (the message says what to check)."""


class HubGroups:
    """The hub's groups through its REST API: cached look-ups of a user's groups and adding approved users."""
    def __init__(self, api_url: str, token: str, ttl: float = 30.0, clock=time.monotonic):
        self.api_url, self.token, self.ttl, self.clock = api_url.rstrip("/"), token, ttl, clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = HTTPRequest(f"{self.api_url}{path}", method=method, headers={"Authorization": f"token {self.token}"},
                              body=json.dumps(body) if body is not None else None, request_timeout=10)
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as err:
            text = err.response.body.decode(errors="replace")[:300] if err.response else ""
            raise HubUnavailable(f"hub API {method} {path} answered {err.code}: {text}") from None
        except OSError as err:
            raise HubUnavailable(f"hub API {method} {path} unreachable: {err}") from None
        return json.loads(response.body or b"{}")

    async def groups_of(self, username: str) -> frozenset[str]:
        cached = self._cache.get(username)
        if cached and self.clock() - cached[0] < self.ttl:
            return cached[1]
        model = await self._call("GET", f"/users/{quote(username, safe='')}")
        groups = frozenset(model.get("groups") or ())
        self._cache[username] = (self.clock(), groups)
        return groups

    async def add_member(self, group: str, username: str) -> None:
        """Add ``username`` to ``group`` (idempotent); creates nothing: a missing group is an error."""
        try:
            await self._call("POST", f"/groups/{quote(group, safe='')}/users", {"users": [username]})
        finally:
            self._cache.pop(username, None)
        log.info("Added %s to hub group %s", username, group)
