"""The workshops service in the hub: its process, scopes and roles, and the pool accounts' login page.

Scopes (custom, defined here): ``custom:workshops:train`` creates workshops and acts on one's
own workshops' participants; ``custom:workshops:admin`` acts on every workshop;
``custom:workshops:pool-login`` checks a pool account's login (the hub's own identity for its
login page). Trainers (``services.workshops.trainers`` and ``auth.trainer_groups``) get the
train scope and nothing over other users: the service itself decides which participants are a
trainer's (JupyterHub cannot create a role per workshop at run time). The service's own role
creates and deletes the workshops' groups and pool users, starts and stops their servers, and
administers the quota ledger's training projects.
"""
from __future__ import annotations

import json
import sys

from .quota_wiring import SERVICE as QUOTA_SERVICE
from .quota_wiring import service_url
from .servicedb import DB_URL_VARIABLE
from .site import LoadedSite

SERVICE = "factoryhub-workshops"
LOGIN_TOKEN_FILE = "workshop-login-token"
TRAINER_ROLE = "factoryhub-trainer"
LOGIN_IDENTITY = "factoryhub-workshop-login"
SCOPES = {
    "custom:workshops:train": {"description": "Create workshops; see and act on your own workshops' participants."},
    "custom:workshops:admin": {"description": "See and act on every workshop; free pool accounts.",
                               "subscopes": ["custom:workshops:train"]},
    "custom:workshops:pool-login": {"description": "Check a training pool account's login (the hub's login page)."},
}
SERVICE_SCOPES = ["admin:groups", "groups", "read:groups", "admin:users", "list:users", "read:users",
                  "read:servers", "servers", "custom:quota:admin", f"access:services!service={QUOTA_SERVICE}"]


def workshop_profiles(loaded: LoadedSite) -> list[dict]:
    """The profiles a workshop may use, as the service needs them (id, title, GPUs, price)."""
    site = loaded.site
    allowed = set(site.services.workshops.profiles) or {p.id for p in site.profiles}
    return [{"id": p.id, "title": p.title, "gpus": p.gpus, "price": p.price, "partition": p.partition}
            for p in site.profiles
            if p.id in allowed]


def configure_workshops(c, loaded: LoadedSite, quota_url: str | None, login_token: str) -> list[str]:
    """Configure the service (Slurm sessions with the quota service only); returns the scopes every user needs."""
    site, state = loaded.site, loaded.state_dir
    settings = site.services.workshops
    if not settings.enabled or site.sessions.backend != "slurm" or quota_url is None:
        return []
    command = [sys.executable, "-m", "factoryhub.workshops.service", f"--quota-url={quota_url}",
               f"--profiles={json.dumps(workshop_profiles(loaded))}",
               f"--pool-accounts={json.dumps(list(settings.pool_accounts))}",
               f"--home-policy={settings.pool_home_policy}", f"--archive-dir={settings.pool_archive_dir or ''}",
               f"--expire-every={settings.expire_every_seconds}",
               f"--slurm-conf={site.slurm.conf or ''}", f"--slurm-bin-dir={site.slurm.bin_dir or ''}",
               f"--site-name={site.name}", f"--public-url={site.hub.public_url or ''}"]
    c.JupyterHub.custom_scopes.update(SCOPES)
    url = service_url(settings.bind_url)
    # the hub's login page for pool accounts asks the service (workshop_login.py)
    c.WorkshopLoginConfig.service_api_url = f"{url}/services/{SERVICE}/api/v1"
    c.WorkshopLoginConfig.token = login_token
    c.JupyterHub.template_vars["factoryhub_workshop_login"] = bool(settings.pool_accounts)
    c.JupyterHub.services.append({
        "name": SERVICE, "url": url, "command": command, "display": True,
        "environment": {DB_URL_VARIABLE: site.databases.workshops.format(state_dir=state)},
        "oauth_no_confirm": True, "oauth_client_allowed_scopes": ["custom:workshops:train", "custom:workshops:admin"]})
    c.JupyterHub.services.append({"name": LOGIN_IDENTITY, "api_token": login_token})
    access = f"access:services!service={SERVICE}"
    trainer_groups = list(getattr(site.auth, "trainer_groups", []))
    c.JupyterHub.load_roles.extend([
        {"name": "workshops-admin", "description": "Manage every workshop",
         "scopes": ["custom:workshops:admin", access], "users": sorted(c.Authenticator.admin_users),
         "groups": site.admin_groups},
        {"name": TRAINER_ROLE, "description": "Workshop trainers: create workshops, act on their own participants",
         "scopes": ["custom:workshops:train", access], "users": sorted(settings.trainers), "groups": trainer_groups},
        {"name": SERVICE, "description": "The workshops service: groups, pool users, their servers, training projects",
         "scopes": SERVICE_SCOPES, "services": [SERVICE]},
        {"name": LOGIN_IDENTITY, "description": "The hub's workshop login page: check pool logins",
         "scopes": ["custom:workshops:pool-login", access], "services": [LOGIN_IDENTITY]},
    ])
    return [access, f"read:services!service={SERVICE}"]

