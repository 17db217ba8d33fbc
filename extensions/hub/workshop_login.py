"""The hub's login page for training pool accounts (``/hub/workshop-login``).

A participant without an account of their own gets a pool account and a password when they
join a workshop; the workshops service keeps the password's hash and the lease, so this page
asks it (``POST pool-logins`` with the hub's own identity) and logs the account in when the
lease is valid. The lease ends with the workshop, and the workshop's end deletes the hub user,
so a login does not outlive it. Mixed into both authenticators (local accounts and OIDC).
"""
from __future__ import annotations

from jupyterhub.handlers.base import BaseHandler
from jupyterhub.utils import url_path_join
from tornado import web
from traitlets import Unicode
from traitlets.config import Configurable

from .restclient import RemoteError, RestClient

PATH = "/workshop-login"


class WorkshopLoginConfig(Configurable):
    """Where the workshops service checks pool logins, and the hub's token for it."""
    service_api_url = Unicode("", config=True, help="The workshops service's API, e.g. "
                              "http://127.0.0.1:10103/services/factoryhub-workshops/api/v1 (empty: no pool logins).")
    token = Unicode("", config=True, help="The token of the hub's factoryhub-workshop-login identity.")


class PoolLoginHandler(BaseHandler):
    """GET: the form; POST: check the pool account's password with the workshops service and log in."""

    def _render(self, status: int = 200, message: str = "", username: str = ""):
        self.set_status(status)
        return self.render_template("workshop-login.html", message=message, username=username,
                                    action=url_path_join(self.hub.base_url, PATH.lstrip("/")))

    async def get(self):
        self.finish(await self._render(username=self.get_argument("username", "")[:32]))

    async def post(self):
        username = self.get_body_argument("username", "").strip()[:32]
        password = self.get_body_argument("password", "")[:200]
        config = WorkshopLoginConfig(parent=self.authenticator)
        if not config.service_api_url:
            raise web.HTTPError(404, "This hub lends no training accounts.")
        policy = getattr(self.authenticator, "account_policy", None)
        if policy is not None and policy.refusal(username):
            self.log.warning("Refused pool login of %s: a system account", username)
            return self.finish(await self._render(403, "Unknown training account or wrong password.", username))
        try:
            await RestClient(config.service_api_url, config.token).call(
                "POST", "/pool-logins", {"username": username, "password": password})
        except RemoteError as err:
            if err.status in (400, 403):
                self.log.warning("Failed pool login for %r", username)
                return self.finish(await self._render(
                    403, "Unknown training account or wrong password, or the workshop has ended.", username))
            self.log.error("Pool login of %s could not be checked: %s", username, err)
            return self.finish(await self._render(503, "The workshops service did not answer; try again shortly.",
                                                  username))
        user = await self.auth_to_user({"name": username})
        self.set_login_cookie(user)
        self.log.info("Pool account %s logged in for its workshop", username)
        self.redirect(url_path_join(self.hub.base_url, "home"))


class WorkshopLoginMixin:
    """Adds the pool accounts' login page to an authenticator's handlers."""

    def get_handlers(self, app):
        """The authenticator's own handlers, and the pool login page where the workshops service runs."""
        mine = [(PATH, PoolLoginHandler)] if WorkshopLoginConfig(parent=self).service_api_url else []
        return [*super().get_handlers(app), *mine]
