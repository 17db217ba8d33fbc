"""Joining with a seat's code: as oneself or with a pool account; every refusal leaves nothing half-made."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from factoryhub.workshops import creation, joining
from factoryhub.workshops.models import JoinCode, Participant, PoolLease
from factoryhub.workshops.plan import JoinRefusal

from .fakes import NOW, make_parts
from .test_creation import request


async def made(tmp_path, seats=3, pool=("train01", "train02")):
    parts, slurm, hub, quota = make_parts(tmp_path, pool)
    await creation.create(parts, request(seats=seats), "tina", is_admin=False)
    with parts.db.read() as session:
        codes = [c.code for c in session.query(JoinCode).order_by(JoinCode.code)]
    return parts, slurm, hub, quota, codes


async def test_an_institutional_user_joins_the_group_account_and_project(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    joined = await joining.join(parts, codes[0], "alice")
    assert joined.username == "alice" and joined.password is None
    assert ("POST", "/groups/workshop-gpu-intro/users", {"users": ["alice"]}) in hub.calls
    assert ("alice", "ws-gpu-intro") in slurm.associations
    assert ("PUT", "/projects/ws-gpu-intro/members/alice", None) in quota.calls


async def test_a_pool_seat_lends_a_free_account_with_a_password_that_logs_in_until_the_end(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    first = await joining.join(parts, codes[0], None, "Ada")
    second = await joining.join(parts, codes[1], None, "Bea")
    assert (first.username, second.username) == ("train01", "train02")
    assert ("POST", "/users/train01", None) in hub.calls
    assert joining.check_pool_login(parts, "train01", first.password)["workshop"] == "gpu-intro"
    assert joining.check_pool_login(parts, "train01", second.password) is None
    with parts.db.read() as session:
        assert first.password not in session.get(PoolLease, "train01").password_hash
    parts.clock = lambda: NOW + dt.timedelta(hours=5)  # the workshop's end
    assert joining.check_pool_login(parts, "train01", first.password) is None
    with pytest.raises(JoinRefusal) as refused:  # no third pool account
        parts.clock = lambda: NOW
        await joining.join(parts, codes[2], None)
    assert refused.value.reason == "no_pool_account"


@pytest.mark.parametrize("case", ["unknown", "reused", "twice", "expired"])
async def test_refusals_have_a_reason_and_change_nothing(tmp_path, case):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    await joining.join(parts, codes[0], "alice")
    code, user = {"unknown": ("Nope12345678", "bob"), "reused": (codes[0], "bob"), "twice": (codes[1], "alice"),
                  "expired": (codes[1], "bob")}[case]
    if case == "expired":
        parts.clock = lambda: NOW + dt.timedelta(hours=6)
    before = (len(hub.calls), set(slurm.associations))
    with pytest.raises(JoinRefusal) as refused:
        await joining.join(parts, code, user)
    assert refused.value.reason == {"unknown": "unknown_code", "reused": "code_used", "twice": "already_joined",
                                    "expired": "expired"}[case]
    assert (len(hub.calls), set(slurm.associations)) == before
    with parts.db.read() as session:
        assert session.query(Participant).count() == 1


async def test_the_seat_after_the_last_is_refused(tmp_path):
    parts, *_rest, codes = await made(tmp_path, seats=2)
    await joining.join(parts, codes[0], "alice")
    await joining.join(parts, codes[1], "bob")
    with parts.db.write() as session:  # a third code (as if one were added), the seats still two
        session.add(JoinCode(code="Extra2345678", workshop_id="gpu-intro"))
    with pytest.raises(JoinRefusal) as refused:
        await joining.join(parts, "Extra2345678", "carol")
    assert refused.value.reason == "full" and "2 seats" in refused.value.message


async def test_two_people_with_one_code_at_once_cannot_both_join(tmp_path):
    parts, *_rest, codes = await made(tmp_path)
    results = await asyncio.gather(joining.join(parts, codes[0], "alice"), joining.join(parts, codes[0], "bob"),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["JoinRefusal", "Joined"]


@pytest.mark.parametrize("failing", ["slurm", "hub"])
async def test_a_join_that_fails_part_way_gives_the_seat_back(tmp_path, failing):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    if failing == "slurm":
        slurm.fail_on.add("add_user")
    else:
        hub.fail_on.add(("POST", "/groups/workshop-gpu-intro/users"))
    with pytest.raises(JoinRefusal) as refused:
        await joining.join(parts, codes[0], None, "Ada")
    assert refused.value.status == 502
    assert ("train01", "ws-gpu-intro") not in slurm.associations
    with parts.db.read() as session:
        assert session.get(JoinCode, codes[0]).used_by is None
        assert session.query(Participant).count() == 0 and session.query(PoolLease).count() == 0
    slurm.fail_on.clear()
    hub.fail_on.clear()
    assert (await joining.join(parts, codes[0], None, "Ada")).username == "train01"


def test_password_hashes_are_salted_and_checked_in_constant_time():
    one, two = joining.hash_password("secret"), joining.hash_password("secret")
    assert one != two and joining.password_matches("secret", one) and not joining.password_matches("Secret", one)
    assert not joining.password_matches("secret", "garbage")


async def test_a_lent_pool_account_cannot_take_a_seat_of_another_workshop_as_itself(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    await joining.join(parts, codes[0], None, "Ada")  # train01
    with pytest.raises(JoinRefusal) as refused:
        await joining.join(parts, codes[1], "train01")
    assert refused.value.status == 403 and refused.value.reason == "pool_account"


async def test_a_pool_seat_where_the_site_lends_no_accounts_is_refused_with_nothing_taken(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path, pool=())
    with pytest.raises(JoinRefusal) as refused:
        await joining.join(parts, codes[0], None, "Ada")
    assert refused.value.status == 409 and "lends no training accounts" in refused.value.message
    with parts.db.read() as session:
        assert session.get(JoinCode, codes[0]).used_by is None
