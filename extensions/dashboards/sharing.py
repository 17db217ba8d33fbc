"""Giving institutional users, or groups, access to a dashboard by name (JupyterHub shares, granted by
the hub: factoryhub/dashboard_shares.py). They open the dashboard with their own login."""
from __future__ import annotations

from factoryhub.restclient import RemoteError

from .models import Dashboard
from .parts import Parts
from .plan import is_guest
from .publishing import Refused
from .records import record


def _target(user: str | None, group: str | None) -> str:
    return f"user {user}" if user is not None else f"group {group}"


async def shared_with(parts: Parts, dashboard: Dashboard) -> list[dict]:
    """The users and groups given access by name (guests, who come through links, are not listed)."""
    try:
        shares = await parts.shares_of(dashboard.owner, dashboard.server)
    except RemoteError:
        return []  # the page still shows the dashboard; the list comes back with the hub
    return [s for s in shares if not is_guest(s.get("user", ""))]


async def change(parts: Parts, dashboard: Dashboard, actor: str, *, user: str | None = None,
                 group: str | None = None, grant: bool = True) -> None:
    """Grant (or revoke) access by name; a name the hub does not know is a 400 saying so."""
    if user is not None and is_guest(user):
        raise Refused(400, "user: guests come in through links, not by name", "user")
    try:
        await parts.share(dashboard.owner, dashboard.server, user=user, group=group, grant=grant)
    except RemoteError as err:
        if err.status == 400:
            raise Refused(400, err.message, "user" if user is not None else "group") from None
        if err.status == 404:
            raise Refused(409, "the dashboard's server has not been started yet: start it, then share it") from None
        raise Refused(503, f"the hub did not change the share: {err.message}") from None
    with parts.db.write() as session:
        record(session, "share.granted" if grant else "share.revoked", actor, dashboard_id=dashboard.id,
               detail=_target(user, group))
