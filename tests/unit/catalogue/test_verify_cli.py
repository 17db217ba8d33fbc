"""``factoryhub catalogue verify`` and ``checksum`` on real files and a real SQLite database, and the
service's Verifier: requests first, then what the schedule says is due."""
from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
import yaml

from factoryhub.catalogue import integrity_records as records
from factoryhub.catalogue.catalogue import CatalogueLoader
from factoryhub.catalogue.service import MIGRATIONS
from factoryhub.catalogue.verification import Verifier
from factoryhub.cli import main
from factoryhub.servicedb import Database

from .builders import document


@pytest.fixture
def catalogue(tmp_path):
    """A catalogue folder with one curated entry (a file) and one without a checksum."""
    data = tmp_path / "data.csv"
    data.write_bytes(b"a,b\n1,2\n" * 1000)
    folder = tmp_path / "catalogue"
    folder.mkdir()
    curated = document(distributions=[{"title": "Table", "format": "csv", "location": str(data),
                                       "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}])
    (folder / "curated.yaml").write_text(yaml.safe_dump(curated))
    (folder / "uncurated.yaml").write_text(yaml.safe_dump(document(distributions=[
        {"title": "Table", "format": "csv", "location": str(data)}])))
    return folder, data, f"sqlite:///{tmp_path / 'catalogue.sqlite'}"


def verify(catalogue, *args) -> int:
    folder, _, db_url = catalogue
    return main(["catalogue", "verify", *args, "--catalogue-dir", str(folder), "--db-url", db_url,
                 "--journal-dir", str(folder.parent / "journal")])


def stored(db_url: str) -> dict:
    db = Database(db_url, MIGRATIONS)
    try:
        with db.read() as session:
            return {key: (row.state, row.checked_by) for key, row in records.all_states(session).items()}
    finally:
        db.dispose()


def test_verify_records_and_its_exit_code_says_whether_the_data_changed(catalogue, capsys):
    folder, data, db_url = catalogue
    assert verify(catalogue) == 0
    out = capsys.readouterr().out
    assert "curated #1 Table: verified" in out and "uncurated" not in out  # only curated entries by default
    assert stored(db_url)[("curated", 1)][0] == "verified"
    assert stored(db_url)[("curated", 1)][1].startswith("cli:")

    data.write_bytes(data.read_bytes().replace(b"1,2", b"1,3", 1))
    assert verify(catalogue, "curated") == 1
    assert "curated #1 Table: changed" in capsys.readouterr().out
    assert stored(db_url)[("curated", 1)][0] == "changed"

    data.unlink()
    assert verify(catalogue, "curated", "--no-record") == 1
    assert "curated #1 Table: missing" in capsys.readouterr().out
    assert stored(db_url)[("curated", 1)][0] == "changed"  # --no-record wrote nothing


def test_bad_input_is_named_and_exits_2(catalogue, capsys):
    assert verify(catalogue, "no-such-entry") == 2
    assert "no catalogue entry 'no-such-entry'" in capsys.readouterr().err
    folder, _, db_url = catalogue
    assert main(["catalogue", "verify", "--catalogue-dir", str(folder / "absent"), "--db-url", db_url]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert verify(catalogue, "--workers", "0") == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_checksum_prints_the_lines_a_steward_pastes(catalogue, capsys):
    folder, data, _ = catalogue
    assert main(["catalogue", "checksum", "uncurated", "--catalogue-dir", str(folder)]) == 0
    assert f"sha256: {hashlib.sha256(data.read_bytes()).hexdigest()}" in capsys.readouterr().out


async def test_the_verifier_takes_requests_then_due_entries(catalogue):
    folder, data, db_url = catalogue
    db = Database(db_url, MIGRATIONS)
    db.upgrade()
    entries = CatalogueLoader(folder).load().entries
    seen = []
    verifier = Verifier(db, lambda: entries, every=3600, workers=2, journal_dir=None, on_result=seen.append)
    assert verifier.request("uncurated", "user:steward") == 0
    assert verifier.request("uncurated", "user:steward") == 0  # queued once
    running = asyncio.create_task(verifier.run())
    try:
        for _ in range(500):  # until both are recorded (the request, then the due curated entry)
            if {("uncurated", 1), ("curated", 1)} <= set(stored(db_url)):
                break
            await asyncio.sleep(0.02)
        states = stored(db_url)
        assert states[("uncurated", 1)] == ("unchecked", "user:steward")  # hashed, nothing to compare
        assert states[("curated", 1)] == ("verified", "scheduled")
        assert [r.check.state for r in seen] == ["unchecked", "verified"]
    finally:
        verifier.stop()
        await asyncio.wait_for(running, 10)
        db.dispose()


def test_a_journal_without_progress_for_a_week_is_not_resumed(tmp_path):
    from factoryhub.catalogue.verification import JOURNAL_MAX_AGE, journal_file

    recent = tmp_path / "recent.1.journal"
    recent.write_text("{}\n")
    old = tmp_path / "old.1.journal"
    old.write_text("{}\n")
    stamp = old.stat().st_mtime - JOURNAL_MAX_AGE - 60
    os.utime(old, (stamp, stamp))
    assert journal_file(tmp_path, "recent", 1) == recent and recent.exists()
    assert journal_file(tmp_path, "old", 1) == old and not old.exists()
    assert journal_file(None, "old", 1) is None


def test_a_result_stored_at_the_same_moment_by_another_verifier_is_stored_over(catalogue, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from factoryhub.catalogue.verification import verify_entry

    folder, _, db_url = catalogue
    db = Database(db_url, MIGRATIONS)
    db.upgrade()
    real, calls = records.record_check, []

    def racing(session, *args, **kwargs):  # the other verifier's row arrives between our read and our insert
        calls.append(args)
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO integrity_states", {}, Exception("UNIQUE constraint failed"))
        return real(session, *args, **kwargs)

    monkeypatch.setattr(records, "record_check", racing)
    entry = CatalogueLoader(folder).load().get("curated")
    try:
        [result] = verify_entry(entry, db=db, by="cli:test")
        assert result.recorded.state == "verified" and len(calls) == 2
    finally:
        db.dispose()
    assert stored(db_url)[("curated", 1)] == ("verified", "cli:test")
