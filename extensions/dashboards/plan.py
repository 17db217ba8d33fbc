"""Pure decisions of the dashboards service: names, codes, link expiry and who a link admits."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from factoryhub.spawners.dashboard import SERVER_PREFIX

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,30}$"
GUEST_PREFIX = "guest-"
GUEST_GROUP = "factoryhub-dashboard-guests"
TICKET_SECONDS = 120  # a guest's browser goes from the terms page to the hub at once
MIN_LINK_SECONDS = 60


@dataclass(frozen=True)
class Limits:
    """The site's rules for guest links (site.yaml services.dashboards)."""
    link_default_seconds: int = 7 * 86400
    link_max_seconds: int = 30 * 86400
    guest_seconds: int = 4 * 3600  # a guest identity lives at most this long (and never past its link)
    max_per_owner: int = 3  # dashboards one user publishes at once


def server_name(name: str) -> str:
    """The named server that shows dashboard ``name``."""
    return f"{SERVER_PREFIX}{name}"


def new_code() -> str:
    """A link code: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


def digest(secret: str) -> str:
    """What the database keeps of a code or ticket."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_guest_name() -> str:
    """A guest's hub user name: guest-<10 hex digits>."""
    return f"{GUEST_PREFIX}{secrets.token_hex(5)}"


def is_guest(username: str) -> bool:
    """Whether a hub user is a dashboard guest."""
    return username.startswith(GUEST_PREFIX)


class LinkRefused(ValueError):
    """A link request the site's rules do not allow; the message names the field and the rule."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def link_expiry(now: dt.datetime, expires_in_seconds: int | None, limits: Limits) -> dt.datetime:
    """When a new link expires: the site's default, or what the owner asked within the site's maximum."""
    seconds = limits.link_default_seconds if expires_in_seconds is None else expires_in_seconds
    if seconds < MIN_LINK_SECONDS:
        raise LinkRefused("expires_in_seconds", f"must be at least {MIN_LINK_SECONDS} seconds")
    if seconds > limits.link_max_seconds:
        raise LinkRefused("expires_in_seconds", f"{seconds} is beyond this site's maximum of "
                                                f"{limits.link_max_seconds} seconds ({_span(limits.link_max_seconds)})")
    return now + dt.timedelta(seconds=seconds)


def _span(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"


def admission_refusal(*, now: dt.datetime, expires_at: dt.datetime, revoked: bool, uses: int,
                      max_guests: int | None, published: bool) -> str | None:
    """Why a link admits no more guests (None: it admits one)."""
    if revoked:
        return "This link was revoked by the dashboard's owner."
    if now >= expires_at:
        return "This link has expired. Ask the dashboard's owner for a new one."
    if not published:
        return "This dashboard is no longer published."
    if max_guests is not None and uses >= max_guests:
        guests = "guest" if max_guests == 1 else "guests"
        return (f"This link has already admitted its {max_guests} {guests}, the most its owner allowed. "
                "Ask the dashboard's owner for another link.")
    return None


def guest_expiry(now: dt.datetime, link_expires_at: dt.datetime, limits: Limits) -> dt.datetime:
    """A guest identity ends with its link or after the site's guest lifetime, whichever is first."""
    return min(link_expires_at, now + dt.timedelta(seconds=limits.guest_seconds))


def gpu_hours_so_far(started: dt.datetime | None, now: dt.datetime, gpus: int, price: float) -> float:
    """What a running dashboard server has cost its owner's project so far (GPUs x hours x price)."""
    if started is None:
        return 0.0
    return max(0.0, (now - started).total_seconds()) / 3600 * gpus * price
