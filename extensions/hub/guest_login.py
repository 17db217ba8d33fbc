"""The hub's login page for dashboard guests (``/hub/dashboard-guest?ticket=…``).

A guest who accepted a dashboard's terms arrives with a one-time ticket from the dashboards
service. This page redeems it (``POST guest-logins`` with the hub's own identity) and, in the
hub's own database: makes the guest user, gives it the guests' role in place of the default
``user`` role (so it can start no server and use no service), puts it in the guests' group
(the only users the dashboards service may delete), grants it a JupyterHub share of that one
``dash-`` server, and logs it in. The service deletes the user when its time is over; its
tokens and share go with it. Mixed into both authenticators, like the workshop login.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from jupyterhub import orm, roles
from jupyterhub.handlers.base import BaseHandler
from jupyterhub.utils import url_path_join
from tornado import web
from traitlets import Unicode
from traitlets.config import Configurable

from .dashboard_shares import PATH as SHARES_PATH
from .dashboard_shares import DashboardShareHandler
from .restclient import RemoteError, RestClient

PATH = "/dashboard-guest"
GUEST_ROLE = "factoryhub-dashboard-guest"
GUEST_GROUP = "factoryhub-dashboard-guests"


class GuestLoginConfig(Configurable):
    """Where the dashboards service redeems guests' tickets, and the hub's token for it."""
    service_api_url = Unicode("", config=True, help="The dashboards service's API, e.g. "
                              "http://127.0.0.1:10104/services/factoryhub-dashboards/api/v1 (empty: no guests).")
    token = Unicode("", config=True, help="The token of the hub's factoryhub-dashboard-login identity.")


class GuestLoginHandler(BaseHandler):
    """GET with a ticket: redeem it, make the guest and its share, log it in, go to the dashboard."""

    async def _refuse(self, status: int, message: str):
        self.set_status(status)
        self.finish(await self.render_template("error.html", status_code=status, status_message="Guest access",
                                               message=message, exception=None))

    async def get(self):
        config = GuestLoginConfig(parent=self.authenticator)
        if not config.service_api_url:
            raise web.HTTPError(404, "This hub shows no dashboards to guests.")
        ticket = self.get_argument("ticket", "")[:64]
        try:
            grant = await RestClient(config.service_api_url, config.token).call(
                "POST", "/guest-logins", {"ticket": ticket})
        except RemoteError as err:
            if err.status in (400, 403):
                self.log.warning("Refused a dashboard guest login: %s", err.message)
                return await self._refuse(403, "This guest login is no longer valid: open the dashboard's link again.")
            self.log.error("A dashboard guest login could not be checked: %s", err)
            return await self._refuse(503, "The dashboards service did not answer; try again shortly.")
        owner = self.find_user(grant["owner"])
        spawner = owner.orm_user.orm_spawners.get(grant["server"]) if owner is not None else None
        if spawner is None:
            return await self._refuse(404, "This dashboard is not running now; ask its owner to start it.")
        user = self.make_guest(grant["guest"], spawner, dt.datetime.fromisoformat(grant["expires_at"]))
        # The guest accepted the site's terms for this dashboard: no second "authorize access" page
        # for its server (JupyterHub asks that of anyone reaching a server that is not theirs).
        self.settings["oauth_no_confirm_list"].add(spawner.oauth_client_id)
        self.set_login_cookie(user)
        self.log.info("Dashboard guest %s logged in for %s/%s", user.name, owner.name, spawner.name)
        # straight to the dashboard's page: the server serves nothing else (factoryhub_lab.dashboard)
        self.redirect(url_path_join(self.base_url, "user", owner.name, spawner.name, "voila", "render",
                                    quote(grant["notebook"])))

    def make_guest(self, name: str, spawner: orm.Spawner, expires_at: dt.datetime):
        """The guest user with nothing but its share of ``spawner`` (in the hub's database)."""
        user = self.user_from_username(name)  # new: it gets the default role, taken away below
        group = orm.Group.find(self.db, GUEST_GROUP)
        if group is None:
            group = orm.Group(name=GUEST_GROUP)
            self.db.add(group)
        if group not in user.orm_user.groups:
            user.orm_user.groups.append(group)
        self.db.commit()  # in the group first: then the service may always delete it
        roles.grant_role(self.db, entity=user.orm_user, rolename=GUEST_ROLE)
        roles.strip_role(self.db, entity=user.orm_user, rolename="user")
        share = orm.Share.grant(self.db, spawner, user.orm_user)
        share.expires_at = expires_at.astimezone(dt.UTC).replace(tzinfo=None)  # the hub keeps naive UTC
        self.db.commit()
        return user


class GuestLoginMixin:
    """Adds the dashboard guests' login page, and the dashboards service's sharing endpoint
    (dashboard_shares.py), to an authenticator's handlers."""

    def get_handlers(self, app):
        """The authenticator's own handlers, and the dashboards' two where the dashboards service runs."""
        mine = [(PATH, GuestLoginHandler), (SHARES_PATH, DashboardShareHandler)] \
            if GuestLoginConfig(parent=self).service_api_url else []
        return [*super().get_handlers(app), *mine]
