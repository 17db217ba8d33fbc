"""Recording verifications: the state each distribution shows, the stewards' notifications they open
and resolve, the audit trail, and which entries the schedule says are due (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from factoryhub.catalogue import integrity_records as records
from factoryhub.catalogue import models
from factoryhub.catalogue.integrity import Check
from factoryhub.catalogue.models import AuditEntry, StewardNotification
from factoryhub.servicedb import Database
from tests.harness.databases import BACKENDS, migrated_database

from .builders import entry

MIGRATIONS = Path(models.__file__).with_name("migrations")
CURATED = "a" * 64
OTHER = "b" * 64
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
DIRECTORY = "/srv/factoryhub/datasets/test/tiles"
GOOD = (("a.tif", "1" * 64), ("b.tif", "2" * 64), ("c.tif", "3" * 64))


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    """A migrated, empty catalogue database."""
    yield from migrated_database(request, tmp_path, lambda url: Database(url, MIGRATIONS))


def tiles(sha256: str | None = CURATED, location: str = DIRECTORY):
    return entry("tiles", distributions=[{"title": "Tiles", "format": "tiff", "location": location,
                                          **({"sha256": sha256} if sha256 else {})}])


def check(state: str, observed: str | None = CURATED, manifest=GOOD, detail: str = "3 files hashed") -> Check:
    return Check(state=state, expected=CURATED, observed=observed, files=len(manifest or ()), bytes=300,
                 detail=detail, manifest=manifest)


def record(db, result: Check, at: dt.datetime, location: str = DIRECTORY, by: str = "scheduled"):
    with db.write() as session:
        return records.record_check(session, "tiles", 1, location, result, by, 1.5, now=at)


def shown(db, detailed: bool = True, curated: str | None = CURATED, location: str = DIRECTORY) -> dict:
    with db.read() as session:
        return records.entry_integrity(tiles(curated, location), records.states_of(session, ["tiles"]), detailed)


def open_notifications(db) -> list[dict]:
    with db.read() as session:
        return [records.notification_dict(n) for n in records.notifications(session, open_only=True)]


def test_a_change_opens_one_notification_and_restoring_resolves_it(db):
    assert shown(db)["state"] == "unchecked"
    assert record(db, check("verified"), T0) == records.Recorded(None, "verified", None, 0)
    assert shown(db) == {"state": "verified", "checked_at": T0.isoformat(),
                         "message": "Verified: the data is as curated. (checked 2026-12-01 08:00 UTC)"}

    changed = (("a.tif", "1" * 64), ("b.tif", "9" * 64), ("d.tif", "4" * 64))  # b changed, c gone, d new
    outcome = record(db, check("changed", OTHER, changed, "SHA-256 differs from the curated one"),
                     T0 + dt.timedelta(days=1))
    assert (outcome.before, outcome.state, outcome.resolved) == ("verified", "changed", 0)
    [note] = open_notifications(db)
    assert note["id"] == outcome.opened and note["kind"] == "changed"
    assert note["message"].startswith(f"tiles, distribution 1 ({DIRECTORY}) changed since curation")
    assert (note["details"]["changed"], note["details"]["added"], note["details"]["removed"]) == \
        (["b.tif"], ["d.tif"], ["c.tif"])
    assert shown(db)["state"] == "changed"
    assert "SHA-256 differs" in shown(db)["message"]

    # found changed again: still one notification
    assert record(db, check("changed", OTHER, changed), T0 + dt.timedelta(days=2)).opened is None
    assert len(open_notifications(db)) == 1

    restored = record(db, check("verified"), T0 + dt.timedelta(days=3), by="user:steward")
    assert (restored.before, restored.state, restored.resolved) == ("changed", "verified", 1)
    assert open_notifications(db) == []
    with db.read() as session:
        [note] = [records.notification_dict(n) for n in records.notifications(session)]
        actions = [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert note["resolved_by"] == "user:steward" and note["resolved_at"].startswith("2026-12-04")
    # one audit entry per change of state, not per check
    assert actions == ["integrity-verified", "integrity-changed", "integrity-verified"]
    assert shown(db)["state"] == "verified"


def test_a_vanished_distribution_supersedes_the_changed_notification(db):
    record(db, check("changed", OTHER), T0)
    outcome = record(db, check("missing", None, None, "does not exist"), T0 + dt.timedelta(hours=1))
    assert outcome.opened is not None
    [note] = open_notifications(db)
    assert note["kind"] == "missing" and "is missing" in note["message"]
    with db.read() as session:
        superseded = session.scalars(select(StewardNotification).where(StewardNotification.kind == "changed")).one()
    assert superseded.resolved_by == "superseded: missing"


def test_the_check_detail_is_shown_only_to_viewers_who_may_see_the_location(db):
    record(db, check("unreadable", None, None, f"cannot read {DIRECTORY}/b.tif (Permission denied)"), T0)
    assert DIRECTORY in shown(db, detailed=True)["message"]
    hidden = shown(db, detailed=False)
    assert hidden["state"] == "unreadable" and DIRECTORY not in hidden["message"]


def test_re_curating_makes_the_old_verdict_not_apply(db):
    record(db, check("changed", OTHER), T0)
    assert shown(db, curated=OTHER)["state"] == "unchecked"  # the steward curated the new data
    assert shown(db, location="/srv/elsewhere")["state"] == "unchecked"  # or moved it
    assert shown(db, curated=None)["state"] == "no-checksum"


def test_the_schedule_picks_unverified_then_oldest_entries_only_with_a_checksum(db):
    every = dt.timedelta(days=7)
    fresh, stale, never, uncurated = (entry(name, distributions=[
        {"title": "T", "format": "csv", "location": f"/data/{name}.csv", **({"sha256": CURATED} if sha else {})}])
        for name, sha in (("fresh", True), ("stale", True), ("never", True), ("uncurated", False)))
    with db.write() as session:
        for name, at in (("fresh", T0), ("stale", T0 - dt.timedelta(days=8))):
            records.record_check(session, name, 1, f"/data/{name}.csv", check("verified"), "scheduled", 1.0, now=at)
    with db.read() as session:
        rows = records.all_states(session)
    now = T0 + dt.timedelta(days=1)
    assert records.due_entries([fresh, stale, never, uncurated], rows, now, every) == ["never", "stale"]
    assert records.due_entries([fresh], rows, T0 + every, every) == ["fresh"]  # exactly a period later


def test_a_large_directory_is_reported_without_its_file_list(db, monkeypatch):
    monkeypatch.setattr(records, "MANIFEST_KEPT_MAX", 2)
    record(db, check("verified"), T0)  # 3 files: more than kept
    record(db, check("changed", OTHER), T0 + dt.timedelta(days=1))
    [note] = open_notifications(db)
    assert "changed" not in note["details"] and note["details"]["observed"] == OTHER
