"""The reconciler's decision: which of this hub's jobs no session owns."""
from __future__ import annotations

from factoryhub.spawners.slurm.queue import Job, QueueSnapshot
from factoryhub.spawners.slurm.reconciler import orphans, owned_job_ids


def job(job_id, comment, user="alice", state="RUNNING", submit_time=1000):
    return Job(job_id=job_id, state=state, reason="None", user=user, account="proj", partition="gpu",
               name="fh-" + user, comment=comment, node="vm", priority=1, submit_time=submit_time, start_time=0)


SNAPSHOT = QueueSnapshot({j.job_id: j for j in [
    job("1", "factoryhub:hub-a:alice:"),                       # owned
    job("2", "factoryhub:hub-a:alice:second", state="PENDING"),  # orphan
    job("3", "factoryhub:hub-b:alice:"),                       # another hub's
    job("4", "factoryhub:hub-a:bob:", user="alice"),           # comment names someone else: not ours
    job("5", "", user="carol"),                                # a batch job
    job("6", "factoryhub:hub-a:carol:", user="carol", state="COMPLETED"),  # already over
    job("7", "factoryhub:hub-a:carol:", user="carol", submit_time=1990),  # a spawn in flight
]}, 1.0)


def test_only_this_hubs_active_unowned_jobs_past_the_grace_period_are_orphans():
    assert [j.job_id for j in orphans(SNAPSHOT, "hub-a", {"1"}, now=2000, grace=60)] == ["2"]


def test_an_owned_job_is_never_an_orphan():
    assert orphans(SNAPSHOT, "hub-a", {"1", "2", "7"}, now=5000, grace=60) == []


def test_owned_job_ids_come_from_server_state():
    users = [{"name": "alice", "servers": {"": {"state": {"job_id": "1"}}, "b": {"state": {}}}},
             {"name": "bob", "servers": {}}, {"name": "carol"}]
    assert owned_job_ids(users) == {"1"}
