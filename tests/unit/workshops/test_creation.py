"""Creating a workshop: all or nothing, and every refusal before anything is made."""
from __future__ import annotations

import datetime as dt

import pytest

from factoryhub.spawners.slurm.cluster import Reservation
from factoryhub.workshops import creation
from factoryhub.workshops.models import JoinCode, Workshop, WorkshopState
from factoryhub.workshops.schemas import WorkshopCreate

from .fakes import NOW, make_parts


def request(**changes) -> WorkshopCreate:
    data = {"id": "gpu-intro", "title": "GPU intro", "starts_at": (NOW + dt.timedelta(hours=1)).isoformat(),
            "ends_at": (NOW + dt.timedelta(hours=5)).isoformat(), "seats": 3, "profile": "gpu-1",
            "budget_gpu_hours": 20, "trainer_account": "trainers-proj",
            "course_repo": "http://git.example.eu/course.git", "nodes": "node1", **changes}
    return WorkshopCreate.model_validate(data)


async def test_a_workshop_is_made_with_every_part_and_a_code_per_seat(tmp_path):
    parts, slurm, hub, quota = make_parts(tmp_path)
    workshop = await creation.create(parts, request(), "tina", is_admin=False)
    assert workshop.state == WorkshopState.ready
    assert slurm.accounts["ws-gpu-intro"] == "trainers-proj"
    assert ("tina", "ws-gpu-intro") in slurm.associations
    assert slurm.made_reservations["ws-gpu-intro"]["nodes"] == "node1"
    posted = [(m, p) for m, p, _b in quota.calls if m == "POST"]
    assert posted == [("POST", "/projects"), ("POST", "/projects/ws-gpu-intro/allocations")]
    assert ("POST", "/groups/workshop-gpu-intro", None) in hub.calls
    properties = next(b for m, p, b in hub.calls if p.endswith("/properties"))["factoryhub_workshop"]
    assert properties["account"] == "ws-gpu-intro" and properties["reservation"] == "ws-gpu-intro"
    assert properties["profile"] == "gpu-1" and properties["course_repo"].endswith("course.git")
    with parts.db.read() as session:
        codes = session.query(JoinCode).filter_by(workshop_id="gpu-intro").all()
    assert len(codes) == 3 and len({c.code for c in codes}) == 3


async def test_no_reservation_is_made_without_nodes(tmp_path):
    parts, slurm, hub, quota = make_parts(tmp_path)
    workshop = await creation.create(parts, request(nodes=""), "tina", is_admin=False)
    assert workshop.reservation is None and not slurm.made_reservations


@pytest.mark.parametrize("failing, undone", [
    (("slurm", "create_reservation"), ["the training project", "the Slurm account"]),
    (("hub", ("POST", "/groups/workshop-gpu-intro")), ["the node reservation", "the training project",
                                                        "the Slurm account"]),
    (("quota", ("POST", "/projects/ws-gpu-intro/allocations")), ["the training project", "the Slurm account"]),
    (("slurm", "add_account"), []),
])
async def test_a_part_that_fails_undoes_the_others_and_says_what_failed(tmp_path, failing, undone):
    parts, slurm, hub, quota = make_parts(tmp_path)
    target, operation = failing
    {"slurm": slurm, "hub": hub, "quota": quota}[target].fail_on.add(operation)
    with pytest.raises(creation.Refused) as refused:
        await creation.create(parts, request(), "tina", is_admin=False)
    assert refused.value.status == 502 and "failed" in refused.value.message
    for part in undone:
        assert part in refused.value.message
    assert "ws-gpu-intro" not in slurm.accounts and not slurm.made_reservations
    assert ("tina", "ws-gpu-intro") not in slurm.associations
    if "the training project" in undone:
        assert ("DELETE", "/projects/ws-gpu-intro", None) in quota.calls
    with parts.db.read() as session:
        row = session.get(Workshop, "gpu-intro")
        assert row.state == WorkshopState.failed and row.made == [] and not session.query(JoinCode).all()


async def test_what_could_not_be_undone_is_named(tmp_path):
    parts, slurm, hub, quota = make_parts(tmp_path)
    hub.fail_on.add(("PUT", "/groups/workshop-gpu-intro/properties"))
    hub.fail_on.add(("DELETE", "/groups/workshop-gpu-intro"))
    with pytest.raises(creation.Refused) as refused:
        await creation.create(parts, request(), "tina", is_admin=False)
    assert "Could not undo: the hub group" in refused.value.message
    with parts.db.read() as session:
        assert session.get(Workshop, "gpu-intro").made == ["hub-group"]


async def test_a_budget_beyond_the_trainers_project_is_refused_before_anything_is_made(tmp_path):
    parts, slurm, hub, quota = make_parts(tmp_path)
    await creation.create(parts, request(id="first", budget_gpu_hours=70), "tina", is_admin=False)
    calls = len(slurm.calls)
    with pytest.raises(creation.Refused) as refused:
        await creation.create(parts, request(budget_gpu_hours=40), "tina", is_admin=False)
    assert refused.value.status == 409 and refused.value.field == "budget_gpu_hours"
    assert "30.00 GPU-hours left" in refused.value.message
    assert [c[0] for c in slurm.calls[calls:]] == []  # not even Slurm was asked


async def test_a_window_overlapping_maintenance_is_refused(tmp_path):
    parts, slurm, hub, quota = make_parts(tmp_path)
    slurm.maintenance.append(Reservation("maint-dec", "INACTIVE", starts_at=NOW + dt.timedelta(hours=4),
                                         ends_at=NOW + dt.timedelta(hours=8), nodes=frozenset({"node1"}),
                                         flags=frozenset({"MAINT", "IGNORE_JOBS"})))
    with pytest.raises(creation.Refused) as refused:
        await creation.create(parts, request(), "tina", is_admin=False)
    assert refused.value.status == 409 and "maint-dec" in refused.value.message
    assert "ws-gpu-intro" not in slurm.accounts
    with parts.db.read() as session:
        assert session.get(Workshop, "gpu-intro") is None


@pytest.mark.parametrize("changes, field", [
    ({"profile": "huge"}, "profile"),
    ({"trainer_account": "someone-elses"}, "trainer_account"),
])
async def test_refusals_name_the_field(tmp_path, changes, field):
    parts, _slurm, _hub, quota = make_parts(tmp_path)
    quota.on("GET", "/projects/someone-elses", {"members": ["bob"], "remaining_gpu_hours": 500})
    with pytest.raises(creation.Refused) as refused:
        await creation.create(parts, request(**changes), "tina", is_admin=False)
    assert refused.value.field == field


async def test_an_id_is_never_reused(tmp_path):
    parts, *_ = make_parts(tmp_path)
    await creation.create(parts, request(budget_gpu_hours=1), "tina", is_admin=False)
    with pytest.raises(creation.Refused) as refused:
        await creation.create(parts, request(budget_gpu_hours=1), "tina", is_admin=False)
    assert refused.value.status == 409 and refused.value.field == "id"
