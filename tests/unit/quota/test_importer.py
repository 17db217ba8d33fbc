"""The accounting import: incremental, idempotent, crash-safe (real SQLite, replayed sacct)."""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from factoryhub.quota.accounting import decode_sacct
from factoryhub.quota.importer import UsageImporter
from factoryhub.quota.models import ImportState, UsageRecord

from .conftest import NOW

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slurm"


def job(job_id: int, start: dt.datetime, end: dt.datetime | None, gpus: int = 1) -> dict:
    template = json.loads((FIXTURES / "sacct-jobs.json").read_text())["jobs"][0]
    record = copy.deepcopy(template)
    record.update(job_id=job_id, account="proj-climate", user="alice")
    record["time"] = {**record["time"], "start": int(start.timestamp()), "end": int(end.timestamp()) if end else 0}
    record["tres"]["allocated"] = [{"type": "cpu", "name": None, "id": 1, "count": 1},
                                   {"type": "gres", "name": "gpu", "id": 1001, "count": gpus}]
    return record


class FakeSacct:
    """Answers like sacct: a window returns the jobs that overlap it; ids return those jobs."""

    def __init__(self, jobs: list[dict]):
        self.records, self.calls, self.fail_on_call = jobs, [], None

    def _overlaps(self, j, start, end):
        begin, finish = j["time"]["start"], j["time"]["end"] or float("inf")
        return begin < end.timestamp() and finish >= start.timestamp()

    async def window(self, start, end):
        self.calls.append(("window", start, end))
        if self.fail_on_call == len(self.calls):
            raise RuntimeError("sacct died")
        return decode_sacct(json.dumps({"jobs": [j for j in self.records if self._overlaps(j, start, end)]}))

    async def jobs(self, job_ids):
        self.calls.append(("jobs", tuple(job_ids)))
        return decode_sacct(json.dumps({"jobs": [j for j in self.records if str(j["job_id"]) in job_ids]}))


def rows(db):
    with db.read() as session:
        return {r.job_id: (r.gpu_seconds, r.end_at is None) for r in session.scalars(select(UsageRecord))}


async def test_reimporting_the_same_period_changes_nothing(db, climate):
    source = FakeSacct([job(1, NOW - dt.timedelta(hours=2), NOW - dt.timedelta(hours=1), gpus=2)])
    importer = UsageImporter(db, source)
    first = await importer.run(NOW)
    assert first.rows_changed == 1 and rows(db) == {"1": (7200, False)}
    with db.write() as session:  # forget the watermark: the whole period is read again
        session.delete(session.get(ImportState, "sacct"))
    again = await importer.run(NOW)
    assert again.jobs_seen == 1 and again.rows_changed == 0 and rows(db) == {"1": (7200, False)}


async def test_a_crash_mid_import_loses_and_double_counts_nothing(db, climate):
    days = [NOW - dt.timedelta(days=d) for d in (3.5, 2.5, 1.5)]
    source = FakeSacct([job(i, day, day + dt.timedelta(hours=1)) for i, day in enumerate(days, 1)])
    importer = UsageImporter(db, source, overlap=dt.timedelta(0), chunk=dt.timedelta(days=1))
    with db.write() as session:
        session.add(ImportState(source="sacct", watermark=NOW - dt.timedelta(days=4)))
    source.fail_on_call = 3
    with pytest.raises(RuntimeError):
        await importer.run(NOW)
    with db.read() as session:
        kept = session.get(ImportState, "sacct").watermark
    assert kept == NOW - dt.timedelta(days=2) and set(rows(db)) == {"1", "2"}
    source.fail_on_call = None
    await importer.run(NOW)
    assert rows(db) == {"1": (3600, False), "2": (3600, False), "3": (3600, False)}
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == 3


async def test_a_job_recorded_as_ended_late_is_fetched_by_id(db, climate):
    running = job(5, NOW - dt.timedelta(hours=3), None)
    source = FakeSacct([running])
    importer = UsageImporter(db, source, overlap=dt.timedelta(minutes=10))
    await importer.run(NOW - dt.timedelta(hours=1))
    assert rows(db) == {"5": (7200, True)}
    # it ended long before the next window; slurmdbd recorded that only now
    running["time"]["end"] = int((NOW - dt.timedelta(minutes=80)).timestamp())
    report = await importer.run(NOW + dt.timedelta(hours=1))
    assert ("jobs", ("5",)) in source.calls and report.rows_changed == 1
    assert rows(db) == {"5": (100 * 60, False)}
