"""What verifications found, as the catalogue's database keeps it, and what users are shown.

A verification's result replaces the distribution's previous one (``integrity_states``). A
distribution that stops matching its curated checksum (or vanishes, or cannot be read) opens a
steward notification and an audit entry; one found as curated again resolves it. The verdict
shown with an entry applies only while the entry still names the checksum and path that were
checked: re-curating (a new ``sha256`` or ``location``) makes it "unchecked" until verified.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryhub.servicedb import utcnow

from .entries import Distribution, Entry
from .integrity import Check, manifest_changes
from .models import AuditEntry, IntegrityState, StewardNotification

ALARMS = ("changed", "missing", "unreadable")  # worst first
MANIFEST_KEPT_MAX = 50_000  # files: beyond, a mismatch is reported without the list of files
FILES_NAMED_MAX = 50  # per list (changed, added, removed) in a notification

STATE_MESSAGES = {
    "verified": "Verified: the data is as curated.",
    "changed": "Changed since curation: the data no longer matches its curated SHA-256.",
    "missing": "Missing: the data is not where the catalogue says.",
    "unreadable": "Unreadable: the data could not be read to verify it.",
    "unchecked": "Not verified yet against its curated checksum.",
    "no-checksum": "No checksum was curated for this data.",
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording one check did: the state before (None: never checked as curated now) and after,
    the notification opened (its id) and how many were resolved."""
    before: str | None
    state: str
    opened: int | None
    resolved: int


def _applies(row: IntegrityState | None, location: str, expected: str | None) -> bool:
    return row is not None and row.location == location and row.expected == expected


def record_check(session: Session, entry_id: str, position: int, location: str, check: Check, by: str,
                 seconds: float, now: dt.datetime | None = None) -> Recorded:
    """Store one distribution's check (``position`` is 1-based, as in the DCAT export) and act on
    what changed: open a notification on an alarm, resolve open ones when verified again."""
    now = now or utcnow()
    row = session.get(IntegrityState, (entry_id, position))
    applies = _applies(row, location, check.expected)
    before = row.state if applies else None
    good = row.good_manifest if applies else None
    if row is None:
        row = IntegrityState(entry_id=entry_id, distribution=position)
        session.add(row)
    row.location, row.expected, row.observed, row.state = location, check.expected, check.observed, check.state
    row.detail, row.files, row.bytes, row.seconds = check.detail, check.files, check.bytes, round(seconds, 3)
    row.checked_at, row.checked_by = now, by
    if check.state == "verified":
        kept = check.manifest is not None and len(check.manifest) <= MANIFEST_KEPT_MAX
        row.good_manifest = [list(line) for line in check.manifest] if kept else None
    else:
        row.good_manifest = good
    opened, resolved = None, 0
    open_ = list(session.scalars(select(StewardNotification).where(
        StewardNotification.entry_id == entry_id, StewardNotification.distribution == position,
        StewardNotification.resolved_at.is_(None))))
    if check.state in ALARMS:
        same = [n for n in open_ if n.kind == check.state]
        for note in open_:
            if note not in same:  # e.g. it was changed, now it is gone: one notification says what holds
                note.resolved_at, note.resolved_by = now, f"superseded: {check.state}"
        if not same:
            note = StewardNotification(created_at=now, entry_id=entry_id, distribution=position, kind=check.state,
                                       message=alarm_message(entry_id, position, location, check),
                                       details=_alarm_details(check, good))
            session.add(note)
            session.flush()
            opened = note.id
    elif check.state == "verified":
        for note in open_:
            note.resolved_at, note.resolved_by = now, by
        resolved = len(open_)
    if check.state != before:
        session.add(AuditEntry(at=now, actor=by, action=f"integrity-{check.state}", entry_id=entry_id, username="",
                               request_id=None, details={"distribution": position, "expected": check.expected,
                                                         "observed": check.observed, "detail": check.detail}))
    return Recorded(before, check.state, opened, resolved)


def alarm_message(entry_id: str, position: int, location: str, check: Check) -> str:
    """The one line a steward reads first: which data, what happened, where."""
    what = {"changed": "changed since curation", "missing": "is missing",
            "unreadable": "cannot be read"}[check.state]
    return f"{entry_id}, distribution {position} ({location}) {what}: {check.detail}"


def _alarm_details(check: Check, good: list | None) -> dict:
    details = {"expected": check.expected, "observed": check.observed, "files": check.files, "bytes": check.bytes}
    if check.state == "changed" and good is not None and check.manifest is not None:
        changes = manifest_changes(tuple(tuple(line) for line in good), check.manifest)
        for kind, paths in changes.items():
            details[kind] = paths[:FILES_NAMED_MAX]
            details[f"{kind}_count"] = len(paths)
    return details


# --- reading ---------------------------------------------------------------------------
def states_of(session: Session, entry_ids: Iterable[str]) -> dict[tuple[str, int], IntegrityState]:
    """The stored checks of these entries, by (entry id, position)."""
    ids = list(set(entry_ids))
    if not ids:
        return {}
    rows = session.scalars(select(IntegrityState).where(IntegrityState.entry_id.in_(ids)))
    return {(row.entry_id, row.distribution): row for row in rows}


def all_states(session: Session) -> dict[tuple[str, int], IntegrityState]:
    """Every stored check, by (entry id, position) (the scheduler's view)."""
    return {(row.entry_id, row.distribution): row for row in session.scalars(select(IntegrityState))}


def distribution_integrity(dist: Distribution, row: IntegrityState | None, detailed: bool) -> dict:
    """One distribution's integrity as the API and pages show it; the check's detail (which may
    name files on the cluster) only when ``detailed`` (a viewer who may see the location)."""
    if dist.sha256 is None:
        return {"state": "no-checksum", "checked_at": None, "message": STATE_MESSAGES["no-checksum"],
                "expected": None, "observed": None}
    if not _applies(row, dist.location, dist.sha256):
        return {"state": "unchecked", "checked_at": None, "message": STATE_MESSAGES["unchecked"],
                "expected": dist.sha256, "observed": None}
    when = row.checked_at.strftime("%Y-%m-%d %H:%M UTC")
    message = f"{STATE_MESSAGES[row.state]} {row.detail}".strip() if detailed and row.state != "verified" \
        else STATE_MESSAGES[row.state]
    return {"state": row.state, "checked_at": row.checked_at.isoformat(), "message": f"{message} (checked {when})",
            "expected": dist.sha256, "observed": row.observed}


def entry_integrity(entry: Entry, rows: dict[tuple[str, int], IntegrityState], detailed: bool) -> dict:
    """An entry's integrity: its worst distribution's (an alarm first, then unchecked, then verified)."""
    return summarise(distributions_integrity(entry, rows, detailed))


def distributions_integrity(entry: Entry, rows: dict[tuple[str, int], IntegrityState], detailed: bool) -> list[dict]:
    """Each distribution's integrity, in the entry's order."""
    return [distribution_integrity(dist, rows.get((entry.id, n)), detailed)
            for n, dist in enumerate(entry.distributions, 1)]


def annotate_details(session: Session, entry: Entry, shown: dict) -> dict:
    """An entry's details (access.details) with the integrity of each distribution and of the entry."""
    checks = distributions_integrity(entry, states_of(session, [entry.id]), shown["usable"])
    for distribution, check in zip(shown["distributions"], checks):
        distribution["integrity"] = check
    shown["integrity"] = summarise(checks)
    return shown


def annotate_summaries(session: Session, found: list[tuple[Entry, dict]]) -> list[dict]:
    """Search results (entry, its summary with ``usable``) with each entry's integrity."""
    rows = states_of(session, (entry.id for entry, _ in found))
    return [{**shown, "integrity": entry_integrity(entry, rows, shown["usable"])} for entry, shown in found]


def summarise(shown: list[dict]) -> dict:
    """One state for a list of distributions' integrity (see :func:`entry_integrity`)."""
    for state in (*ALARMS, "unchecked"):
        hit = [(n, s) for n, s in enumerate(shown, 1) if s["state"] == state]
        if hit:
            n, first = hit[0]
            prefix = f"Distribution {n}: " if len(shown) > 1 else ""
            more = f" ({len(hit)} of {len(shown)} distributions)" if len(hit) > 1 else ""
            return {"state": state, "checked_at": first["checked_at"], "message": f"{prefix}{first['message']}{more}"}
    verified = [s for s in shown if s["state"] == "verified"]
    if not verified:
        return {"state": "no-checksum", "checked_at": None, "message": STATE_MESSAGES["no-checksum"]}
    oldest = min(s["checked_at"] for s in verified)  # the guarantee is as old as its oldest check
    return {"state": "verified", "checked_at": oldest,
            "message": f"{STATE_MESSAGES['verified']} (checked {oldest[:16].replace('T', ' ')} UTC)"}


def due_entries(entries: Iterable[Entry], rows: dict[tuple[str, int], IntegrityState], now: dt.datetime,
                every: dt.timedelta) -> list[str]:
    """Entries with a curated checksum that is unverified or verified longer than ``every`` ago,
    the longest-waiting first (never verified before everything else)."""
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    waiting = []
    for entry in entries:
        oldest = None
        for n, dist in enumerate(entry.distributions, 1):
            if dist.sha256 is None:
                continue
            row = rows.get((entry.id, n))
            checked = row.checked_at if _applies(row, dist.location, dist.sha256) else never
            oldest = checked if oldest is None else min(oldest, checked)
        if oldest is not None and oldest <= now - every:
            waiting.append((oldest, entry.id))
    return [entry_id for _, entry_id in sorted(waiting)]


def notification_dict(note: StewardNotification) -> dict:
    """A notification as the API shows it."""
    return {"id": note.id, "created_at": note.created_at.isoformat(), "entry_id": note.entry_id,
            "distribution": note.distribution, "kind": note.kind, "message": note.message, "details": note.details,
            "resolved_at": note.resolved_at.isoformat() if note.resolved_at else None,
            "resolved_by": note.resolved_by}


def notifications(session: Session, open_only: bool = False, limit: int = 200) -> list[StewardNotification]:
    """Steward notifications, newest first (only unresolved ones with ``open_only``)."""
    query = select(StewardNotification).order_by(StewardNotification.id.desc()).limit(limit)
    if open_only:
        query = query.where(StewardNotification.resolved_at.is_(None))
    return list(session.scalars(query))


def open_notification_count(session: Session) -> int:
    """How many notifications wait for a steward."""
    return session.scalar(select(func.count()).select_from(StewardNotification)
                          .where(StewardNotification.resolved_at.is_(None))) or 0
