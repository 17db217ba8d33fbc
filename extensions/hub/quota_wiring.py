"""The quota service in the hub: its process, scopes, roles and the spawner's identity.

Scopes (custom, defined here): ``custom:quota:read`` reads every project,
``custom:quota:admin`` changes projects and allocations (and reads), ``custom:quota:holds``
places and closes session holds, ``custom:kpi:read`` reads the KPI figures other services
count (the workshops' and the catalogue's ``reports/kpi``). Every user may reach the service (to
read their own projects); admins get quota-admin; the hub's spawner acts as the
``factoryhub-sessions`` service, whose token is generated once into the state directory. The
service's own role reads the KPI figures of the services the hub runs, nothing else.
"""
from __future__ import annotations

import secrets
import socket
import sys
from pathlib import Path

from .report_period import KPI_READ
from .servicedb import DB_URL_VARIABLE
from .site import LoadedSite

SERVICE = "factoryhub-quota"
SESSIONS_IDENTITY = "factoryhub-sessions"
TOKEN_FILE = "quota-sessions-token"
SCOPES = {
    "custom:quota:read": {"description": "Read every project's allocations, usage and balance."},
    "custom:quota:admin": {"description": "Create and change projects, members and allocations.",
                           "subscopes": ["custom:quota:read"]},
    "custom:quota:holds": {"description": "Hold and settle the budget of sessions (the hub's spawner)."},
    KPI_READ: {"description": "Read the KPI figures the workshops and catalogue services count (the quota "
                             "service's KPI report)."},
}


def service_url(bind_url: str) -> str:
    """``bind_url`` with port 0 replaced by a port that is free now."""
    host, _, port = bind_url.removeprefix("http://").rpartition(":")
    if port == "0":
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = str(probe.getsockname()[1])
    return f"http://{host}:{port}"


def sessions_token(state: Path, name: str = TOKEN_FILE) -> str:
    """A token of one of the hub's own identities (the quota service's sessions identity by default),
    created (mode 0600) in ``state`` on first use."""
    path = state / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def configure_quota(c, loaded: LoadedSite) -> tuple[list[str], str | None]:
    """Configure the service; returns the scopes every user needs to read their own projects, and
    the address of its API for other hub-side callers (None when the service is off)."""
    site, state = loaded.site, loaded.state_dir
    quota = site.services.quota
    if not quota.enabled:
        return [], None
    url = service_url(quota.bind_url)
    slurm = site.sessions.backend == "slurm"
    command = [sys.executable, "-m", "factoryhub.quota.service",
               f"--import-every={quota.import_every_seconds if slurm else 0}",
               f"--limits-owner={quota.limits_owner}", f"--hold-grace-minutes={quota.hold_grace_minutes}",
               f"--slurm-conf={site.slurm.conf or ''}", f"--slurm-bin-dir={site.slurm.bin_dir or ''}",
               f"--site-name={site.name}"]
    c.JupyterHub.custom_scopes.update(SCOPES)
    c.JupyterHub.services.append({
        "name": SERVICE, "url": url, "command": command, "display": True, "oauth_no_confirm": True,
        # in the environment, not the argv: JupyterHub logs a service's command, and ps shows it
        "environment": {DB_URL_VARIABLE: site.databases.quota.format(state_dir=state)},
        "oauth_client_allowed_scopes": ["custom:quota:read", "custom:quota:admin"]})
    access = f"access:services!service={SERVICE}"
    c.JupyterHub.services.append({"name": SESSIONS_IDENTITY, "api_token": sessions_token(state)})
    c.JupyterHub.load_roles.extend([
        {"name": "quota-admin", "description": "Manage projects and allocations",
         "scopes": ["custom:quota:admin", access], "users": sorted(c.Authenticator.admin_users),
         "groups": site.admin_groups},
        {"name": SESSIONS_IDENTITY, "description": "The hub's session spawner: budget holds",
         "scopes": ["custom:quota:holds", "custom:quota:read", access], "services": [SESSIONS_IDENTITY]},
    ])
    api_url = f"{url}/services/{SERVICE}/api/v1/"
    if slurm and quota.enforce_at_spawn:
        c.SlurmSessionSpawner.quota_url = api_url
        c.SlurmSessionSpawner.quota_token = sessions_token(state)
        c.SlurmSessionSpawner.unregistered_accounts = quota.unregistered_accounts
    return [access, f"read:services!service={SERVICE}"], api_url


def connect_kpi_sources(c) -> None:
    """Tell the quota service where the services its KPI report asks are, and let its own token read their
    figures: only the services the hub runs (call it once every service is configured)."""
    from .catalogue_wiring import SERVICE as CATALOGUE
    from .workshops_wiring import SERVICE as WORKSHOPS

    # appended to, so a LazyConfigValue: its to_dict() lists the same dicts (get_value would freeze the list
    # there and then, and every service appended later, the metrics identity and the culler, would be lost)
    services = c.JupyterHub.services
    services = services.to_dict().get("extend", []) if hasattr(services, "to_dict") else services
    listed = {s["name"]: s for s in services}
    quota = listed.get(SERVICE)
    if quota is None:
        return
    scopes = [KPI_READ]
    for option, name in (("workshops-url", WORKSHOPS), ("catalogue-url", CATALOGUE)):
        if name in listed:
            quota["command"].append(f"--{option}={listed[name]['url']}/services/{name}/api/v1")
            scopes.append(f"access:services!service={name}")
    c.JupyterHub.load_roles.append({"name": SERVICE, "description": "The quota service: read the KPI figures "
                                    "of the workshops and catalogue services", "scopes": scopes,
                                    "services": [SERVICE]})
