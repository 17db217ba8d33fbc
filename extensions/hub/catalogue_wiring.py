"""The catalogue service in the hub: its process, scope, roles and the groups it gates.

Scope (custom, defined here): ``custom:catalogue:steward`` decides access requests and reads
the audit trail. Every user may reach the service; admins, the site's stewards and members of
its steward groups get the steward role. The service's own role may read users' groups and
add members to groups (an approval grants an entry's groups), nothing else.
"""
from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from .quota_wiring import service_url
from .servicedb import DB_URL_VARIABLE
from .site import LoadedSite

SERVICE = "factoryhub-catalogue"
SCOPES = {"custom:catalogue:steward": {"description": "Decide access requests to restricted catalogue entries; "
                                                       "read the catalogue's audit trail."}}
SERVICE_SCOPES = ["read:users:name", "read:users:groups", "read:groups", "groups"]


def catalogue_directory(loaded: LoadedSite) -> Path:
    """The folder of catalogue entry files the site names, or the packaged example catalogue when it names none."""
    configured = loaded.site.services.catalogue.directory
    return Path(configured) if configured else Path(str(files("factoryhub.catalogue") / "example"))


def gated_groups(directory: Path) -> list[str]:
    """The groups restricted entries name: created at start so that approvals can add members."""
    from factoryhub.catalogue.catalogue import CatalogueLoader, CatalogueUnavailable

    try:
        catalogue = CatalogueLoader(directory).load()
    except CatalogueUnavailable:
        return []
    return sorted({group for entry in catalogue.entries for group in entry.groups})


def configure_catalogue(c, loaded: LoadedSite) -> list[str]:
    """Configure the service; returns the scopes every user needs to use it."""
    site, state = loaded.site, loaded.state_dir
    settings = site.services.catalogue
    if not settings.enabled:
        return []
    directory = catalogue_directory(loaded)
    command = [sys.executable, "-m", "factoryhub.catalogue.service", f"--catalogue-dir={directory}",
               f"--reload-every={settings.reload_every_seconds}", f"--site-name={site.name}",
               f"--publisher-name={settings.publisher_name or site.name}",
               f"--publisher-url={settings.publisher_url}",
               f"--public-url={(site.hub.public_url or site.hub.bind_url).rstrip('/')}",
               f"--verify-every={settings.verify_every_hours * 3600}", f"--verify-workers={settings.verify_workers}",
               f"--verify-journal-dir={state / 'catalogue-verify'}"]
    if settings.public_export:
        command.append("--public-export")
    c.JupyterHub.custom_scopes.update(SCOPES)
    c.JupyterHub.services.append({
        "name": SERVICE, "url": service_url(settings.bind_url), "command": command, "display": True,
        # in the environment, not the argv: JupyterHub logs a service's command, and ps shows it
        "environment": {DB_URL_VARIABLE: site.databases.catalogue.format(state_dir=state)},
        "oauth_no_confirm": True, "oauth_client_allowed_scopes": list(SCOPES)})
    access = f"access:services!service={SERVICE}"
    c.JupyterHub.load_roles.extend([
        {"name": "data-steward", "description": "Decide access requests to restricted data",
         "scopes": [*SCOPES, access], "users": sorted(set(c.Authenticator.admin_users) | set(settings.stewards)),
         "groups": [*settings.steward_groups, *site.admin_groups]},
        {"name": SERVICE, "description": "The catalogue: read users' groups, add approved users to groups",
         "scopes": SERVICE_SCOPES, "services": [SERVICE]},
    ])
    # created if missing; their members are left alone
    c.JupyterHub.load_groups.update({group: {} for group in [*gated_groups(directory), *settings.steward_groups]})
    return [access, f"read:services!service={SERVICE}"]
