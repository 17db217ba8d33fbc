"""What every FactoryHub service's web layer shares: JSON APIs and HTML pages behind the hub.

Authentication is JupyterHub's (tokens for programs, HubOAuth cookies for browsers);
authorization is by the scopes in the caller's identity. Every error below a service's API
prefix is JSON ``{"status", "field", "message", "request_id"}`` (401 without a valid identity, 405 with
``Allow``, 404 for paths no route serves: :func:`api_catch_all`); pages render in
JupyterHub's look and log in through the hub. Query parameters are read in one place
(:class:`JsonHandler`'s ``bounded``/``flag``/``choice``/``text``): each at most once, whole
numbers within documented bounds, enumerations checked. Services subclass these handlers;
they never import each other.
"""
from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from jupyterhub.services.auth import HubOAuthenticated
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from tornado import escape, template, web

from .request_logs import request_id

AUTH_REQUIRED = "authentication required (a JupyterHub token or the hub's login)"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")  # ASCII digits only; 19 keeps int() cheap and BIGINT-sized
SHARED_TEMPLATES = Path(__file__).with_name("service_templates")


class TemplateLoader(template.BaseLoader):
    """A service's own templates first, then the shared ones (service_base.html: the hub's look)."""

    def __init__(self, *directories: Path, **kwargs):
        super().__init__(**kwargs)
        self.directories = [*directories, SHARED_TEMPLATES]

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        return name

    def _create_template(self, name: str) -> template.Template:
        for directory in self.directories:
            path = directory / name
            if path.is_file() and path.resolve().is_relative_to(directory.resolve()):
                return template.Template(path.read_bytes(), name=name, loader=self)
        raise FileNotFoundError(f"template {name} not found in {', '.join(map(str, self.directories))}")


class ApiError(web.HTTPError):
    """An API refusal: the status, a message a client can act on, and the field it concerns."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(status, reason=None)
        self.message, self.field = message, field


def allowed_methods(handler: web.RequestHandler) -> list[str]:
    """The HTTP methods a handler class implements (its ``Allow`` header)."""
    return [m for m in METHODS if getattr(type(handler), m.lower()) is not getattr(web.RequestHandler, m.lower())]


class JsonErrors(web.RequestHandler):
    """Errors as JSON ``{"status", "message", "field", "request_id"}``; a 405 names the allowed methods."""

    service_label = "the service"  # says whose internal error it was

    def write_error(self, status_code, **kwargs):
        err = kwargs.get("exc_info", (None, None))[1]
        if isinstance(err, ApiError):
            message = err.message
        elif status_code >= 500:
            message = f"internal error in {self.service_label} (logged)"
        else:
            message = self._reason
        if status_code == 405:
            self.set_header("Allow", ", ".join(allowed_methods(self)))
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'token realm="JupyterHub"')
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": message, "field": getattr(err, "field", None),
                                "request_id": request_id(self.request)}))


class ApiNotFound(JsonErrors):
    """Below the API prefix, a path no route serves is a JSON 404 whatever the method."""

    SUPPORTED_METHODS = (*web.RequestHandler.SUPPORTED_METHODS, "TRACE", "CONNECT", "QUERY")

    def check_xsrf_cookie(self):  # it changes nothing and knows no one: nothing to forge
        return None

    def prepare(self):
        raise ApiError(404, "no such API path (see the service's openapi.yaml)")


def api_catch_all(prefix: str) -> tuple:
    """The route that must come after every API route of a service mounted at ``prefix``."""
    return (rf"{prefix}api(?:/.*)?", ApiNotFound)


def _integral(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A JSON Schema integer: 3 or 3.0 (JSON does not tell them apart), never "3" or 3.5.
WholeNumber = Annotated[int, BeforeValidator(_integral)]


def _at_most(limit: int):
    def check(value):
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value
    return check


def Text(max_length: int, **constraints):  # noqa: N802 - used as a type
    """A text of at most ``max_length`` characters as sent (an OpenAPI document's maxLength), even in a
    model that strips surrounding whitespace (pydantic checks lengths after stripping)."""
    return Annotated[str, BeforeValidator(_at_most(max_length)), Field(max_length=max_length, **constraints)]


def first_problem(err: ValidationError) -> tuple[str, str]:
    """(field, reason) of the first validation error, in words a client can act on."""
    problem = err.errors()[0]
    field = ".".join(str(p) for p in problem["loc"]) or "body"
    if problem["type"] == "extra_forbidden":
        return field, "unknown field"
    if problem["type"] == "missing":
        return field, "required"
    if problem["type"] == "string_pattern_mismatch":
        return field, "has characters or a length that are not allowed"
    return field, re.sub(r"^Value error, ", "", problem["msg"])


def read_body(raw: bytes, schema: type[BaseModel]):
    """A request body as ``schema``, read as strictly as the OpenAPI document types it (a number
    is no string, a date is ``YYYY-MM-DD``); an :class:`ApiError` 400 naming the first problem."""
    if not raw:
        raise ApiError(400, "a JSON body is required")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, f"the body is not JSON ({err.msg if hasattr(err, 'msg') else err})") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    try:
        return schema.model_validate_json(raw, strict=True)
    except ValidationError as err:
        field, reason = first_problem(err)
        raise ApiError(400, f"{field}: {reason}", field) from None


def authenticated(method):
    """web.authenticated, but answering an API's JSON 401 instead of redirecting to a login page."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not self.current_user:
            raise ApiError(401, AUTH_REQUIRED)
        return method(self, *args, **kwargs)
    return wrapper


class JsonHandler(HubOAuthenticated, JsonErrors):
    """JSON in, JSON out; every error a JSON body that names the problem."""

    def check_xsrf_cookie(self):
        # Forgery needs a login cookie: a token-authenticated call, or one with no credentials at
        # all (it answers 401), has nothing to check. A browser's call goes through HubOAuth's check.
        if self.request.headers.get("Authorization") or self.hub_auth.cookie_name not in self.request.cookies:
            return None
        return super().check_xsrf_cookie()

    # --- identity ------------------------------------------------------------------
    @property
    def scopes(self) -> set[str]:
        return set(self.current_user.get("scopes", ())) if self.current_user else set()

    @property
    def actor(self) -> str:
        user = self.current_user
        return f"{user.get('kind', 'user')}:{user['name']}"

    @property
    def username(self) -> str | None:
        """The hub user calling (None for a service token)."""
        user = self.current_user
        return user["name"] if user and user.get("kind", "user") == "user" else None

    # --- requests and answers ------------------------------------------------------
    def query(self, name: str) -> str | None:
        """The one value of query parameter ``name`` as sent (None when absent); a 400 if repeated."""
        values = self.get_arguments(name, strip=False)
        if len(values) > 1:
            raise ApiError(400, f"{name}: give it at most once", name)
        return values[0] if values else None

    def bounded(self, name: str, default: int | None, low: int, high: int) -> int | None:
        """A whole-number query parameter within [low, high] (``default`` when absent), or a 400 naming it."""
        text = self.query(name)
        if text is None:
            return default
        if not _WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
            raise ApiError(400, f"{name}: must be a whole number from {low} to {high}", name)
        return int(text)

    def choice(self, name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
        """A query parameter that must be one of ``allowed`` (None when absent), or a 400 naming it."""
        text = self.query(name)
        if text is not None and text not in allowed:
            raise ApiError(400, f"{name}: must be one of {', '.join(allowed)}", name)
        return text

    def flag(self, name: str) -> bool:
        """A yes-only switch: ``name=1`` or ``name=true``; absent is no; anything else a 400."""
        return self.choice(name, ("1", "true")) is not None

    def choices(self, name: str, allowed: tuple[str, ...] | None = None, at_most: int = 100) -> list[str]:
        """A repeatable query parameter: at most ``at_most`` values, each in ``allowed`` when given."""
        values = self.get_arguments(name, strip=False)
        if len(values) > at_most:
            raise ApiError(400, f"{name}: give at most {at_most} values", name)
        if allowed is not None and (wrong := [v for v in values if v not in allowed]):
            raise ApiError(400, f"{name}: {wrong[0]!r} is not one of {', '.join(allowed)}", name)
        return values

    def text(self, name: str, max_length: int) -> str:
        """A free-text query parameter of at most ``max_length`` characters ("" when absent)."""
        text = self.query(name) or ""
        if len(text) > max_length:
            raise ApiError(400, f"{name}: is {len(text)} characters long; at most {max_length} are allowed", name)
        return text

    def body(self, schema: type[BaseModel]):
        """The request body as ``schema`` (:func:`read_body`), or a 400 naming the first problem."""
        return read_body(self.request.body, schema)

    def answer(self, payload, status: int = 200, content_type: str = "application/json") -> None:
        self.set_status(status)
        self.set_header("Content-Type", content_type)
        self.finish(json.dumps(payload, default=str))

    def get_login_url(self):  # an API answers 401, it does not redirect to a login page
        raise ApiError(401, AUTH_REQUIRED)


class PageHandler(JsonHandler):
    """HubOAuth-authenticated HTML in the hub's look; the login redirect goes through the hub."""

    def get_login_url(self):
        return super(JsonHandler, self).get_login_url()

    def write_error(self, status_code, **kwargs):
        """A plain error page that names the request's id (for the user to quote to support)."""
        if status_code == 405:
            self.set_header("Allow", ", ".join(allowed_methods(self)))
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        title = escape.xhtml_escape(f"{status_code}: {self._reason}")
        rid = escape.xhtml_escape(request_id(self.request))
        self.finish(f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
                    f'<p class="request-id">Request id: <code>{rid}</code></p></body></html>')

    def page_values(self) -> dict:
        """Values every page of the service renders with (extend in subclasses)."""
        return {"prefix": self.settings["service_prefix"],
                "hub_prefix": os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/",
                "site_name": self.settings.get("site_name", "FactoryHub"), "user_name": self.current_user["name"],
                "url_escape": lambda text: quote(text, safe="")}

    def page(self, template: str, status: int = 200, message: str = "", message_kind: str = "info", **values):
        self.set_status(status)
        self.render(template, message=message, message_kind=message_kind, **{**self.page_values(), **values})


class HealthHandler(JsonErrors):
    """Liveness, without authentication."""

    def check_xsrf_cookie(self):  # it changes nothing and knows no one: nothing to forge
        return None

    def get(self):
        self.finish({"status": "ok"})
