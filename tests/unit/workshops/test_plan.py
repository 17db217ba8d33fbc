"""The pure decisions: hostlists, reservations, maintenance clashes, budgets, join checks, request bodies."""
from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from factoryhub.spawners.slurm.cluster import Reservation
from factoryhub.workshops import plan
from factoryhub.workshops.schemas import WorkshopCreate

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("window, nodes, clash", [
    ((T0, T0 + dt.timedelta(hours=2)), {"node1"}, True),
    ((T0, T0 + dt.timedelta(hours=1)), {"node1"}, False),   # ends as maintenance begins
    ((T0, T0 + dt.timedelta(hours=2)), {"node9"}, False),   # other nodes
    ((T0, T0 + dt.timedelta(hours=2)), set(), True),        # no reservation: sessions may land anywhere
])
def test_maintenance_clashes(window, nodes, clash):
    maint = Reservation("maint", "INACTIVE", starts_at=T0 + dt.timedelta(hours=1), ends_at=T0 + dt.timedelta(hours=3),
                        nodes=frozenset({"node1"}), flags=frozenset({"MAINT"}))
    other = Reservation("course", "ACTIVE", starts_at=T0, ends_at=T0 + dt.timedelta(hours=3),
                        nodes=frozenset({"node1"}))
    undated = Reservation("undated", "INACTIVE", nodes=frozenset({"node1"}), flags=frozenset({"MAINT"}))
    assert bool(plan.maintenance_conflicts([maint, other, undated], *window, nodes)) is clash


def test_a_maintenance_whose_hosts_were_unreadable_clashes_with_every_node():
    unreadable = Reservation("maint", "INACTIVE", starts_at=T0, ends_at=T0 + dt.timedelta(hours=1), nodes=None,
                             flags=frozenset({"MAINT"}))
    assert plan.maintenance_conflicts([unreadable], T0, T0 + dt.timedelta(hours=2), {"node9"}) == [unreadable]


def test_the_reservation_argv_is_whole_nodes_for_the_account_in_local_time():
    zone = dt.timezone(dt.timedelta(hours=1))
    argv = plan.reservation_create_argv("scontrol", "ws-x", "ws-x", "node1", T0, T0 + dt.timedelta(hours=2), zone,
                                        now=T0 - dt.timedelta(days=1))
    assert argv == ["scontrol", "create", "reservation", "ReservationName=ws-x", "StartTime=2026-12-04T11:00:00",
                    "EndTime=2026-12-04T13:00:00", "Nodes=node1", "Accounts=ws-x", "Flags=IGNORE_JOBS"]
    begun = plan.reservation_create_argv("scontrol", "ws-x", "ws-x", "node1", T0, T0 + dt.timedelta(hours=2), zone,
                                         now=T0 + dt.timedelta(minutes=1))
    assert "StartTime=now" in begun


def test_the_budget_left_counts_the_projects_other_open_workshops():
    assert plan.available_budget_hours(100, [30, 20.5]) == 49.5


def test_codes_are_unique_and_unambiguous():
    codes = plan.new_codes(200)
    assert len(set(codes)) == 200 and all(len(c) == plan.CODE_LENGTH for c in codes)
    assert not set("".join(codes)) & set("0O1lI")


def test_active_from_a_little_before_the_start_until_the_end():
    end = T0 + dt.timedelta(hours=2)
    assert plan.is_active(T0, end, T0 - dt.timedelta(minutes=10))
    assert not plan.is_active(T0, end, T0 - dt.timedelta(minutes=20)) and not plan.is_active(T0, end, end)


BODY = {"id": "gpu-intro", "title": "GPU intro", "starts_at": "2026-12-04T10:00:00+01:00",
        "ends_at": "2026-12-04T16:00:00+01:00", "seats": 10, "profile": "gpu-1", "budget_gpu_hours": 20,
        "trainer_account": "proj", "course_repo": "https://git.example.eu/c.git"}


@pytest.mark.parametrize("changes, field", [
    ({"starts_at": "2026-12-04T10:00:00"}, "starts_at"),           # no time zone
    ({"ends_at": "2026-12-04T09:00:00+01:00"}, "ends_at"),         # before the start
    ({"ends_at": "2027-02-04T09:00:00+01:00"}, "ends_at"),         # more than 31 days
    ({"seats": 0}, "seats"), ({"seats": 501}, "seats"), ({"seats": "10"}, "seats"),
    ({"id": "A-b"}, "id"), ({"id": "x"}, "id"),
    ({"course_repo": "ssh://host/repo; rm -rf ~"}, "course_repo"),
    ({"course_repo": "https://host/repo\nX"}, "course_repo"),
    ({"course_branch": "-x"}, "course_branch"), ({"course_branch": "a..b"}, "course_branch"),
    ({"nodes": "node1; reboot"}, "nodes"), ({"budget_gpu_hours": 0}, "budget_gpu_hours"),
    ({"nodes": "node[0-99999999999]"}, "nodes"), ({"nodes": "node[5-]"}, "nodes"),
    ({"idle_timeout_minutes": 1}, "idle_timeout_minutes"), ({"extra": 1}, "extra"),
])
def test_bad_bodies_are_refused_naming_the_field(changes, field):
    import json

    from factoryhub.webservice import ApiError, read_body

    with pytest.raises(ApiError) as refused:
        read_body(json.dumps({**BODY, **changes}).encode(), WorkshopCreate)
    assert refused.value.field in (field, "body") and field in refused.value.message


def test_a_good_body_is_read_in_utc():
    body = WorkshopCreate.model_validate(BODY)
    assert body.starts_at == dt.datetime(2026, 12, 4, 9, 0, tzinfo=UTC) and body.course_branch == "main"
    with pytest.raises(ValidationError):
        WorkshopCreate.model_validate({**BODY, "title": "   "})


async def test_an_accounts_jobs_are_filtered_here_because_squeue_json_ignores_the_filter():
    from factoryhub.workshops.slurm_ops import TrainingSlurm

    class Client:
        def _exe(self, name):
            return name

        async def run_json(self, argv):
            return {"jobs": [
                {"job_id": 1, "account": "ws-a", "job_state": "RUNNING", "user_name": "ada"},
                {"job_id": 2, "account": "proj-x", "job_state": "PENDING", "user_name": "carol"},
                {"job_id": 3, "account": "ws-a", "job_state": "CANCELLED", "user_name": "bea"}]}

    jobs = await TrainingSlurm(Client(), dt.UTC).jobs_of("ws-a")
    assert [j["job_id"] for j in jobs] == [1]
