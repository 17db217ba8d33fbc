"""A small JSON REST client for the hub's API and the services' APIs, with a token.

Every failure is a :class:`RemoteError` naming the method, path, status and the other side's
message, so a caller can say what failed without a traceback."""
from __future__ import annotations

import json
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest


class RemoteError(RuntimeError):
    """A call that failed: ``status`` is the HTTP status (None: nothing answered)."""

    def __init__(self, method: str, path: str, status: int | None, message: str):
        self.method, self.path, self.status, self.message = method, path, status, message
        where = f"answered {status}" if status else "was unreachable"
        super().__init__(f"{method} {path} {where}: {message}")


def segment(value: str) -> str:
    """``value`` as one URL path segment."""
    return quote(value, safe="")


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")[:300]
    return str(data.get("message") or data)[:300] if isinstance(data, dict) else str(data)[:300]


class RestClient:
    """JSON calls below ``base_url`` with ``Authorization: token …``."""

    def __init__(self, base_url: str, token: str, timeout: float = 20.0):
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout

    async def call(self, method: str, path: str, body: dict | None = None, timeout: float | None = None) -> dict:
        """The decoded JSON answer ({} when empty); raises :class:`RemoteError`."""
        request = HTTPRequest(f"{self.base_url}{path}", method=method,
                              headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
                              body=json.dumps(body) if body is not None else (b"" if method in ("POST", "PUT", "PATCH")
                                                                              else None),
                              allow_nonstandard_methods=True, request_timeout=timeout or self.timeout)
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as err:
            text = _message(err.response.body) if err.response is not None and err.response.body else str(err)
            raise RemoteError(method, path, err.code if err.code != 599 else None, text) from None
        except OSError as err:
            raise RemoteError(method, path, None, str(err)) from None
        return json.loads(response.body) if response.body else {}

    async def text(self, path: str) -> str:
        """GET ``path`` as text (CSV reports)."""
        request = HTTPRequest(f"{self.base_url}{path}", headers={"Authorization": f"token {self.token}"},
                              request_timeout=self.timeout)
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as err:
            raise RemoteError("GET", path, err.code if err.code != 599 else None, str(err)) from None
        except OSError as err:
            raise RemoteError("GET", path, None, str(err)) from None
        return response.body.decode()
