"""The end of a workshop: what it made is removed, the ledger keeps its usage, the report is kept.

In order: participants' servers are stopped; the report is taken from the ledger (after an
accounting import); the reservation goes; pool accounts' homes are dealt with as the site's
policy says (pool_homes.py: kept, cleaned or archived); participants leave the training
account and the project, pool accounts' hub users are deleted; the group and the Slurm account
go, and pool accounts whose homes were cleaned are free again. The join codes stop working (they
are kept, so that a late participant is told the workshop has ended, not that the code is unknown).
Each step is repeatable: a step that fails leaves the workshop ``ending`` with the problem recorded, and the next
pass (or the trainer's retry) carries on from there.
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from factoryhub.restclient import RemoteError, segment
from factoryhub.spawners.slurm.client import SlurmError

from . import records
from .dashboard import current_report, participants
from .models import ParticipantKind, PoolLease, Workshop, WorkshopState
from .parts import Parts
from .plan import names
from .pool_homes import clean_script, run_clean_jobs

log = logging.getLogger(__name__)
STOP_CONCURRENCY = 8
CLEAN_SECONDS = 300.0


class EndFailed(RuntimeError):
    """A step of the end failed; the workshop stays ``ending`` and the next attempt continues."""


async def stop_sessions(parts: Parts, usernames: list[str]) -> None:
    """Stop every listed user's default server, a few at a time."""
    gate = asyncio.Semaphore(STOP_CONCURRENCY)

    async def stop(username: str) -> None:
        async with gate:
            await parts.stop_server(username)

    await asyncio.gather(*(stop(u) for u in usernames))


async def end(parts: Parts, workshop_id: str, actor: str) -> dict:
    """End the workshop now (idempotent); returns its report."""
    with parts.db.write() as session:
        workshop = session.get(Workshop, workshop_id)
        if workshop.state == WorkshopState.ended:
            return workshop.report or {}
        workshop.state = WorkshopState.ending
        records.audit(session, actor, "end-started", workshop_id)
        session.flush()
        session.expunge(workshop)
    called = names(workshop_id)
    people = participants(parts, workshop_id)
    usernames = [p.username for p in people]
    try:
        await stop_sessions(parts, [*usernames, workshop.trainer])
        await _wait_for_jobs_to_end(parts, workshop.account)
        report = await current_report(parts, workshop)
        if workshop.reservation:
            await parts.slurm.delete_reservation(workshop.reservation)
        freed, kept = await _deal_with_pool_homes(parts, workshop, [p.username for p in people
                                                                     if p.kind == ParticipantKind.pool])
        for person in people:
            await parts.slurm.remove_user(person.username, workshop.account)
            if person.kind == ParticipantKind.pool:
                await _delete_hub_user(parts, person.username)
            await _quota_member(parts, workshop.account, person.username)
        await _delete_group(parts, called.group)
        await parts.slurm.remove_user(workshop.trainer, workshop.account)
        await parts.slurm.delete_account(workshop.account)
    except (SlurmError, RemoteError) as err:
        with parts.db.write() as session:
            row = session.get(Workshop, workshop_id)
            row.problem = f"ending failed (it is retried): {err}"
            records.audit(session, actor, "end-failed", workshop_id, {"problem": str(err)})
        log.warning("Ending workshop %s failed, retried later: %s", workshop_id, err)
        raise EndFailed(str(err)) from None
    with parts.db.write() as session:
        row = session.get(Workshop, workshop_id)
        for account in freed:
            lease = session.get(PoolLease, account)
            if lease is not None and lease.workshop_id == workshop_id:
                session.delete(lease)
        problem = "; ".join(f"{a}: home not cleaned ({why}), an admin frees it" for a, why in kept.items())
        row.state, row.report, row.ended_at, row.problem = WorkshopState.ended, report, parts.clock(), problem
        records.audit(session, actor, "ended", workshop_id, {"total_gpu_hours": report["total_gpu_hours"]})
    log.info("Workshop %s ended by %s: %d participants, %.4f GPU-hours", workshop_id, actor, len(people),
             report["total_gpu_hours"])
    return report


async def _deal_with_pool_homes(parts: Parts, workshop: Workshop, accounts: list[str]) -> tuple[list[str], dict]:
    """Clean (or archive) the pool accounts' homes per the policy: (accounts now free, account -> why not)."""
    policy = parts.pool.home_policy
    if policy == "keep" or not accounts:
        return [], {}
    partition = parts.profiles[workshop.profile].partition if workshop.profile in parts.profiles else "cpu"
    archive_dir = parts.pool.archive_dir if policy == "archive" else None
    scripts = {a: clean_script(workshop.id, a, workshop.account, partition, archive_dir) for a in accounts}
    # at most CLEAN_SECONDS: an account whose job has not run by then stays lent, its job named
    states = await run_clean_jobs(parts.slurm.client, scripts, timeout=CLEAN_SECONDS)
    freed = [a for a, state in states.items() if state == "COMPLETED"]
    kept = {a: state for a, state in states.items() if state != "COMPLETED"}
    for account, state in kept.items():
        log.warning("Home of pool account %s (workshop %s) not cleaned: %s", account, workshop.id, state)
    return freed, kept


async def _wait_for_jobs_to_end(parts: Parts, account: str, attempts: int = 60) -> None:
    """Until the account has no job in the queue (stopping cancels them), at most a minute."""
    for _ in range(attempts):
        left = await parts.slurm.jobs_of(account)
        if not left:
            return
        await asyncio.sleep(1)
    named = ", ".join(f"{j.get('job_id')} of {j.get('user_name')}" for j in left[:5])
    raise SlurmError(["squeue"], 0, f"jobs of {account} were still in the queue a minute after their stop: {named}")


async def _delete(api, path: str) -> None:
    """DELETE ``path``; what is gone already (404) is no error: the end may be run again."""
    try:
        await api.call("DELETE", path)
    except RemoteError as err:
        if err.status != 404:
            raise


async def _delete_hub_user(parts: Parts, username: str) -> None:
    await _delete(parts.hub, f"/users/{segment(username)}")


async def _delete_group(parts: Parts, group: str) -> None:
    await _delete(parts.hub, f"/groups/{segment(group)}")


async def _quota_member(parts: Parts, account: str, username: str) -> None:
    await _delete(parts.quota, f"/projects/{segment(account)}/members/{segment(username)}")


def free_pool_account(parts: Parts, account: str, actor: str) -> bool:
    """An admin frees an expired pool account for the next workshop (its home dealt with); False if not lent."""
    now = parts.clock()
    with parts.db.write() as session:
        lease = session.get(PoolLease, account)
        if lease is None:
            return False
        if lease.expires_at > now:
            raise ValueError(f"{account} is lent until {lease.expires_at.isoformat()}: end its workshop first")
        session.delete(lease)
        records.audit(session, actor, "pool-freed", lease.workshop_id, {"account": account})
    return True


def due_workshops(parts: Parts) -> list[str]:
    """Workshops whose end has come and that are not ended yet (or whose end failed part-way)."""
    now = parts.clock()
    with parts.db.read() as session:
        return list(session.scalars(select(Workshop.id).where(
            Workshop.state.in_([WorkshopState.ready, WorkshopState.ending]), Workshop.ends_at <= now)))
