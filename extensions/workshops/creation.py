"""Creating a workshop: one action, all or nothing.

The parts are made in a fixed order, each recorded in the workshop's row (``made``) before
the next begins: the training account in Slurm (a child of the trainer's project, the
trainer associated), the training project with its allocation in the quota ledger, the node
reservation (when nodes are asked for), the hub group carrying the spawner's binding. Join
codes and the state ``ready`` come last, in one transaction. A part that fails undoes the
parts recorded, newest first, and the refusal says what failed and what was undone.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from factoryhub.restclient import RemoteError, segment
from factoryhub.spawners.slurm.client import SlurmError
from factoryhub.spawners.slurm.hostlist import expand_hostlist

from . import records
from .models import JoinCode, Workshop, WorkshopState
from .parts import Parts
from .plan import available_budget_hours, maintenance_conflicts, names, new_codes
from .schemas import WorkshopCreate

log = logging.getLogger(__name__)
UNDONE_STATES = (WorkshopState.ended, WorkshopState.failed)


class Refused(Exception):
    """A workshop that must not be made (nothing was made): status, field and message for the trainer."""

    def __init__(self, status: int, field: str | None, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


async def check_request(parts: Parts, body: WorkshopCreate, trainer: str, is_admin: bool) -> None:
    """Everything that can be known before making anything; raises :class:`Refused`."""
    now = parts.clock()
    if body.profile not in parts.profiles:
        raise Refused(400, "profile", f"{body.profile!r} is not a workshop profile of this site "
                                      f"(choose one of {', '.join(parts.profiles) or 'none'})")
    if body.ends_at <= now:
        raise Refused(400, "ends_at", "is in the past")
    with parts.db.read() as session:
        if session.get(Workshop, body.id) is not None:
            raise Refused(409, "id", f"a workshop {body.id!r} exists already (ids are never reused)")
        committed = [w.budget_gpu_seconds / 3600 for w in session.scalars(
            select(Workshop).where(Workshop.trainer_account == body.trainer_account,
                                   Workshop.state.not_in(UNDONE_STATES)))]
    try:
        project = await parts.quota.call("GET", f"/projects/{segment(body.trainer_account)}")
    except RemoteError as err:
        if err.status == 404:
            raise Refused(400, "trainer_account", f"{body.trainer_account} is not a project in the quota "
                                                  "ledger") from None
        raise Refused(503, None, f"the quota service could not be asked: {err}") from None
    if not is_admin and trainer not in project.get("members", []):
        raise Refused(403, "trainer_account", f"you are not a member of project {body.trainer_account}")
    available = available_budget_hours(float(project.get("remaining_gpu_hours", 0)), committed)
    if body.budget_gpu_hours > available + 1e-9:
        raise Refused(409, "budget_gpu_hours",
                      f"{body.budget_gpu_hours:g} GPU-hours is more than project {body.trainer_account} can give "
                      f"({max(available, 0):.2f} GPU-hours left after its other workshops)")
    try:
        reservations = await parts.slurm.reservations()
    except SlurmError as err:
        raise Refused(503, None, f"Slurm's reservations could not be read: {err}") from None
    clash = maintenance_conflicts(reservations, body.starts_at, body.ends_at, expand_hostlist(body.nodes))
    if clash:
        first = clash[0]
        raise Refused(409, "starts_at", f"the window overlaps maintenance reservation {first.name} "
                                        f"({first.starts_at:%Y-%m-%d %H:%M} to {first.ends_at:%Y-%m-%d %H:%M} UTC)")


async def create(parts: Parts, body: WorkshopCreate, trainer: str, is_admin: bool) -> Workshop:
    """Make the workshop; raises :class:`Refused` (nothing made, or everything made undone)."""
    await check_request(parts, body, trainer, is_admin)
    called = names(body.id)
    with parts.db.write() as session:
        if session.get(Workshop, body.id) is not None:  # two trainers, one id, the same moment
            raise Refused(409, "id", f"a workshop {body.id!r} exists already")
        session.add(Workshop(
            id=body.id, title=body.title, trainer=trainer, trainer_account=body.trainer_account,
            account=called.account, profile=body.profile, seats=body.seats,
            budget_gpu_seconds=round(body.budget_gpu_hours * 3600), starts_at=body.starts_at, ends_at=body.ends_at,
            course_repo=body.course_repo, course_branch=body.course_branch, nodes=body.nodes,
            reservation=called.reservation if body.nodes else None, idle_timeout_minutes=body.idle_timeout_minutes,
            state=WorkshopState.creating, made=[]))
        records.audit(session, trainer, "create-started", body.id, body.model_dump(mode="json"))
    step = "the Slurm account"
    try:
        await parts.slurm.add_account(called.account, body.trainer_account, f"Workshop: {body.title}")
        _made(parts, body.id, "slurm-account")
        await parts.slurm.add_user(trainer, called.account)
        step = "the training project"
        await parts.quota.call("POST", "/projects", {
            "account": called.account, "title": f"Workshop: {body.title}"[:200], "track": "exploratory",
            "sector": "training", "contact": trainer, "members": [trainer]})
        _made(parts, body.id, "quota-project")
        await parts.quota.call("POST", f"/projects/{segment(called.account)}/allocations", {
            "gpu_hours": body.budget_gpu_hours, "starts_on": body.starts_at.date().isoformat(),
            "ends_on": body.ends_at.date().isoformat(), "notes": f"workshop {body.id} by {trainer}"})
        if body.nodes:
            step = "the node reservation"
            await parts.slurm.create_reservation(called.reservation, called.account, body.nodes, body.starts_at,
                                                 body.ends_at)
            _made(parts, body.id, "reservation")
        step = "the hub group"
        await parts.hub.call("POST", f"/groups/{segment(called.group)}")
        _made(parts, body.id, "hub-group")
        with parts.db.read() as session:
            workshop = session.get(Workshop, body.id)
        await parts.hub.call("PUT", f"/groups/{segment(called.group)}/properties",
                             {"factoryhub_workshop": records.binding(workshop)})
    except (SlurmError, RemoteError) as err:
        problem = f"creating {step} failed: {err}"
        undone, left = await undo(parts, body.id)
        with parts.db.write() as session:
            workshop = session.get(Workshop, body.id)
            workshop.state, workshop.problem = WorkshopState.failed, problem
            records.audit(session, trainer, "create-failed", body.id, {"problem": problem, "undone": undone,
                                                                      "left": left})
        log.warning("Workshop %s by %s not made: %s; undone: %s; left: %s", body.id, trainer, problem, undone, left)
        tail = f" Could not undo: {'; '.join(left)} (an admin must remove these)." if left else ""
        raise Refused(502, None, f"{problem}. Undone: {', '.join(undone) or 'nothing was made'}.{tail}") from None
    with parts.db.write() as session:
        workshop = session.get(Workshop, body.id)
        session.add_all(JoinCode(code=code, workshop_id=body.id) for code in new_codes(body.seats))
        workshop.state = WorkshopState.ready
        records.audit(session, trainer, "created", body.id, {"made": workshop.made})
    log.info("Workshop %s made by %s: %s", body.id, trainer, ", ".join(workshop.made))
    return workshop


def _made(parts: Parts, workshop_id: str, part: str) -> None:
    """Record that ``part`` exists (committed before the next part is attempted)."""
    with parts.db.write() as session:
        workshop = session.get(Workshop, workshop_id)
        workshop.made = [*workshop.made, part]


UNDO_LABELS = {"slurm-account": "the Slurm account", "quota-project": "the training project",
               "reservation": "the node reservation", "hub-group": "the hub group"}


async def undo(parts: Parts, workshop_id: str) -> tuple[list[str], list[str]]:
    """Remove the recorded parts, newest first: (what was undone, what could not be, with why)."""
    with parts.db.read() as session:
        workshop = session.get(Workshop, workshop_id)
        made, called, trainer = list(workshop.made), names(workshop_id), workshop.trainer
    undone, left = [], []
    for part in reversed(made):
        try:
            if part == "hub-group":
                await parts.hub.call("DELETE", f"/groups/{segment(called.group)}")
            elif part == "reservation":
                await parts.slurm.delete_reservation(called.reservation)
            elif part == "quota-project":
                await parts.quota.call("DELETE", f"/projects/{segment(called.account)}")
            elif part == "slurm-account":
                await parts.slurm.remove_user(trainer, called.account)
                await parts.slurm.delete_account(called.account)
        except (SlurmError, RemoteError) as err:
            left.append(f"{UNDO_LABELS[part]} ({err})")
            continue
        undone.append(UNDO_LABELS[part])
        with parts.db.write() as session:
            row = session.get(Workshop, workshop_id)
            row.made = [p for p in row.made if p != part]
    return undone, left
