"""Recorded `sacct --json -X` of the test cluster as usage."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from factoryhub.quota.accounting import AccountingFormatError, SacctJob, decode_sacct, parse_job, parse_sacct

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slurm"
NOW = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)


def recorded() -> dict:
    return json.loads((FIXTURES / "sacct-jobs.json").read_text())


def one(job: dict) -> SacctJob:
    return decode_sacct(json.dumps({"jobs": [job]})).jobs[0]


def test_gpus_come_from_the_generic_gres_entry_and_multiply_elapsed():
    usage = {u.job_id: u for u in parse_sacct(decode_sacct(json.dumps(recorded())), NOW)}
    four = usage["116"]
    assert (four.account, four.username, four.gpus, four.cpus, four.elapsed_seconds) == \
        ("proj-genomics", "carol", 4, 1, 12)
    assert four.gpu_seconds == 48 and four.cpu_seconds == 12
    assert usage["111"].gpus == 2 and usage["111"].cpus == 4 and usage["111"].account == "sme-visionai"
    cpu_only = usage["140"]
    assert cpu_only.gpus == 0 and cpu_only.gpu_seconds == 0 and cpu_only.cpu_seconds == cpu_only.elapsed_seconds


def test_a_running_job_accrues_until_now_and_has_no_end():
    job = recorded()["jobs"][0]
    job["time"] = {**job["time"], "end": 0, "start": int(NOW.timestamp()) - 600}
    usage = parse_job(one(job), NOW)
    assert usage.end_at is None and usage.elapsed_seconds == 600


def test_a_job_that_never_started_used_nothing():
    job = recorded()["jobs"][0]
    job["time"] = {**job["time"], "start": 0, "end": int(NOW.timestamp())}
    assert parse_job(one(job), NOW) is None
    job["time"]["start"] = None  # what Slurm 22.05 prints for a job cancelled while pending
    assert parse_job(one(job), NOW) is None


def test_newer_data_parser_numbers_are_read_too():
    job = recorded()["jobs"][0]
    start = int(NOW.timestamp()) - 100
    job["time"] = {**job["time"], "start": {"set": True, "number": start}, "end": {"set": True, "number": start + 40}}
    assert parse_job(one(job), NOW).elapsed_seconds == 40


def test_unreadable_records_and_sacct_errors_are_named():
    job = recorded()["jobs"][0]
    del job["account"]
    with pytest.raises(AccountingFormatError, match=r"missing required field `account` - at `\$\.jobs\[0\]`"):
        one(job)
    job = recorded()["jobs"][0]
    job["time"]["start"] = "yesterday"
    with pytest.raises(AccountingFormatError, match=r"at `\$\.jobs\[0\]\.time\.start`"):
        one(job)
    with pytest.raises(AccountingFormatError, match="sacct output: JSON is malformed"):
        decode_sacct("{not json")
    with pytest.raises(AccountingFormatError, match="sacct reported errors: .*boom"):
        list(parse_sacct(decode_sacct('{"errors": [{"error": "boom"}], "jobs": []}'), NOW))


def test_only_the_fields_the_ledger_reads_are_decoded_and_newer_states_are_lists():
    job = recorded()["jobs"][0]
    job["state"] = {"current": ["COMPLETED"], "reason": "None"}
    job["steps"] = [{"anything": ["sacct", {"adds": None}]}]
    assert parse_job(one(job), NOW).state == "COMPLETED"
