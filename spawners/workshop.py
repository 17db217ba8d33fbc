"""Workshops as the spawner sees them: the binding a workshop's hub group carries (docs/workshops.md).

The ``factoryhub-workshops`` service writes ``{"factoryhub_workshop": {...}}`` into the
properties of the hub group ``workshop-<id>``; this module reads it strictly (a binding that
does not parse is ignored with a warning, never a traceback), tells which workshops are active
and pins a session's profile, account and reservation to the chosen one. Pure: no spawner, no
hub, no service imported.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from factoryhub.site.model import SLUG

from .options import InvalidOptions, _single
from .slurm.jobscript import Course, UnsafeJobField, token_ok

PROPERTY = "factoryhub_workshop"
GROUP_PREFIX = "workshop-"
WORKSHOP_ID = re.compile(r"[a-z0-9][a-z0-9-]{2,39}")
PROFILE_ID = re.compile(SLUG)  # a site profile's id, from its one home
EARLY = dt.timedelta(minutes=15)  # participants may start a session this long before the workshop
MAX_IDLE_MINUTES = 1440
# The service's title is at most 120 characters; a little room, never a page of text in a form.
MAX_TITLE = 200
_FIELDS = frozenset({"id", "title", "account", "profile", "reservation", "course_repo", "course_branch",
                     "course_dir", "starts_at", "ends_at", "idle_timeout_minutes"})
log = logging.getLogger(__name__)


class BadBinding(ValueError):
    """A group's workshop properties do not follow the contract."""


@dataclass(frozen=True)
class WorkshopBinding:
    """What a workshop fixes for its participants' sessions, parsed from the group's properties."""

    id: str
    title: str
    account: str
    profile: str
    reservation: str | None
    course: Course
    starts_at: dt.datetime
    ends_at: dt.datetime
    idle_timeout_minutes: int | None = None

    @property
    def group(self) -> str:
        """The hub group whose members are the participants."""
        return f"{GROUP_PREFIX}{self.id}"

    def active(self, now: dt.datetime) -> bool:
        """True from 15 minutes before ``starts_at`` until ``ends_at`` (excluded)."""
        return self.starts_at - EARLY <= now < self.ends_at

    @classmethod
    def from_properties(cls, group: str, properties: object) -> WorkshopBinding:
        """Parse ``properties[PROPERTY]`` of hub group ``group``; :class:`BadBinding` names what is wrong."""
        if not isinstance(properties, Mapping) or not isinstance(properties.get(PROPERTY), Mapping):
            raise BadBinding(f"{PROPERTY} must be an object")
        data = properties[PROPERTY]
        missing = sorted(_FIELDS - {k for k in data if isinstance(k, str)})
        unknown = sorted(str(k)[:40] for k in data if k not in _FIELDS)
        if missing or unknown:
            raise BadBinding("; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                                     unknown and f"unknown {', '.join(unknown)}"])))
        workshop_id = _text(data, "id", WORKSHOP_ID)
        if group != f"{GROUP_PREFIX}{workshop_id}":
            raise BadBinding(f"id: {workshop_id!r} does not match the group's name")
        title = _text(data, "title")
        if not title.strip() or len(title) > MAX_TITLE or any(c < " " for c in title):
            raise BadBinding(f"title: must be one line of 1 to {MAX_TITLE} characters")
        account = _text(data, "account")
        if not token_ok(account):
            raise BadBinding(f"account: {account[:40]!r} is not a Slurm account name")
        reservation = data["reservation"]
        if reservation is not None and not (isinstance(reservation, str) and token_ok(reservation)):
            raise BadBinding(f"reservation: {str(reservation)[:40]!r} is not a Slurm reservation name or null")
        try:
            course = Course(repo=_text(data, "course_repo"), branch=_text(data, "course_branch"),
                            directory=_text(data, "course_dir"))
        except UnsafeJobField as err:
            raise BadBinding(str(err)) from None
        starts_at, ends_at = _time(data, "starts_at"), _time(data, "ends_at")
        if ends_at <= starts_at:
            raise BadBinding("ends_at: must be after starts_at")
        idle = data["idle_timeout_minutes"]
        if idle is not None and (isinstance(idle, bool) or not isinstance(idle, int)
                                 or not 1 <= idle <= MAX_IDLE_MINUTES):
            raise BadBinding(f"idle_timeout_minutes: {idle!r} is not a whole number from 1 to {MAX_IDLE_MINUTES} "
                             "or null")
        return cls(id=workshop_id, title=title, account=account, profile=_text(data, "profile", PROFILE_ID),
                   reservation=reservation, course=course, starts_at=starts_at, ends_at=ends_at,
                   idle_timeout_minutes=idle)


def _text(data: Mapping, key: str, pattern: re.Pattern | None = None) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise BadBinding(f"{key}: must be a string, not {type(value).__name__}")
    if pattern is not None and not pattern.fullmatch(value):
        raise BadBinding(f"{key}: {value[:40]!r} does not match {pattern.pattern}")
    return value


def _time(data: Mapping, key: str) -> dt.datetime:
    text = _text(data, key)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadBinding(f"{key}: {text[:40]!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise BadBinding(f"{key}: {text[:40]!r} has no time zone")
    return value.astimezone(dt.UTC)


def workshop_bindings(groups: Iterable[tuple[str, Mapping | None]],
                      logger: logging.Logger | logging.LoggerAdapter | None = None) -> tuple[WorkshopBinding, ...]:
    """Every well-formed binding among the user's hub groups, as (name, properties) pairs, active
    or not, ordered by start, then id. Groups without workshop properties are skipped; a malformed
    binding is skipped with a warning naming the group and what is wrong."""
    found = []
    for name, properties in groups:
        if not isinstance(properties, Mapping) or PROPERTY not in properties:
            continue
        try:
            found.append(WorkshopBinding.from_properties(name, properties))
        except BadBinding as err:
            (logger or log).warning("Ignoring the workshop properties of group %s: %s", name, err)
    return tuple(sorted(found, key=lambda b: (b.starts_at, b.id)))


def active_workshops(groups: Iterable[tuple[str, Mapping | None]], now: dt.datetime,
                     logger: logging.Logger | logging.LoggerAdapter | None = None) -> tuple[WorkshopBinding, ...]:
    """The workshops active at ``now`` among the user's hub groups (see :func:`workshop_bindings`)."""
    return tuple(b for b in workshop_bindings(groups, logger) if b.active(now))


def usable_accounts(accounts: Sequence[str], bindings: Sequence[WorkshopBinding], now: dt.datetime) -> tuple[str, ...]:
    """``accounts`` less those of the user's workshops (``bindings``, active or not) that are not
    active at ``now``: participants join, and get the workshop's Slurm account, before it starts,
    and its budget pays for its own sessions during it only. Raises :class:`InvalidOptions`
    (account) saying when the workshop opens when no account is left."""
    open_accounts = {b.account for b in bindings if b.active(now)}
    closed = {b.account: b for b in bindings if not b.active(now) and b.account not in open_accounts}
    usable = tuple(a for a in accounts if a not in closed)
    if accounts and not usable:
        binding = closed[accounts[0]]
        when = ("has ended" if now >= binding.ends_at else
                f"opens for sessions at {(binding.starts_at - EARLY).strftime('%Y-%m-%d %H:%M UTC')}")
        raise InvalidOptions("account", f"your only project {binding.account} is workshop {binding.id}'s, "
                                        f"which {when}")
    return usable


def session_accounts(accounts: Sequence[str], bindings: Sequence[WorkshopBinding],
                     now: dt.datetime) -> tuple[tuple[str, ...], tuple[WorkshopBinding, ...]]:
    """(the accounts a session of this user may charge, the user's active workshops): the Slurm
    view's ``accounts`` plus active workshops' — the workshops service associates a participant in
    Slurm before adding them to the group, so the binding is the word that the account is theirs
    even before a cached view shows it — less workshops' accounts outside their windows
    (:func:`usable_accounts`, which raises InvalidOptions when none is left)."""
    active = tuple(b for b in bindings if b.active(now))
    known = dict.fromkeys([*accounts, *(b.account for b in active)])
    return usable_accounts(tuple(known), bindings, now), active


def chosen_workshop(user_options: Mapping[str, object] | None, bindings: Sequence[WorkshopBinding],
                    user_accounts: Sequence[str] | None) -> WorkshopBinding | None:
    """The workshop a session belongs to: the one named by option ``workshop``; else the one whose
    account the options name; else, for a user whose only Slurm accounts are active workshops'
    accounts, that workshop. None for an ordinary session."""
    options = user_options or {}
    by_id = {b.id: b for b in bindings}
    if "workshop" in options:
        wanted = _single(options["workshop"], "workshop")
        if wanted not in by_id:
            usable = ", ".join(by_id) or "none"
            raise InvalidOptions("workshop", f"{wanted[:40]!r} is not an active workshop you take part in "
                                             f"({usable})")
        return by_id[wanted]
    by_account = {}
    for binding in bindings:
        by_account.setdefault(binding.account, []).append(binding)
    if "account" in options:
        account = _single(options["account"], "account")
        candidates = by_account.get(account, [])
    elif user_accounts and set(user_accounts) <= set(by_account):
        candidates = [b for account in dict.fromkeys(user_accounts) for b in by_account[account]]
    else:
        return None
    if len(candidates) > 1:
        raise InvalidOptions("workshop", "you take part in several active workshops: choose one "
                                         f"({', '.join(b.id for b in candidates)})")
    return candidates[0] if candidates else None


def pin_options(user_options: Mapping[str, object] | None, bindings: Sequence[WorkshopBinding],
                user_accounts: Sequence[str] | None) -> dict[str, object]:
    """``user_options`` with profile, account and reservation (where it has one) taken from the
    session's workshop (:func:`chosen_workshop`) and ``workshop`` set to its id; unchanged for an
    ordinary session.

    Raises :class:`InvalidOptions` naming the field when an explicit value differs from the
    workshop's, or when ``workshop`` names no active workshop of the user's."""
    options = dict(user_options or {})
    binding = chosen_workshop(options, bindings, user_accounts)
    if binding is None:
        return options
    for field, value in (("profile", binding.profile), ("account", binding.account),
                         ("reservation", binding.reservation)):
        if field in options:
            given = _single(options[field], field)
            if given != value:
                uses = f"uses {value!r}, not {given[:40]!r}" if value else "runs without one"
                raise InvalidOptions(field, f"workshop {binding.id} {uses}: leave it out")
        if value is not None:
            options[field] = value
    options["workshop"] = binding.id
    return options
