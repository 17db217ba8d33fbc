"""Institutional login: OpenID Connect through oauthenticator's GenericOAuthenticator.

What FactoryHub adds to it, and why:

- **Discovery**: the provider's endpoints come from ``<issuer>/.well-known/openid-configuration``
  at start (oauthenticator takes them one by one); a provider that cannot be reached or that names
  another issuer stops the hub with a one-line message.
- **Identity mapping**: a claim (or a lookup file keyed by a claim) gives the *Unix* username; a
  user with no Unix account or no Slurm association is refused with a page saying how to get one,
  before JupyterHub creates anything for them.
- **Groups from claims, synced at every login**: the hub groups derived from the groups claim are
  added, and those a previous login derived but this one does not are removed. Groups that did not
  come from the provider (a catalogue approval adds users to a dataset's group) are left alone:
  that is why FactoryHub does not use JupyterHub's ``manage_groups``, which would replace *every*
  membership with the provider's list and turn off the group API the catalogue grants through.
- **Roles from groups**: hub admin exactly when in one of ``admin_groups`` (set, and unset, at every
  login); the quota, catalogue and trainer roles are granted to groups (see hubconfig), so they
  follow membership without any role bookkeeping here.
"""
from __future__ import annotations

import json
import pwd
import re
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from html import escape
from pathlib import Path

import yaml
from jupyterhub import orm
from jupyterhub.utils import maybe_future, new_token
from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthCallbackHandler, OAuthLogoutHandler
from tornado import web
from traitlets import Bool, Dict, List, Unicode

from .announcements_feed import AnnouncementsFeedMixin
from .guest_login import GuestLoginMixin
from .system_accounts import AccountPolicyConfig, refusal_message
from .workshop_login import WorkshopLoginMixin

STATE_KEY = "factoryhub"  # our part of the (encrypted) auth_state
MAX_GROUPS = 200  # a provider listing more than this is misconfigured, not generous
GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
UNIX_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


class DiscoveryError(RuntimeError):
    """The identity provider's discovery document could not be fetched or is not usable."""


# --- pure decisions ------------------------------------------------------------------------

def claim(claims: Mapping, path: str):
    """A claim's value by name or dotted path (``realm_access.roles``); None when absent."""
    return reduce(lambda value, key: value.get(key) if isinstance(value, Mapping) else None, path.split("."), claims)


def claim_values(claims: Mapping, path: str) -> list[str]:
    """The string values of the claim at dotted ``path`` (a single string becomes a one-item list)."""
    value = claim(claims, path)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def groups_from_claims(values: Iterable[str], patterns: Iterable[re.Pattern]) -> set[str]:
    """Hub groups named by the claim values: the first rule that matches a value names its group."""
    groups = set()
    for value in values:
        for pattern in patterns:
            match = pattern.fullmatch(value)
            if match and GROUP_NAME.fullmatch(match.group("group") or ""):
                groups.add(match.group("group"))
                break
    return groups


def unix_username(claims: Mapping, username_claim: str, username_map: Mapping[str, str] | None) -> str | None:
    """The Unix username the claims name, through the lookup when the site has one; None when none."""
    value = claim(claims, username_claim)
    if not isinstance(value, str) or not value:
        return None
    if username_map is not None:
        value = username_map.get(value)
        if value is None:
            return None
    return value if UNIX_NAME.fullmatch(value) else None


@dataclass(frozen=True)
class GroupChanges:
    """The hub groups a login adds the user to and removes them from."""
    add: frozenset[str]
    remove: frozenset[str]


def group_changes(current: set[str], claimed: set[str], previously_claimed: set[str]) -> GroupChanges:
    """Join the groups the claims name; leave those only an earlier login's claims named.
    Memberships that never came from the claims are not touched."""
    return GroupChanges(add=frozenset(claimed - current),
                        remove=frozenset((previously_claimed - claimed) & current))


# --- discovery -----------------------------------------------------------------------------

def discover(issuer: str, timeout: float = 10.0) -> dict:
    """The provider's metadata; raises DiscoveryError with what went wrong."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https or loopback http)
            metadata = json.loads(response.read())
    except (OSError, ValueError) as err:
        raise DiscoveryError(f"cannot read {url}: {err}") from None
    if metadata.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise DiscoveryError(f"{url} names issuer {metadata.get('issuer')!r}, not {issuer!r}")
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint") if not metadata.get(k)]
    if missing:
        raise DiscoveryError(f"{url} does not give {', '.join(missing)}")
    return metadata


def load_username_map(path: Path) -> dict[str, str]:
    """Read the site's YAML map of claim values to Unix usernames; a ValueError names the file and the problem."""
    try:
        mapping = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: cannot read the username map ({err})") from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ValueError(f"{path}: must be a YAML mapping of claim values to Unix usernames")
    bad = sorted(v for v in mapping.values() if not UNIX_NAME.fullmatch(v))
    if bad:
        raise ValueError(f"{path}: not Unix usernames: {', '.join(bad[:5])}")
    return mapping


# --- the authenticator -----------------------------------------------------------------------

class Refusal(web.HTTPError):
    """A login refused for a reason the user can do something about: the page says what."""

    def __init__(self, status: int, message: str, help_text: str, help_url: str = "",
                 title: str = "Not yet an HPC user here"):
        super().__init__(status, message, reason=title)
        # JupyterHub's error page shows this as is: escape what came from the provider or the site
        link = (f'<p><a id="factoryhub-account-help-link" href="{escape(help_url, quote=True)}">'
                f'{escape(help_url)}</a></p>' if help_url else "")
        self.jupyterhub_html_message = (f'<p id="factoryhub-refusal">{escape(message)}</p>'
                                        f'<p id="factoryhub-account-help">{escape(help_text)}</p>{link}')


async def claimed_before(user) -> set[str]:
    """The groups the user's previous login (or refresh) took from the claims."""
    if user is None:
        return set()
    return set(((await user.get_auth_state()) or {}).get(STATE_KEY, {}).get("groups", []))


def sync_claimed_groups(db, user, claimed: set[str], previously: set[str], log) -> GroupChanges:
    """Apply a login's claimed groups to ``user`` in the hub database, creating missing groups, and log the change."""
    changes = group_changes({g.name for g in user.groups}, claimed, previously)
    for name in sorted(changes.add):
        group = orm.Group.find(db, name)
        if group is None:
            group = orm.Group(name=name)
            db.add(group)
        user.orm_user.groups.append(group)
    for group in [g for g in user.orm_user.groups if g.name in changes.remove]:
        user.orm_user.groups.remove(group)
    db.commit()
    if changes.add or changes.remove:
        log.info("Groups of %s from the provider's claims: +%s -%s", user.name, sorted(changes.add),
                 sorted(changes.remove))
    return changes


def _claimed(auth_model) -> set[str] | None:
    groups = ((auth_model or {}).get("auth_state") or {}).get(STATE_KEY, {}).get("groups")
    return None if groups is None else set(groups)


class FactoryHubCallbackHandler(OAuthCallbackHandler):
    """OAuth callback that syncs the user's hub groups with the groups the identity provider claims."""
    async def auth_to_user(self, authenticated, user=None):
        previously = await claimed_before(user or self.find_user(authenticated["name"]))
        user = await super().auth_to_user(authenticated, user)
        claimed = _claimed(authenticated)
        if claimed is not None:
            sync_claimed_groups(self.db, user, claimed, previously, self.log)
        return user


class FactoryHubLogoutHandler(OAuthLogoutHandler):
    """Logout that also revokes every login cookie of the user, not only this browser's."""
    async def handle_logout(self):
        """Besides clearing this browser's cookies (JupyterHub), make every login cookie of the user
        worthless: a copied or stolen cookie must not outlive a logout on a shared system."""
        await super().handle_logout()
        user = self.current_user
        if user is not None:
            user.orm_user.cookie_id = new_token()
            self.db.commit()


class FactoryHubOIDCAuthenticator(WorkshopLoginMixin, GuestLoginMixin, AnnouncementsFeedMixin,
                                  AccountPolicyConfig, GenericOAuthenticator):
    """Institutional login: claims to a Unix username, groups and roles; system accounts refused."""

    callback_handler = FactoryHubCallbackHandler
    logout_handler = FactoryHubLogoutHandler

    hpc_username_map = Dict(None, allow_none=True, config=True,
                        help="username_claim value -> Unix username; None: the claim is the username")
    groups_claim = Unicode("", config=True, help="Claim (or dotted path) listing groups/entitlements")
    group_patterns = List(Unicode(), config=True, help="Regexes with a named group 'group', tried in order")
    hub_admin_groups = List(Unicode(), config=True, help="Groups whose members are hub admins")
    require_unix_account = Bool(True, config=True, help="Refuse users without a Unix account")
    require_slurm_association = Bool(False, config=True, help="Refuse users without a Slurm association")
    slurm_bin_dir = Unicode("", config=True, help="Where Slurm's commands are ('' = PATH)")
    slurm_conf = Unicode("", config=True, help="SLURM_CONF for sacctmgr ('' = Slurm's default)")
    account_help = Unicode("", config=True, help="How to get an account, shown to refused users")
    account_help_url = Unicode("", config=True, help="A link shown with account_help")

    def user_info_to_username(self, user_info):
        name = unix_username(user_info, self.username_claim, self.hpc_username_map)
        if name is None:
            raise Refusal(403, "Your institution's login did not give this hub an HPC username it knows.",
                          self.account_help, self.account_help_url, title="No HPC username")
        return name

    async def update_auth_model(self, auth_model):
        auth_model = await super().update_auth_model(auth_model)
        user_info = auth_model["auth_state"].get(self.user_auth_state_key) or {}
        values = claim_values(user_info, self.groups_claim) if self.groups_claim else []
        groups = groups_from_claims(values, [re.compile(p) for p in self.group_patterns])
        if len(groups) > MAX_GROUPS:
            raise web.HTTPError(403, f"The provider lists {len(groups)} groups for you; at most {MAX_GROUPS} "
                                     "are accepted. Ask the support desk to check the login's group claim.")
        auth_model["admin"] = bool(groups & set(self.hub_admin_groups))
        # what this login claims: the next login may take these away again
        auth_model["auth_state"][STATE_KEY] = {"groups": sorted(groups)}
        return auth_model

    async def refresh_user(self, user, handler=None, **kwargs):
        """A refresh re-reads the claims: their groups follow, as at a login."""
        previously = await claimed_before(user)
        refreshed = await super().refresh_user(user, handler, **kwargs)
        claimed = _claimed(refreshed) if isinstance(refreshed, dict) else None
        if claimed is not None and handler is not None:
            sync_claimed_groups(handler.db, user, claimed, previously, self.log)
        return refreshed

    async def check_blocked_users(self, username, auth_model=None):
        """System accounts are refused with a page saying why (JupyterHub asks this before anything
        else, even with allow_all); then the site's blocked_users apply."""
        refused = self.account_policy.refusal(username)
        if refused:
            self.log.warning("Refused login of %s: %s", username, refused)
            raise Refusal(403, refusal_message(refused), self.account_help, self.account_help_url,
                          title="System accounts cannot sign in")
        return await maybe_future(super().check_blocked_users(username, auth_model))

    async def check_allowed(self, username, auth_model):
        """Users with a Unix account and, on Slurm, a project; otherwise a page saying how to get one."""
        if self.require_unix_account:
            try:
                pwd.getpwnam(username)
            except KeyError:
                raise Refusal(403, f"You signed in as {username}, but {username} has no HPC account on this "
                                   "system yet.", self.account_help, self.account_help_url) from None
        if self.require_slurm_association and not await self._has_association(username):
            raise Refusal(403, f"Your HPC account {username} belongs to no project (Slurm account) yet.",
                          self.account_help, self.account_help_url)
        return True

    async def _has_association(self, username: str) -> bool:
        from factoryhub.spawners.slurm.client import SlurmClient, SlurmError

        client = SlurmClient(bin_dir=Path(self.slurm_bin_dir) if self.slurm_bin_dir else None,
                             slurm_conf=Path(self.slurm_conf) if self.slurm_conf else None)
        try:
            return any(user == username for user, _account, _qos in await client.associations(username))
        except SlurmError as err:
            self.log.warning("Cannot check %s's Slurm associations: %s", username, err)
            raise web.HTTPError(503, "The cluster's accounting cannot be reached to check your projects; "
                                     "try again in a few minutes.") from None
