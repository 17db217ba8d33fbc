"""The spawner's side of the quota service's REST contract (extensions/quota/openapi.yaml).

Spawner code never imports the service: it asks over HTTP, with the hub-issued token of
the ``factoryhub-sessions`` identity (scopes ``custom:quota:holds`` and ``custom:quota:read``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest


class QuotaUnavailable(RuntimeError):
    """The quota service did not answer usefully; nothing was held."""


@dataclass(frozen=True)
class HoldAnswer:
    """The quota service's answer to a hold request: allowed or why not, and the hold's id."""
    allowed: bool
    message: str
    hold_id: int | None = None
    unregistered: bool = False  # the account is no project in the ledger


@dataclass(frozen=True)
class QuotaClient:
    """The spawner side's client of the quota service's REST API: hold a session's cost, link the job, close it."""
    url: str  # the service's API base, e.g. http://127.0.0.1:10101/services/factoryhub-quota/api/v1/
    token: str
    timeout: float = 10.0

    async def _call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = HTTPRequest(self.url.rstrip("/") + "/" + path, method=method,
                              body=json.dumps(body) if body is not None else None,
                              headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
                              request_timeout=self.timeout, connect_timeout=self.timeout)
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as err:
            raise QuotaUnavailable(f"quota service unreachable: {err}") from None
        if response.code >= 500 or response.code == 599:
            raise QuotaUnavailable(f"quota service answered {response.code}")
        try:
            return response.code, json.loads(response.body or b"{}")
        except json.JSONDecodeError:
            raise QuotaUnavailable(f"quota service answered {response.code} without JSON") from None

    async def hold(self, account: str, username: str, server_name: str, gpus: int, walltime_hours: float,
                   price: float, max_pending_hours: float = 0) -> HoldAnswer:
        code, body = await self._call("POST", "holds", {
            "account": account, "username": username, "server_name": server_name, "gpus": gpus,
            "walltime_hours": walltime_hours, "price": price, "max_pending_hours": max_pending_hours})
        if code == 404 and body.get("field") == "account":
            return HoldAnswer(False, body.get("message", ""), unregistered=True)
        if code not in (201, 403):
            raise QuotaUnavailable(f"quota service refused the hold request: {code} {body.get('message')}")
        return HoldAnswer(code == 201, body.get("message", ""), body.get("hold_id"))

    async def attach_job(self, hold_id: int, job_id: str) -> None:
        await self._call("POST", f"holds/{hold_id}/job", {"job_id": job_id})

    async def close(self, hold_id: int, ran: bool, charged_gpu_hours: float | None = None) -> None:
        """Close a hold; ``charged_gpu_hours`` (when the session ran) settles it at its real cost."""
        body: dict = {"ran": ran}
        if charged_gpu_hours is not None:
            body["charged_gpu_hours"] = charged_gpu_hours
        await self._call("POST", f"holds/{hold_id}/close", body)

    async def remaining(self, accounts: list[str]) -> dict[str, float]:
        """Remaining GPU-hours of these projects (for the spawn form); unregistered ones are absent."""
        if not accounts:
            return {}
        code, body = await self._call("GET", "projects?all=1&" + urlencode([("account", a) for a in accounts]))
        if code != 200:
            raise QuotaUnavailable(f"quota service answered {code} to the project list")
        return {p["account"]: p["remaining_gpu_hours"] for p in body.get("projects", [])}
