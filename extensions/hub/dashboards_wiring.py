"""The dashboards service in the hub: its process, scopes and roles, the guests' role and login page,
and the spawner's dashboard settings.

Scopes (custom, defined here): ``custom:dashboards:admin`` sees and acts on every dashboard,
link and guest; ``custom:dashboards:guest-login`` redeems a guest's one-time login ticket (the
hub's own identity, for /hub/dashboard-guest); ``custom:dashboards:share`` has the hub share a
``dash-`` server with a user or group by name (the service, for owners: dashboard_shares.py).
Every user may publish their own notebooks.
Guests hold the role ``factoryhub-dashboard-guest``, which grants only their own name and groups: what they reach is
one JupyterHub share of one ``dash-`` server, made when they log in (guest_login.py). The
service's own role starts and stops owners' ``dash-`` servers and deletes guest users (only
members of the guests' group).
"""
from __future__ import annotations

import json
import sys

from .guest_login import GUEST_GROUP, GUEST_ROLE
from .quota_wiring import service_url
from .servicedb import DB_URL_VARIABLE
from .site import LoadedSite

SERVICE = "factoryhub-dashboards"
LOGIN_IDENTITY = "factoryhub-dashboard-login"
LOGIN_TOKEN_FILE = "dashboard-login-token"
SCOPES = {
    "custom:dashboards:admin": {"description": "See and act on every dashboard, guest link and guest identity."},
    "custom:dashboards:guest-login": {"description": "Redeem a dashboard guest's login ticket (the hub's login page)."},
    "custom:dashboards:share": {"description": "Have the hub grant or revoke shares of dash- servers by name "
                                               "(the dashboards service, on an owner's request)."},
}
# a server's OAuth asks its visitor for these identify scopes; a guest holds nothing more
GUEST_SCOPES = ["read:users:name!user", "read:users:groups!user"]
SERVICE_SCOPES = ["servers", "read:servers", "read:users", "list:users", "read:shares",
                  f"delete:users!group={GUEST_GROUP}", "custom:dashboards:share"]


def dashboard_profiles(loaded: LoadedSite) -> list[dict]:
    """The site's profiles as the service needs them (id, title, GPUs, price: the owner's cost figure)."""
    return [{"id": p.id, "title": p.title, "gpus": p.gpus, "price": p.price} for p in loaded.site.profiles]


def configure_dashboards(c, loaded: LoadedSite, login_token: str, spawner: str) -> list[str]:
    """Configure the service and the spawner's dashboard servers; returns the scopes every user needs."""
    site, state = loaded.site, loaded.state_dir
    settings = site.services.dashboards
    if not settings.enabled:
        return []
    spawner_config = getattr(c, spawner)
    spawner_config.dashboard_max_viewers = settings.max_viewers_per_dashboard
    spawner_config.dashboard_idle_minutes = settings.idle_stop_minutes
    # dashboards are named servers (dash-<name>); other named sessions stay as the site decides
    c.JupyterHub.allow_named_servers = True
    c.JupyterHub.named_server_limit_per_user = site.sessions.named_servers_per_user + settings.max_per_owner
    spawner_config.named_sessions = site.sessions.named_servers_per_user > 0
    command = [sys.executable, "-m", "factoryhub.dashboards.service",
               f"--profiles={json.dumps(dashboard_profiles(loaded))}",
               f"--default-profile={settings.default_profile or site.sessions.default_profile or ''}",
               f"--link-default-seconds={round(settings.link_default_hours * 3600)}",
               f"--link-max-seconds={round(settings.link_max_hours * 3600)}",
               f"--guest-seconds={round(settings.guest_hours * 3600)}", f"--max-per-owner={settings.max_per_owner}",
               f"--expire-every={settings.expire_every_seconds}", f"--site-name={site.name}",
               f"--public-url={site.hub.public_url or ''}"]
    if settings.guest_terms.strip():
        command.append(f"--terms={settings.guest_terms}")
    c.JupyterHub.custom_scopes.update(SCOPES)
    url = service_url(settings.bind_url)
    c.GuestLoginConfig.service_api_url = f"{url}/services/{SERVICE}/api/v1"
    c.GuestLoginConfig.token = login_token
    c.JupyterHub.services.append({
        "name": SERVICE, "url": url, "command": command, "display": True,
        "environment": {DB_URL_VARIABLE: site.databases.dashboards.format(state_dir=state)},
        "oauth_no_confirm": True, "oauth_client_allowed_scopes": ["custom:dashboards:admin"]})
    c.JupyterHub.services.append({"name": LOGIN_IDENTITY, "api_token": login_token})
    access = f"access:services!service={SERVICE}"
    c.JupyterHub.load_roles.extend([
        {"name": "dashboards-admin", "description": "See and act on every dashboard and guest",
         "scopes": ["custom:dashboards:admin", access], "users": sorted(c.Authenticator.admin_users),
         "groups": site.admin_groups},
        {"name": SERVICE, "description": "The dashboards service: owners' dash- servers, guest users",
         "scopes": SERVICE_SCOPES, "services": [SERVICE]},
        {"name": LOGIN_IDENTITY, "description": "The hub's guest login page: redeem guests' tickets",
         "scopes": ["custom:dashboards:guest-login", access], "services": [LOGIN_IDENTITY]},
        # no users listed: the login page grants it, and a restart keeps those grants
        {"name": GUEST_ROLE, "description": "Dashboard guests: their own name and groups (what a server's login "
         "asks of everyone) and the share of their one dashboard, nothing else", "scopes": GUEST_SCOPES},
    ])
    return [access]
