"""Pure decisions about workshops: names, windows, budgets, maintenance, seats and Slurm's argv.

Nothing here talks to Slurm, the hub or a database: callers pass what they read and act on
what these functions decide (tests call them directly).
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from factoryhub.spawners.slurm.cluster import Reservation

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


# --- Slurm reservations -----------------------------------------------------------------------
# Host lists and scontrol's reservation records are read by the compute layer (one home:
# factoryhub.spawners.slurm.hostlist and .cluster); workshops only decide on them.


def maintenance_conflicts(reservations: Sequence[Reservation], starts_at: dt.datetime, ends_at: dt.datetime,
                          nodes: set[str]) -> list[Reservation]:
    """Maintenance reservations overlapping the window on the workshop's nodes (any node, when it
    reserves none: its sessions may land anywhere; every node, when a reservation's host list was
    unreadable)."""
    return [r for r in reservations if r.is_maintenance and r.starts_at is not None and r.ends_at is not None
            and r.starts_at < ends_at and starts_at < r.ends_at
            and (not nodes or r.nodes is None or not r.nodes or nodes & r.nodes)]


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
