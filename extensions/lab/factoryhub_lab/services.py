"""The site's services as seen from a session: the quota, catalogue, workshops and announcements REST APIs, called
with the server's own token (which carries only access to them).

Where a service answers is asked of the hub (``GET /hub/api/services/<name>``: its URL and
prefix), and asked again when it stops answering there (a restarted hub may have moved it); a
service the hub does not have is not asked about again for ``absent_ttl`` (the messages poll would
otherwise ask, and the hub log a 404, every 30 s per session at a site without workshops);
``FACTORYHUB_SERVICES_URL`` (the proxy's ``…/services/``, set when the site names its public
address) overrides the lookup.

Answers are cached briefly (panels poll; a hundred sessions must not poll the services a
hundred times a second); a service that does not answer is reported as unavailable, never
as an empty balance.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

log = logging.getLogger(__name__)

QUOTA, CATALOGUE, WORKSHOPS = "factoryhub-quota", "factoryhub-catalogue", "factoryhub-workshops"
ANNOUNCEMENTS = "factoryhub-announcements"


@dataclass(frozen=True)
class Answer:
    """A service's reply as the frontend gets it: the HTTP status and the JSON body."""
    status: int
    body: dict

    @property
    def available(self) -> bool:
        return self.status < 500


class ServiceClient:
    """Calls the hub's services over REST with the server's own token, caching answers for a short time."""
    def __init__(self, token: str, services_url: str = "", hub_api_url: str = "", ttl: float = 15.0,
                 timeout: float = 10.0, clock=time.monotonic, absent_ttl: float = 300.0):
        self.token, self.hub_api_url = token, hub_api_url.rstrip("/")
        self.services_url = services_url.rstrip("/") + "/" if services_url else ""
        self.ttl, self.timeout, self.clock, self.absent_ttl = ttl, timeout, clock, absent_ttl
        self._cache: dict[str, tuple[float, Answer]] = {}
        self._bases: dict[str, str] = {}
        self._absent: dict[str, float] = {}  # service -> when the hub said it has no such service

    async def base(self, service: str) -> str:
        """``…/services/<name>/`` where ``service`` answers."""
        if self.services_url:
            return f"{self.services_url}{service}/"
        if service not in self._bases:
            since = self._absent.get(service)
            if since is not None and self.clock() - since < self.absent_ttl:
                raise LookupError(f"the hub has no service {service}")
            model = await self._fetch("hub", f"{self.hub_api_url}/services/{quote(service, safe='')}", "GET", None)
            if model.status == 404:
                self._absent[service] = self.clock()
            if model.status != 200 or not model.body.get("url"):
                raise LookupError(f"the hub does not say where {service} answers ({model.body.get('message')})")
            self._absent.pop(service, None)
            self._bases[service] = model.body["url"].rstrip("/") + model.body.get("prefix", f"/services/{service}/")
        return self._bases[service]

    async def url(self, service: str, path: str, query: dict | list | None = None) -> str:
        suffix = f"?{urlencode(query, doseq=True)}" if query else ""
        return f"{(await self.base(service)).rstrip('/')}/api/v1/{path}{suffix}"

    async def call(self, service: str, path: str, query=None, method: str = "GET", body: dict | None = None,
                   cached: bool = True, quiet: bool = False) -> Answer:
        """``method`` ``…/api/v1/<path>?<query>`` of ``service``: its answer, or 503 when it does not answer
        (logged as a warning, or at debug level when ``quiet``: a service the site may well not run)."""
        try:
            url = await self.url(service, path, query)
        except LookupError as err:
            return self._unavailable(service, str(err))
        hit = self._cache.get(url) if method == "GET" and cached else None
        if hit and self.clock() - hit[0] < self.ttl:
            return hit[1]
        answer = await self._fetch(service, url, method, body, quiet)
        if answer.status == 503 and self._bases.pop(service, None):  # moved? ask the hub once more
            try:
                url = await self.url(service, path, query)
            except LookupError as err:
                return self._unavailable(service, str(err))
            answer = await self._fetch(service, url, method, body, quiet)
        if method == "GET" and answer.status == 200:
            self._cache[url] = (self.clock(), answer)
        if method != "GET":  # what was read about this service may have changed
            self._cache = {k: v for k, v in self._cache.items() if f"/{service}/" not in k}
        return answer

    async def _fetch(self, service: str, url: str, method: str, body: dict | None, quiet: bool = False) -> Answer:
        request = HTTPRequest(url, method=method, request_timeout=self.timeout,
                              headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
                              body=json.dumps(body) if body is not None else None)
        try:
            response = await AsyncHTTPClient().fetch(request)
            return Answer(response.code, json.loads(response.body or b"{}"))
        except HTTPClientError as err:
            if err.response is not None and err.code < 500:
                try:
                    return Answer(err.code, json.loads(err.response.body or b"{}"))
                except ValueError:
                    pass
            reason = f"answered {err.code}" if err.code != 599 else str(err.message)
        except (OSError, ValueError) as err:
            reason = str(err)
        log.log(logging.DEBUG if quiet else logging.WARNING, "%s unavailable (%s): %s", service, url, reason)
        return self._unavailable(service, reason)

    @staticmethod
    def _unavailable(service: str, reason: str) -> Answer:
        return Answer(503, {"status": 503, "available": False,
                            "message": f"The {service.removeprefix('factoryhub-')} service is not reachable "
                                       f"right now ({reason}). Try again in a minute."})

    @staticmethod
    def path(*parts: str) -> str:
        return "/".join(quote(part, safe="") for part in parts)
