"""Request ids and JSON log lines, for the hub and every FactoryHub service.

Each HTTP request gets an id: the proxy's or client's ``X-Request-Id`` when it is a sane token
(``[A-Za-z0-9._-]{1,64}``), else a fresh ``uuid4`` hex. It is sent back in the ``X-Request-Id``
header of every response, added to every JSON error body (``"request_id"``) and shown on error
pages, so a user can quote it to support; every log line written while the request is handled
carries it.

The mechanism is tornado's own: an :class:`RequestIdTransform` (an ``OutputTransform``, what tornado's
gzip encoding is) is made for each request before its handler, so it chooses the id, makes it the
current one (a context variable the handler's task inherits) and stamps the response. The hub gets
it through ``c.JupyterHub.tornado_settings`` (no JupyterHub code is patched); the services through
:func:`app_settings`. JupyterHub's API errors already are JSON objects: the transform adds the id to
an error response's JSON object body when its writer did not (the services' writers do).

``log_format: json`` (the site's ``hub.log_format``) writes one JSON object per line:
``time, level, logger, message`` and, where known, ``request_id, method, path, status,
duration_ms, user`` (the last five on access lines); a traceback goes in ``exception``.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import uuid
from typing import Any

from tornado import httputil, web
from tornado.log import access_log

HEADER = "X-Request-Id"
FORMATS = ("text", "json")
LOG_FORMAT_VARIABLE = "FACTORYHUB_LOG_FORMAT"  # how the hub tells the services it starts
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ATTRIBUTE = "factoryhub_request_id"
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("factoryhub_request_id", default=None)
_access: contextvars.ContextVar[dict | None] = contextvars.ContextVar("factoryhub_access", default=None)


def valid_request_id(value: str | None) -> bool:
    """True when ``value`` is a token we may echo and log: 1 to 64 of ``A-Z a-z 0-9 . _ -``."""
    return isinstance(value, str) and _SANE.fullmatch(value) is not None


def new_request_id() -> str:
    """A fresh request id (uuid4 hex: 32 characters)."""
    return uuid.uuid4().hex


def request_id(request: httputil.HTTPServerRequest) -> str:
    """The id of ``request``: chosen once, the incoming ``X-Request-Id`` if sane, else a new one."""
    chosen = getattr(request, _ATTRIBUTE, None)
    if chosen is None:
        incoming = request.headers.get(HEADER)
        chosen = incoming if valid_request_id(incoming) else new_request_id()
        setattr(request, _ATTRIBUTE, chosen)
    return chosen


def current_request_id() -> str | None:
    """The id of the request being handled (None outside one)."""
    return _current.get()


def template_request_id(user=None) -> str:
    """The current request's id for a hub template (JupyterHub calls a callable template variable with the user)."""
    return current_request_id() or ""


class RequestIdTransform(web.OutputTransform):
    """Per request: choose its id, make it current, send it in a header and in a JSON error body."""

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        super().__init__(request)
        self.request_id = request_id(request)
        # Made before the handler's task, which inherits it (tornado's execute() creates that task next).
        _current.set(self.request_id)

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        headers[HEADER] = self.request_id
        if status_code >= 400 and finishing and headers.get("Content-Type", "").startswith("application/json"):
            chunk = with_request_id(chunk, self.request_id)
            if "Content-Length" in headers:
                headers["Content-Length"] = str(len(chunk))
        return status_code, headers, chunk


def with_request_id(body: bytes, rid: str) -> bytes:
    """A JSON object body with ``request_id`` added (unchanged when it has one or is no JSON object)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    if not isinstance(data, dict) or "request_id" in data:
        return body
    return json.dumps({**data, "request_id": rid}).encode()


# --- access lines ---------------------------------------------------------------------
def _user_name(handler) -> str | None:
    """The caller's name if the handler already knows it (never asks the hub for it now)."""
    user = handler.__dict__.get("_jupyterhub_user", handler.__dict__.get("_current_user"))
    if isinstance(user, dict):
        return user.get("name")
    return getattr(user, "name", user if isinstance(user, str) else None) or None


# JupyterHub's deprecated token and cookie checks carry the secret in the path (jupyterhub.log scrubs them too)
_SECRET_IN_PATH = ("/api/authorizations/token/", "/api/authorizations/cookie/")


def logged_path(path: str) -> str:
    """``path`` as it may be logged: what follows a secret-carrying prefix replaced by ``[secret]``."""
    for prefix in _SECRET_IN_PATH:
        if prefix in path:
            return path[:path.index(prefix) + len(prefix)] + "[secret]"
    return path


def access_fields(handler: web.RequestHandler) -> dict:
    """The structured fields of ``handler``'s access line (the path without its query: no secrets)."""
    request = handler.request
    return {"request_id": request_id(request), "method": request.method, "path": logged_path(request.path),
            "status": handler.get_status(), "duration_ms": round(1000 * request.request_time(), 2),
            "user": _user_name(handler)}


def hub_log_request(handler: web.RequestHandler) -> None:
    """The hub's ``log_function``: JupyterHub's own access line (its levels, scrubbing and request
    metrics), with the request's fields attached for the JSON format."""
    from jupyterhub.log import log_request

    token = _access.set(access_fields(handler))
    try:
        log_request(handler)
    finally:
        _access.reset(token)


def log_request(handler: web.RequestHandler) -> None:
    """A service's ``log_function``: one access line per request, its fields attached."""
    fields = access_fields(handler)
    status = fields["status"]
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    token = _access.set(fields)
    try:
        access_log.log(level, "%d %s %s %.2fms (%s)", status, fields["method"], fields["path"],
                       fields["duration_ms"], fields["user"] or "-")
    finally:
        _access.reset(token)


def app_settings() -> dict:
    """A service's ``web.Application`` settings for request ids and access lines."""
    return {"transforms": [RequestIdTransform], "log_function": log_request}


# --- JSON lines ------------------------------------------------------------------------
class JsonFormatter(logging.Formatter):
    """One JSON object per record; takes (and ignores) a text format, as logging's dictConfig passes one."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "%", validate: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(datefmt=datefmt)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        fields = _access.get() or {}
        rid = fields.get("request_id") or _current.get()
        if rid:
            line["request_id"] = rid
        line.update({k: v for k, v in fields.items() if k != "request_id" and v is not None})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str)


def application_logging_config(log_format: str) -> dict:
    """A traitlets application's ``logging_config`` for ``log_format`` (the hub's, the idle culler's): in
    json, its console handler writes JSON, and Python loggers outside its own (the hub's compute layer)
    go there too, at WARNING as before (they had no handler and reached stderr through logging's last
    resort)."""
    if log_format != "json":
        return {}
    return {"formatters": {"console": {"class": f"{__name__}.JsonFormatter"}},
            "root": {"handlers": ["console"], "level": "WARNING"}}


def configure_service_logging(log_format: str, app_log: logging.Logger, text_format: str) -> None:
    """A service process's logging: one stderr handler at INFO, writing ``text_format`` lines or JSON
    lines, for every logger (tornado's, the modules' and the service application's own, whose lines
    traitlets would print in a format of its own and only from WARNING)."""
    if log_format not in FORMATS:
        raise ValueError(f"{LOG_FORMAT_VARIABLE}: {log_format!r} is not one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(text_format))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    app_log.handlers[:] = []
    app_log.propagate = True
