"""The announcements service in the hub: its process, scopes and roles, and the hub's feed for its pages.

Scopes (custom, defined here): ``custom:announcements:admin`` posts, lists and withdraws
announcements (the hub's admins and admin groups); ``custom:announcements:read-any`` reads the
announcements meant for any named user (the hub's own identity ``factoryhub-announcements-reader``,
for the feed its pages fetch: announcements_feed.py). Every user reaches the service (their
sessions' JupyterLab asks it with the server's token). The service's own role reads users'
groups from the hub and every project's members from the quota service — the two homes of
who belongs where.
"""
from __future__ import annotations

import sys

from .quota_wiring import SERVICE as QUOTA_SERVICE
from .quota_wiring import service_url
from .servicedb import DB_URL_VARIABLE
from .site import LoadedSite

SERVICE = "factoryhub-announcements"
READER_IDENTITY = "factoryhub-announcements-reader"
READER_TOKEN_FILE = "announcements-reader-token"
SCOPES = {
    "custom:announcements:admin": {"description": "Post, list and withdraw announcements."},
    "custom:announcements:read-any": {"description": "Read the announcements meant for any user (the hub's pages)."},
}
SERVICE_SCOPES = ["read:users:groups", "custom:quota:read", f"access:services!service={QUOTA_SERVICE}"]


def configure_announcements(c, loaded: LoadedSite, quota_url: str | None, reader_token: str) -> list[str]:
    """Configure the service and the hub's feed; returns the scopes every user needs."""
    site, state = loaded.site, loaded.state_dir
    settings = site.services.announcements
    if not settings.enabled:
        return []
    command = [sys.executable, "-m", "factoryhub.announcements.service", f"--quota-url={quota_url or ''}",
               f"--cache-seconds={settings.cache_seconds}", f"--site-name={site.name}"]
    c.JupyterHub.custom_scopes.update(SCOPES)
    url = service_url(settings.bind_url)
    c.AnnouncementsConfig.service_api_url = f"{url}/services/{SERVICE}/api/v1"
    c.AnnouncementsConfig.token = reader_token
    c.JupyterHub.template_vars["factoryhub_announcements"] = True
    c.JupyterHub.services.append({
        "name": SERVICE, "url": url, "command": command, "display": True,
        "environment": {DB_URL_VARIABLE: site.databases.announcements.format(state_dir=state)},
        "oauth_no_confirm": True, "oauth_client_allowed_scopes": ["custom:announcements:admin"]})
    c.JupyterHub.services.append({"name": READER_IDENTITY, "api_token": reader_token})
    access = f"access:services!service={SERVICE}"
    c.JupyterHub.load_roles.extend([
        {"name": "announcements-admin", "description": "Post and withdraw announcements",
         "scopes": ["custom:announcements:admin", access], "users": sorted(c.Authenticator.admin_users),
         "groups": site.admin_groups},
        {"name": SERVICE, "description": "The announcements service: users' groups, projects' members",
         "scopes": SERVICE_SCOPES if quota_url else ["read:users:groups"], "services": [SERVICE]},
        {"name": READER_IDENTITY, "description": "The hub's pages: the announcements meant for their user",
         "scopes": ["custom:announcements:read-any", access], "services": [READER_IDENTITY]},
    ])
    return [access, f"read:services!service={SERVICE}"]
