"""OIDC login in the hub: the authenticator's settings from site.yaml, encrypted auth state, and
the roles that follow the provider's groups (docs/login.md)."""
from __future__ import annotations

import os
import secrets
from urllib.parse import urljoin

from .oidc import DiscoveryError, FactoryHubOIDCAuthenticator, discover, load_username_map
from .site import LoadedSite, SiteError

CRYPT_KEY_FILE = "auth-state-crypt-key"
# Trainers see who is in a workshop and whether their sessions run; they cannot enter them.


def crypt_key(loaded: LoadedSite) -> bytes | None:
    """auth_state's encryption key: $JUPYTERHUB_CRYPT_KEY when the site manages it, else one kept in
    the state folder (mode 600), made on first start."""
    if os.environ.get("JUPYTERHUB_CRYPT_KEY"):
        return None  # JupyterHub's CryptKeeper reads the variable itself
    path = loaded.state_dir / CRYPT_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def configure_oidc(c, loaded: LoadedSite) -> None:
    """Set the hub's authenticator options (``c.*``) from the site's OIDC section; bad settings fail at start."""
    site, auth = loaded.site, loaded.site.auth
    try:
        metadata = discover(auth.issuer)
        username_map = load_username_map(auth.username_map_file) if auth.username_map_file else None
        secret = auth.client_secret_file.read_text().strip()
    except (DiscoveryError, ValueError, OSError) as err:
        raise SiteError(loaded.source, [f"auth: {err}"]) from None
    public = (site.hub.public_url or site.hub.bind_url).rstrip("/") + "/"

    c.JupyterHub.authenticator_class = FactoryHubOIDCAuthenticator
    a = c.FactoryHubOIDCAuthenticator
    a.authorize_url = metadata["authorization_endpoint"]
    a.token_url = metadata["token_endpoint"]
    a.userdata_url = metadata["userinfo_endpoint"]
    a.client_id, a.client_secret = auth.client_id, secret
    a.oauth_callback_url = urljoin(public, "hub/oauth_callback")
    a.scope = list(auth.scopes)
    a.enable_pkce = True
    a.login_service = auth.display_name
    a.username_claim = auth.username_claim
    a.hpc_username_map = username_map
    a.groups_claim = auth.groups_claim or ""
    a.group_patterns = [rule.pattern for rule in auth.group_rules]
    a.hub_admin_groups = list(auth.admin_groups)
    # Who may log in: the provider's users with a Unix account and (on Slurm) a project, which
    # check_allowed decides; allow_all would skip it.
    a.allow_all = False
    a.require_unix_account = auth.require_unix_account
    a.require_slurm_association = (auth.require_slurm_association if auth.require_slurm_association is not None
                                   else site.sessions.backend == "slurm")
    a.slurm_bin_dir = str(site.slurm.bin_dir or "")
    a.slurm_conf = str(site.slurm.conf or "")
    a.account_help = auth.account_help
    a.account_help_url = auth.account_help_url
    a.enable_auth_state = True
    a.auth_refresh_age = auth.refresh_seconds
    a.refresh_pre_spawn = auth.refresh_seconds > 0
    key = crypt_key(loaded)
    if key is not None:
        c.CryptKeeper.keys = [key]
