"""Joining a workshop with a seat's code: as oneself (institutional login) or with a pool account.

The seat is claimed in one database transaction (the code marked used, the participant — and
for a pool seat the lease of a free pool account — recorded), so two people with the last
seat, or one code used twice at once, cannot both win. Then the participant is added to the
hub group, the training account in Slurm and the training project; if that fails the claim
is given back and the page says what failed.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from factoryhub.restclient import RemoteError, segment
from factoryhub.spawners.slurm.client import SlurmError

from . import records
from .models import JoinCode, Participant, ParticipantKind, PoolLease, Workshop
from .parts import Parts
from .plan import JoinRefusal, check_join, names

log = logging.getLogger(__name__)
PASSWORD_WORDS = 4


@dataclass(frozen=True)
class Joined:
    """A participant who joined; ``password`` only for a pool seat (shown once, stored hashed)."""
    workshop_id: str
    title: str
    username: str
    kind: ParticipantKind
    password: str | None = None
    ends_at: str = ""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of ``password`` ("scrypt$salt$hash", hex)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` is the one :func:`hash_password` stored (constant time)."""
    try:
        _kind, salt, _digest = stored.split("$")
        return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)
    except ValueError:
        return False


def _claim(parts: Parts, code: str, username: str | None, display_name: str) -> tuple[Workshop, str, str | None]:
    """Mark the seat taken; returns (workshop, username, new pool password or None). Raises JoinRefusal."""
    now = parts.clock()
    with parts.db.write() as session:
        row = session.get(JoinCode, code)
        workshop = session.get(Workshop, row.workshop_id) if row else None
        taken = session.scalar(select(func.count()).select_from(JoinCode).where(
            JoinCode.workshop_id == workshop.id, JoinCode.used_by.is_not(None))) if workshop else 0
        joined = username is not None and workshop is not None and session.scalar(
            select(Participant.id).where(Participant.workshop_id == workshop.id,
                                         Participant.username == username)) is not None
        check_join(state=workshop.state.value if workshop else "", starts_at=workshop.starts_at if workshop else now,
                   ends_at=workshop.ends_at if workshop else now, now=now, code_known=workshop is not None,
                   code_used_by=row.used_by if row else None, already_participant=joined, seats=workshop.seats
                   if workshop else 0, taken=taken)
        password = None
        if username is None:  # a pool seat: the first free pool account
            leased = set(session.scalars(select(PoolLease.account)))
            free = [a for a in parts.pool.accounts if a not in leased]
            if not free:
                raise JoinRefusal("no_pool_account", "No training account is free for this workshop: ask your "
                                  "trainer, or log in with your institution's account and use the code there.", 409)
            username = free[0]
            password = "-".join(secrets.token_urlsafe(4) for _ in range(PASSWORD_WORDS))
            session.add(PoolLease(account=username, workshop_id=workshop.id, password_hash=hash_password(password),
                                  expires_at=workshop.ends_at))
        row.used_by, row.used_at = username, now
        session.add(Participant(workshop_id=workshop.id, username=username, display_name=display_name,
                                kind=ParticipantKind.pool if password else ParticipantKind.institutional))
        records.audit(session, username, "joined", workshop.id, {"pool": password is not None})
        session.expunge(workshop)
        return workshop, username, password


def _give_back(parts: Parts, workshop_id: str, code: str, username: str) -> None:
    with parts.db.write() as session:
        row = session.get(JoinCode, code)
        row.used_by = row.used_at = None
        for participant in session.scalars(select(Participant).where(Participant.workshop_id == workshop_id,
                                                                     Participant.username == username)):
            session.delete(participant)
        lease = session.get(PoolLease, username)
        if lease is not None and lease.workshop_id == workshop_id:
            session.delete(lease)
        records.audit(session, username, "join-failed", workshop_id)


async def join(parts: Parts, code: str, username: str | None, display_name: str = "") -> Joined:
    """Join with ``code`` as ``username`` (logged in), or with a free pool account (``username`` None)."""
    if username is None and not parts.pool.accounts:
        raise JoinRefusal("no_pool", "This site lends no training accounts: log in with your institution's "
                          "account and join with the code there.", 409)
    if username is not None and username in parts.pool.accounts:
        raise JoinRefusal("pool_account", "A training account belongs to the one workshop it was lent for; ask "
                          "for a new training login with this code instead.", 403)
    workshop, username, password = _claim(parts, code, username, display_name)
    called = names(workshop.id)
    made = []
    try:
        if password is not None:
            await _ensure_hub_user(parts, username)
        # Slurm first: membership of the group is what tells the spawner the account is the user's
        await parts.slurm.add_user(username, workshop.account)
        made.append("slurm")
        await parts.add_to_group(called.group, username)
        made.append("group")
        await parts.quota.call("PUT", f"/projects/{segment(workshop.account)}/members/{segment(username)}")
    except (SlurmError, RemoteError) as err:
        log.warning("Join of %s to workshop %s failed: %s", username, workshop.id, err)
        await _undo_join(parts, workshop, username, made)
        _give_back(parts, workshop.id, code, username)
        raise JoinRefusal("join_failed", f"Joining failed, nothing was kept: {err}. Try again in a moment.",
                          502) from None
    log.info("%s joined workshop %s (%s seat)", username, workshop.id, "pool" if password else "own account")
    return Joined(workshop.id, workshop.title, username,
                  ParticipantKind.pool if password else ParticipantKind.institutional, password,
                  workshop.ends_at.isoformat())


async def _ensure_hub_user(parts: Parts, username: str) -> None:
    try:
        await parts.hub.call("POST", f"/users/{segment(username)}")
    except RemoteError as err:
        if err.status != 409:  # 409: the hub user exists (an earlier workshop's participant)
            raise


async def _undo_join(parts: Parts, workshop: Workshop, username: str, made: list[str]) -> None:
    try:
        if "slurm" in made:
            await parts.slurm.remove_user(username, workshop.account)
        if "group" in made:
            await parts.remove_from_group(names(workshop.id).group, username)
    except (SlurmError, RemoteError) as err:  # the end of the workshop removes what is left
        log.warning("Undoing the join of %s to %s left something: %s", username, workshop.id, err)


def check_pool_login(parts: Parts, username: str, password: str) -> dict | None:
    """The lease a pool account's login opens ({username, workshop, expires_at}), or None."""
    now = parts.clock()
    with parts.db.read() as session:
        lease = session.get(PoolLease, username)
        if lease is None or lease.expires_at <= now or not password_matches(password, lease.password_hash):
            return None
        return {"username": username, "workshop": lease.workshop_id, "expires_at": lease.expires_at.isoformat()}
