"""The end of a workshop: everything it made goes, the report stays, a failed step is retried."""
from __future__ import annotations

import datetime as dt

import pytest

from factoryhub.workshops import ending, joining
from factoryhub.workshops.models import JoinCode, PoolLease, Workshop, WorkshopState
from factoryhub.workshops.plan import JoinRefusal

from .fakes import NOW
from .test_joining import made

USAGE = ("cluster,job_id,account,username,partition,state,start_at,end_at,gpus,cpus,elapsed_seconds,gpu_hours,"
         "cpu_hours\n"
         "c,1,ws-gpu-intro,alice,gpu,COMPLETED,x,y,1,2,3600,1.0000,2.0000\n"
         "c,2,ws-gpu-intro,alice,gpu,CANCELLED,x,y,1,2,1800,0.5000,1.0000\n"
         "c,3,ws-gpu-intro,train01,gpu,COMPLETED,x,y,1,2,900,0.2500,0.5000\n")


async def test_the_end_removes_what_was_made_and_keeps_the_report(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    await joining.join(parts, codes[0], "alice")
    await joining.join(parts, codes[1], None, "Ada")
    quota.on("GET", "/projects/ws-gpu-intro/usage.csv", USAGE)
    parts.clock = lambda: NOW + dt.timedelta(hours=5)
    assert ending.due_workshops(parts) == ["gpu-intro"]
    report = await ending.end(parts, "gpu-intro", "service:expiry")
    assert report["total_gpu_hours"] == 1.75 and report["total_sessions"] == 3
    assert {r["username"]: r["gpu_hours"] for r in report["participants"]} == {"alice": 1.5, "train01": 0.25}
    assert ("DELETE", "/users/alice/server", None) in hub.calls and ("DELETE", "/users/train01", None) in hub.calls
    assert ("DELETE", "/users/alice", None) not in hub.calls, "an institutional user stays a hub user"
    assert ("DELETE", "/groups/workshop-gpu-intro", None) in hub.calls
    assert ("POST", "/imports", None) in quota.calls
    assert not slurm.made_reservations and "ws-gpu-intro" not in slurm.accounts
    assert not [a for a in slurm.associations if a[1] == "ws-gpu-intro"]
    with parts.db.read() as session:
        row = session.get(Workshop, "gpu-intro")
        assert row.state == WorkshopState.ended and row.report == report
        assert session.query(JoinCode).count() == 3  # kept: a late participant learns the workshop has ended
        assert session.get(PoolLease, "train01") is not None, "policy keep: lent until an admin frees it"
    assert ending.due_workshops(parts) == []
    assert await ending.end(parts, "gpu-intro", "again") == report
    parts.clock = lambda: NOW
    with pytest.raises(JoinRefusal) as refused:
        await joining.join(parts, codes[2], "bob")
    assert refused.value.reason == "expired" and refused.value.status == 410


async def test_a_failed_step_leaves_the_workshop_ending_and_the_next_pass_finishes(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    await joining.join(parts, codes[0], "alice")
    parts.clock = lambda: NOW + dt.timedelta(hours=5)
    slurm.fail_on.add("delete_reservation")
    with pytest.raises(ending.EndFailed):
        await ending.end(parts, "gpu-intro", "service:expiry")
    with parts.db.read() as session:
        row = session.get(Workshop, "gpu-intro")
        assert row.state == WorkshopState.ending and "delete_reservation" in row.problem
    assert ending.due_workshops(parts) == ["gpu-intro"]
    slurm.fail_on.clear()
    await ending.end(parts, "gpu-intro", "service:expiry")
    assert not slurm.made_reservations


async def test_an_admin_frees_an_expired_pool_account_not_a_lent_one(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    await joining.join(parts, codes[0], None, "Ada")
    with pytest.raises(ValueError, match="lent until"):
        ending.free_pool_account(parts, "train01", "admin")
    parts.clock = lambda: NOW + dt.timedelta(hours=5)
    assert ending.free_pool_account(parts, "train01", "admin") is True
    assert ending.free_pool_account(parts, "train01", "admin") is False


async def test_the_dashboard_shows_each_participants_session(tmp_path):
    from factoryhub.workshops import dashboard

    parts, slurm, hub, quota, codes = await made(tmp_path)
    await joining.join(parts, codes[0], "alice")
    await joining.join(parts, codes[1], "bob")
    hub.on("GET", "/users/alice", {"servers": {"": {"ready": True}}})
    hub.on("GET", "/users/bob", {"servers": {}})
    slurm.jobs.append({"job_id": 7, "account": "ws-gpu-intro", "job_state": "PENDING", "user_name": "bob",
                       "state_reason": "Resources"})
    with parts.db.read() as session:
        workshop = session.get(Workshop, "gpu-intro")
    rows = {r["username"]: r for r in (await dashboard.dashboard(parts, workshop))["participants"]}
    assert rows["alice"]["state"] == "running"
    assert rows["bob"]["state"] == "pending" and rows["bob"]["reason"] == "waiting for free resources"
