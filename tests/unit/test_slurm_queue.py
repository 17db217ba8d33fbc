"""Reading the queue from recorded `squeue --json` / `sinfo --json` of the test cluster."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from factoryhub.spawners.slurm.cluster import parse_view
from factoryhub.spawners.slurm.queue import QueueSnapshot, describe_pending

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slurm"
SNAPSHOT = QueueSnapshot.from_squeue(json.loads((FIXTURES / "squeue-running-and-pending.json").read_text()), 1.0)


def associations():
    rows = (FIXTURES / "sacctmgr-associations.txt").read_text().splitlines()
    return [tuple(r.split("|")) for r in rows if r.split("|")[0]]


def test_jobs_are_parsed_with_state_reason_node_and_comment():
    running, pending = SNAPSHOT.get("5"), SNAPSHOT.get("7")
    assert (running.state, running.node, running.user, running.account) == ("RUNNING", "vm", "alice", "proj-climate")
    assert running.running and running.active and not running.pending
    assert (pending.state, pending.reason, pending.comment) == ("PENDING", "Resources", "factoryhub:test:alice:second")
    assert pending.gres == "gres:gpu:h100:2"
    assert not SNAPSHOT.get("1").active  # COMPLETED jobs stay listed for MinJobAge


def test_queue_position_counts_pending_jobs_ahead_in_the_partition():
    assert SNAPSHOT.jobs_ahead(SNAPSHOT.get("7")) == 0
    assert SNAPSHOT.jobs_ahead(SNAPSHOT.get("8")) == 1
    assert SNAPSHOT.jobs_ahead(SNAPSHOT.get("9")) == 2


def test_pending_reasons_in_plain_words():
    now = SNAPSHOT.get("7").start_time - 5 * 60
    assert describe_pending(SNAPSHOT.get("7"), SNAPSHOT, "H100", now) == \
        "waiting for a free H100 — next in line, expected to start in about 5 min"
    assert describe_pending(SNAPSHOT.get("8"), SNAPSHOT, "H100", now).startswith(
        "waiting behind higher-priority jobs — 1 job ahead")


def test_a_job_held_by_the_project_budget_is_recognised():
    held = SNAPSHOT.get("9")
    assert held.held_by_limit
    assert describe_pending(held, SNAPSHOT, "H100", 0) == \
        "held: the project's GPU-hour budget is exhausted (Slurm reason AssocGrpGRESMinutes)"


def test_jobs_of_this_hub_are_found_by_comment():
    assert sorted(j.job_id for j in SNAPSHOT.with_comment_prefix("factoryhub:test:")) == ["5", "7"]


def test_cluster_view_accounts_addresses_and_idle_gpus():
    view = parse_view(associations(), json.loads((FIXTURES / "sinfo-busy.json").read_text()))
    assert view.accounts_of("alice") == ("proj-climate", "sme-visionai")
    assert view.accounts_of("carol") == ("proj-genomics",)
    assert view.accounts_of("mallory") == ()
    assert view.node_addresses == {"vm": "127.0.0.1"}
    assert view.idle_gpus == {"h100": 0}  # all 4 GPUs allocated when recorded


def test_reservations_usable_by_their_users_or_accounts():
    from factoryhub.spawners.slurm.cluster import Reservation, parse_reservations

    [workshop] = parse_reservations((FIXTURES / "scontrol-reservations.txt").read_text())
    assert (workshop.name, workshop.state, workshop.users, workshop.accounts) == \
        ("workshop-1", "ACTIVE", ("alice", "bob"), ())
    view = parse_view(associations(), json.loads((FIXTURES / "sinfo-busy.json").read_text()),
                      (FIXTURES / "scontrol-reservations.txt").read_text())
    assert view.reservations_of("alice") == ("workshop-1",) and view.reservations_of("carol") == ()
    course = Reservation("course", "ACTIVE", (), ("proj-genomics",))
    assert course.usable_by("carol", ("proj-genomics",)) and not course.usable_by("alice", ("proj-climate",))
    assert not Reservation("later", "INACTIVE", ("alice",)).usable_by("alice", ())


def test_slurm_time_limits_in_hours():
    from factoryhub.spawners.slurm.cluster import parse_time_limit

    assert parse_time_limit("12:00:00") == 12
    assert parse_time_limit("1-00:00:00") == 24
    assert parse_time_limit("30:00") == 0.5
    assert parse_time_limit("2-06:30:00") == 54.5
    assert parse_time_limit("UNLIMITED") is None
    with pytest.raises(ValueError, match="not a Slurm time limit"):
        parse_time_limit("12h")


def test_profiles_are_bounded_by_the_partition_limit_slurm_reports():
    from factoryhub.site import Profile

    view = parse_view(associations(), {}, "", (FIXTURES / "scontrol-partitions.txt").read_text())
    assert view.partition_max_hours == {"gpu": 12, "cpu": 24}
    long = Profile(id="long", title="t", partition="gpu", gpus=1, gpu_type="h100",
                   default_walltime_hours=16, max_walltime_hours=48)
    bounded = view.bounded(long)
    assert (bounded.max_walltime_hours, bounded.default_walltime_hours) == (12, 12)
    short = long.model_copy(update={"default_walltime_hours": 1, "max_walltime_hours": 4})
    assert view.bounded(short) is short  # the site promises less than Slurm allows: kept
    unknown = long.model_copy(update={"partition": "elsewhere"})
    assert view.bounded(unknown) is unknown


def test_the_site_hides_reservations_by_pattern_or_all_of_them():
    from types import SimpleNamespace

    from factoryhub.spawners.slurm.cluster import Reservation
    from factoryhub.spawners.slurm.spawner import SlurmSessionSpawner

    view = parse_view(associations(), {})
    view = type(view)(view.accounts_by_user, reservations=tuple(
        Reservation(name, "ACTIVE", ("alice",)) for name in ("workshop-1", "maint-nov", "root_3")))
    alice = SimpleNamespace(name="alice")
    assert SlurmSessionSpawner(user=alice).offered_reservations(view) == ("workshop-1", "maint-nov", "root_3")
    hiding = SlurmSessionSpawner(user=alice, hidden_reservations=["maint*", "root_*"])
    assert hiding.offered_reservations(view) == ("workshop-1",)
    assert SlurmSessionSpawner(user=alice, offer_reservations=False).offered_reservations(view) == ()


class CountingClient:
    """Answers the cluster view's four queries; counts the refreshes."""

    def __init__(self):
        self.refreshes, self.users = 0, ["alice"]

    async def associations(self):
        self.refreshes += 1
        return [(u, "proj", "") for u in self.users]

    async def nodes(self):
        return {}

    async def reservations(self):
        return ""

    async def partitions(self):
        return ""


async def test_a_request_that_met_an_unknown_project_gets_a_view_begun_after_it_arrived():
    import asyncio

    from factoryhub.spawners.slurm.cluster import ClusterCache

    now = [100.0]
    client = CountingClient()
    cache = ClusterCache(client, ttl=30, clock=lambda: now[0])
    assert (await cache.view()).accounts_of("bob") == ()
    client.users.append("bob")  # bob joins a workshop: sacctmgr added him a moment ago
    now[0] += 0.1
    assert (await cache.view()).accounts_of("bob") == (), "within the TTL the cached view serves"
    arrived = now[0]
    now[0] += 0.1
    views = await asyncio.gather(*(cache.view(fresher_than=arrived) for _ in range(5)))
    assert all(v.accounts_of("bob") == ("proj",) for v in views)
    assert client.refreshes == 2, "one refresh serves every request waiting for it"
    assert (await cache.view(fresher_than=arrived)).accounts_of("bob") == ("proj",) and client.refreshes == 2
