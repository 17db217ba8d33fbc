"""Which names may run sessions: never a system account, whatever door the name came through.

A hub user's name becomes a Unix identity on the cluster (``sudo -u <name> sbatch``), so a
name that resolves to root, a daemon, ``nobody`` or the hub's own service user would run
a job with that account's rights. The same pure check guards every door: the
authenticators (login), the spawners (whatever created the user: admin API, database),
the Slurm client (the sudo boundary itself) and ``check-site`` (local accounts).
"""
from __future__ import annotations

import os
import pwd
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from traitlets import Int, List, Unicode
from traitlets.config import Configurable

# Always refused, even where no Unix account of that name exists (local sessions).
ALWAYS_DENIED = frozenset({"root", "nobody", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail",
                           "news", "uucp", "proxy", "www-data", "backup", "list", "irc", "gnats", "sshd",
                           "slurm", "munge", "mysql", "postgres", "systemd-network", "messagebus"})


# A Unix username as sessions use it: a letter or '_' first (never '#', '%', '-' or a digit), then
# letters, digits and '_.@-' (directory-service names such as jdoe@uni.example included).
SESSION_USERNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.@-]{0,63}")


def hub_service_user() -> str:
    """The Unix user this process runs as (the hub's own service user)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


@dataclass(frozen=True)
class AccountPolicy:
    """Bounds of the Unix accounts that may run sessions; see :func:`refusal`."""

    min_uid: int = 1000
    max_uid: int = 60000  # Debian's UID_MAX; nobody (65534) and other overflow ids lie above it
    denied: frozenset[str] = frozenset()

    @classmethod
    def of(cls, min_uid: int = 1000, max_uid: int = 60000, denied: Iterable[str] = ()) -> AccountPolicy:
        """A policy that also denies the user this process runs as (the hub's service user)."""
        return cls(min_uid, max_uid, frozenset(denied) | {hub_service_user()})

    def refusal(self, username: str, lookup: Callable[[str], pwd.struct_passwd] = pwd.getpwnam) -> str | None:
        """Why ``username`` may not run sessions, or None when it may."""
        if not SESSION_USERNAME.fullmatch(username):
            # sudo reads "#0" as uid 0 and "-x" as an option; digits-only names read as uids elsewhere
            return f"{username[:40]!r} is not a username sessions may run as"
        if username in ALWAYS_DENIED or username in self.denied:
            return f"{username} is a system or service account"
        try:
            account = lookup(username)
        except KeyError:
            return None  # no Unix account: other checks decide (local sessions need none)
        if account.pw_uid == 0 or account.pw_gid == 0:
            return f"{username} has root's user or group id"
        if account.pw_uid < self.min_uid:
            return f"{username} is a system account (uid {account.pw_uid} is below {self.min_uid})"
        if account.pw_uid > self.max_uid:
            return f"{username} is a system account (uid {account.pw_uid} is above {self.max_uid})"
        return None


def refusal_message(reason: str) -> str:
    """What a refused user is told (login page, spawn page, API)."""
    return (f"Sessions never run as system accounts: {reason}. Sign in with your personal HPC account, "
            "or ask the site's support.")


class AccountPolicyConfig(Configurable):
    """Configuration of :class:`AccountPolicy` shared by the authenticators and the spawners."""

    min_uid = Int(1000, config=True, help="Lowest uid that may log in and run sessions, e.g. 1000.")
    max_uid = Int(60000, config=True, help="Highest uid that may run sessions (nobody, 65534, lies above), e.g. 60000.")
    denied_users = List(Unicode(), config=True,
                        help="Usernames never allowed besides root, nobody and the hub's own user, "
                        "e.g. ['backup-svc'].")

    @property
    def account_policy(self) -> AccountPolicy:
        """The policy these settings describe (the hub's own user always denied)."""
        return AccountPolicy.of(self.min_uid, self.max_uid, self.denied_users)
