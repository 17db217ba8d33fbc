"""Local accounts for the embedded default: generated passwords, loopback only.

Passwords are generated on first start and kept in a mode-600 file in the state
directory so they can be printed at every start; this is a development login, and
the site checks refuse it on anything but a loopback address.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Dict, Unicode

from .announcements_feed import AnnouncementsFeedMixin
from .guest_login import GuestLoginMixin
from .system_accounts import AccountPolicyConfig
from .workshop_login import WorkshopLoginMixin

CREDENTIALS_FILE = "local-credentials.json"


def ensure_credentials(state_dir: Path, names: list[str]) -> dict[str, str]:
    """Return {name: password}, generating passwords for names that have none yet."""
    path = state_dir / CREDENTIALS_FILE
    creds = json.loads(path.read_text()) if path.exists() else {}
    missing = [n for n in names if n not in creds]
    if missing or set(creds) - set(names):
        creds = {n: creds.get(n) or secrets.token_urlsafe(12) for n in names}
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(creds, f, indent=2)
    return creds


class LocalAccountsAuthenticator(WorkshopLoginMixin, GuestLoginMixin, AnnouncementsFeedMixin,
                                 AccountPolicyConfig, Authenticator):
    """Password login against the generated local credentials."""

    passwords = Dict(
        key_trait=Unicode(), value_trait=Unicode(), config=True,
        help="Username -> password of the local accounts (set from the state directory's credentials file).",
    )
    credentials_file = Unicode(config=True, help="Where the generated passwords are kept (shown on the login page).")

    def check_blocked_users(self, username, authentication=None):
        """Never a system account (check-site refuses those among the local accounts too)."""
        refused = self.account_policy.refusal(username)
        if refused:
            self.log.warning("Refused local login of %s: %s", username, refused)
            return False
        return super().check_blocked_users(username, authentication)

    def check_allowed(self, username, authentication=None):
        """Only the configured accounts."""
        return username in self.passwords

    async def authenticate(self, handler, data):
        username = (data or {}).get("username", "")
        expected = self.passwords.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), (data.get("password") or "").encode()):
            self.log.warning("Failed local login for %r", username)
            return None
        return username
