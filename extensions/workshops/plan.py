"""Pure decisions about workshops: names, windows, budgets, maintenance, seats and Slurm's argv.

Nothing here talks to Slurm, the hub or a database: callers pass what they read and act on
what these functions decide (tests call them directly).
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ACTIVE_BEFORE_START = dt.timedelta(minutes=15)  # participants may start a little early (docs/workshops.md)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"  # no 0/O, 1/l/I
CODE_LENGTH = 16  # ~93 bits: not guessable, short enough to type from a projector


@dataclass(frozen=True)
class Names:
    """What a workshop is called in Slurm, the ledger and the hub."""
    account: str
    group: str
    reservation: str


def names(workshop_id: str) -> Names:
    """The training account, hub group and reservation of workshop ``workshop_id``."""
    return Names(account=f"ws-{workshop_id}", group=f"workshop-{workshop_id}", reservation=f"ws-{workshop_id}")


def new_codes(count: int) -> list[str]:
    """``count`` fresh join codes, one per seat."""
    return ["".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(count)]


def is_active(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether participants may use the workshop at ``now``."""
    return starts_at - ACTIVE_BEFORE_START <= now < ends_at


def available_budget_hours(project_remaining_hours: float, other_workshop_budgets: Iterable[float]) -> float:
    """What a trainer's project can still give a new workshop: its remaining GPU-hours less the
    budgets of its workshops that have not ended (their usage has not all reached the ledger)."""
    return project_remaining_hours - sum(other_workshop_budgets)


# --- Slurm hostlists and reservations ------------------------------------------------------
_RANGE = re.compile(r"^(?P<prefix>[^\[\]]*)\[(?P<ranges>[0-9,\-]+)\](?P<suffix>[^\[\]]*)$")
MAX_HOSTS = 10_000  # more than any site's nodes: a list naming more is a mistake, not a reservation


def expand_hostlist(text: str) -> set[str]:
    """'gpu[01-03,07],cpu1' -> {'gpu01', 'gpu02', 'gpu03', 'gpu07', 'cpu1'} (one bracket per name);
    ValueError when it names more than MAX_HOSTS nodes (before expanding them)."""
    hosts: set[str] = set()
    for item in re.split(r",(?![^\[]*\])", text.strip()):
        if not item or item == "(null)":
            continue
        match = _RANGE.match(item)
        if not match:
            hosts.add(item)
            continue
        for part in match["ranges"].split(","):
            first, dash, last = part.partition("-")
            if not first.isdigit() or (dash and not last.isdigit()):
                raise ValueError(f"{item!r} is not a Slurm host range")
            width = len(first)
            if int(last or first) - int(first) + len(hosts) >= MAX_HOSTS:
                raise ValueError(f"names more than {MAX_HOSTS} nodes")
            for number in range(int(first), int(last or first) + 1):
                hosts.add(f"{match['prefix']}{number:0{width}d}{match['suffix']}")
    return hosts


@dataclass(frozen=True)
class ReservationRecord:
    """A reservation as ``scontrol --oneliner show reservation`` prints it."""
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    nodes: frozenset[str]
    flags: frozenset[str]

    @property
    def is_maintenance(self) -> bool:
        return "MAINT" in self.flags


def parse_slurm_time(text: str, zone: dt.tzinfo) -> dt.datetime:
    """scontrol's '2026-12-04T10:00:00' (the controller's local time) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(dt.UTC)


def parse_reservations(text: str, zone: dt.tzinfo) -> list[ReservationRecord]:
    """``scontrol --oneliner show reservation`` -> records (unparseable lines are skipped)."""
    found = []
    for line in text.splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        try:
            found.append(ReservationRecord(
                fields["ReservationName"], parse_slurm_time(fields["StartTime"], zone),
                parse_slurm_time(fields["EndTime"], zone), frozenset(expand_hostlist(fields.get("Nodes", ""))),
                frozenset(f for f in fields.get("Flags", "").split(",") if f)))
        except (KeyError, ValueError):
            continue
    return found


def maintenance_conflicts(reservations: Sequence[ReservationRecord], starts_at: dt.datetime, ends_at: dt.datetime,
                          nodes: set[str]) -> list[ReservationRecord]:
    """Maintenance reservations overlapping the window on the workshop's nodes (any node, when it
    reserves none: its sessions may land anywhere)."""
    return [r for r in reservations if r.is_maintenance and r.starts_at < ends_at and starts_at < r.ends_at
            and (not nodes or not r.nodes or nodes & r.nodes)]


def slurm_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """An aware datetime as scontrol reads it: the controller's local time, to the second."""
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


def reservation_create_argv(scontrol: str, name: str, account: str, nodes: str, starts_at: dt.datetime,
                            ends_at: dt.datetime, zone: dt.tzinfo, now: dt.datetime) -> list[str]:
    """scontrol's argv to reserve ``nodes`` for ``account`` during the window (from now, when the
    window has begun: Slurm refuses a start in the past).

    Slurm 22.05 cannot reserve GRES (GPUs) on their own, so whole nodes are reserved.
    IGNORE_JOBS: jobs already running there may end inside the window rather than block the
    reservation (it is made days ahead; a job's walltime would otherwise forbid it)."""
    start = "now" if starts_at <= now else slurm_time(starts_at, zone)
    return [scontrol, "create", "reservation", f"ReservationName={name}", f"StartTime={start}",
            f"EndTime={slurm_time(ends_at, zone)}", f"Nodes={nodes}", f"Accounts={account}", "Flags=IGNORE_JOBS"]


# --- joining --------------------------------------------------------------------------------
UNKNOWN_CODE = "This join code is not known: check it with your trainer."


class JoinRefusal(Exception):
    """Why a join is refused: the reason as a code (for the API) and the sentence the page shows."""

    def __init__(self, reason: str, message: str, status: int = 409):
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status


def check_join(*, state: str, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime, code_known: bool,
               code_used_by: str | None, already_participant: bool, seats: int, taken: int) -> None:
    """Raise :class:`JoinRefusal` when a join must not happen; return when it may."""
    if not code_known:
        raise JoinRefusal("unknown_code", UNKNOWN_CODE, 404)
    if state != "ready" or now >= ends_at:
        raise JoinRefusal("expired", "This workshop has ended: its join codes no longer work.", 410)
    if already_participant:
        raise JoinRefusal("already_joined", "You have already joined this workshop.")
    if code_used_by is not None:
        raise JoinRefusal("code_used", "This join code has already been used: each seat's code works once. "
                          "Ask your trainer for another.")
    if taken >= seats:
        raise JoinRefusal("full", f"All {seats} seats of this workshop are taken.")
