"""What every FactoryHub service's web layer shares: JSON APIs and HTML pages behind the hub.

Authentication is JupyterHub's (tokens for programs, HubOAuth cookies for browsers);
authorization is by the scopes in the caller's identity. API errors are JSON
``{"status", "field", "message"}``; pages render in JupyterHub's look and log in through the hub.
Services subclass these handlers; they never import each other.
"""
from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

from pathlib import Path

from jupyterhub.services.auth import HubOAuthenticated
from pydantic import BaseModel, ValidationError
from tornado import template, web

AUTH_REQUIRED = "authentication required (a JupyterHub token or the hub's login)"
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
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(status, reason=None)
        self.message, self.field = message, field


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


def authenticated(method):
    """web.authenticated, but answering an API's JSON 403 instead of redirecting to a login page."""
    def wrapper(self, *args, **kwargs):
        if not self.current_user:
            raise ApiError(403, AUTH_REQUIRED)
        return method(self, *args, **kwargs)
    return wrapper


class JsonHandler(HubOAuthenticated, web.RequestHandler):
    """JSON in, JSON out; every error a JSON body that names the problem."""

    service_label = "the service"  # says whose internal error it was

    def check_xsrf_cookie(self):
        # token-authenticated API calls carry no cookie; browser calls go through HubOAuth's check
        if self.request.headers.get("Authorization"):
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
    def bounded(self, name: str, default: int, low: int, high: int) -> int:
        """A whole-number query parameter within [low, high], or a 400 naming it."""
        text = self.get_argument(name, str(default))
        if not text.isdigit() or not low <= int(text) <= high:
            raise ApiError(400, f"{name}: must be a whole number from {low} to {high}", name)
        return int(text)

    def body(self, schema: type[BaseModel]):
        try:
            data = json.loads(self.request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ApiError(400, f"the body is not JSON ({err.msg if hasattr(err, 'msg') else err})") from None
        if not isinstance(data, dict):
            raise ApiError(400, "the body must be a JSON object")
        try:
            return schema.model_validate(data)
        except ValidationError as err:
            field, reason = first_problem(err)
            raise ApiError(400, f"{field}: {reason}", field) from None

    def answer(self, payload, status: int = 200, content_type: str = "application/json") -> None:
        self.set_status(status)
        self.set_header("Content-Type", content_type)
        self.finish(json.dumps(payload, default=str))

    def write_error(self, status_code, **kwargs):
        err = kwargs.get("exc_info", (None, None))[1]
        if isinstance(err, ApiError):
            message = err.message
        elif status_code >= 500:
            message = f"internal error in {self.service_label} (logged)"
        else:
            message = self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": message, "field": getattr(err, "field", None)}))

    def get_login_url(self):  # an API answers 403, it does not redirect to a login page
        raise ApiError(403, AUTH_REQUIRED)


class PageHandler(JsonHandler):
    """HubOAuth-authenticated HTML in the hub's look; the login redirect goes through the hub."""

    def get_login_url(self):
        return super(JsonHandler, self).get_login_url()

    def write_error(self, status_code, **kwargs):
        web.RequestHandler.write_error(self, status_code, **kwargs)

    def page_values(self) -> dict:
        """Values every page of the service renders with (extend in subclasses)."""
        return {"prefix": self.settings["service_prefix"],
                "hub_prefix": os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/",
                "site_name": self.settings.get("site_name", "FactoryHub"), "user_name": self.current_user["name"],
                "url_escape": lambda text: quote(text, safe="")}

    def page(self, template: str, status: int = 200, message: str = "", message_kind: str = "info", **values):
        self.set_status(status)
        self.render(template, message=message, message_kind=message_kind, **{**self.page_values(), **values})


class HealthHandler(web.RequestHandler):
    def get(self):
        self.finish({"status": "ok"})
