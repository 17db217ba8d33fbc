"""Workshops against the real cluster: made in one action, joined by institutional users and pool
accounts, sessions in the reservation charged to the training account with the course material,
the trainer's dashboard and actions, the end that removes everything, and every refusal."""
from __future__ import annotations

import concurrent.futures
import datetime as dt
from pathlib import Path

import pytest
import requests

from tests.harness.course_repo import CourseRepo
from tests.harness.hub import HubProcess, register_project, wait_until
from tests.harness.workshops import (
    POOL,
    SERVICE,
    call,
    end_leftover_reservations,
    post_pool_login,
    workshop_body,
    workshops_site,
)
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.slurm

INSTITUTIONAL = ("alice", "bob", "carol", "tom")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    repo = CourseRepo(tmp_path_factory.mktemp("course"))
    yield repo
    repo.close()


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workshops-hub")
    site = edit_site(cluster_site(slurm_cluster, workdir), workshops_site)
    with HubProcess(workdir, site_file=site, extra_args=["--Spawner.poll_interval=5"]) as hub:
        hub.tokens = {name: hub.api_token(name) for name in ("ops", "tina", "tom", "alice", "bob", "carol")}
        register_project(hub, hub.tokens["ops"], ["tina", "tom"], 40, account="proj-training")
        wait_until(lambda: requests.get(f"{hub.url}{SERVICE}/api/v1/health", timeout=2).ok, 60, "workshops service")
        try:
            yield hub
        finally:
            end_leftover_reservations(slurm_cluster)


def reservation(cluster, name) -> str:
    return cluster.run("scontrol", "--oneliner", "show", "reservation", name, check=False).stdout


def jobs_of_account(cluster, account) -> list[dict]:
    out = cluster.run("squeue", "--noheader", f"--account={account}", "--format=%u|%a|%v|%T|%i").stdout
    return [dict(zip(("user", "account", "reservation", "state", "job"), line.split("|"), strict=True))
            for line in out.splitlines() if line]


def pool_login(hub, username, password) -> requests.Session:
    resp = post_pool_login(hub, username, password)
    assert resp.status_code == 302, resp.text[:300]
    return resp.session


def board(hub, workshop_id) -> dict[str, dict]:
    resp = call(hub, "tina", "GET", f"workshops/{workshop_id}/participants")
    assert resp.ok, resp.text
    return {row["username"]: row for row in resp.json()["participants"]}


def sacct_gpu_hours(cluster, account) -> float:
    out = cluster.run("sacct", "-X", "-n", "-P", f"--accounts={account}", "--starttime=now-1days",
                      "--format=ElapsedRaw,AllocTRES").stdout
    total = 0
    for line in out.splitlines():
        elapsed, tres = line.split("|")
        gpus = next((int(t.split("=")[1]) for t in tres.split(",") if t.startswith("gres/gpu=")), 0)
        total += gpus * int(elapsed)
    return total / 3600


def home(user) -> Path:
    return Path(f"/home/{user}")


def test_a_ten_seat_workshop_from_creation_to_its_end(hub, slurm_cluster, course):
    # the trainer makes it in one action: a reservation Slurm shows, for the training account
    made = call(hub, "tina", "POST", "workshops", json=workshop_body(slurm_cluster, course))
    assert made.status_code == 201, made.text
    workshop = made.json()
    wid, account = workshop["id"], workshop["account"]
    shown = reservation(slurm_cluster, f"ws-{wid}")
    assert f"Accounts={account}" in shown and f"Nodes={slurm_cluster.node}" in shown, shown
    codes = [c["code"] for c in workshop["codes"]]
    assert len(codes) == 10

    # ten participants join: four with their own login, six with pool accounts
    for who, code in zip(INSTITUTIONAL, codes, strict=False):
        hub.tokens.setdefault(who, hub.api_token(who))
        joined = call(hub, who, "POST", "join", json={"code": code})
        assert joined.status_code == 201, joined.text
    pool = {}
    for n, code in enumerate(codes[4:]):
        joined = call(hub, None, "POST", "pool-joins", json={"code": code, "display_name": f"Guest {n}"})
        assert joined.status_code == 201, joined.text
        pool[joined.json()["username"]] = joined.json()["password"]
    assert set(pool) == set(POOL[:6])
    participants = [*INSTITUTIONAL, *pool]
    assert pool_login(hub, "train01", pool["train01"]).get(f"{hub.url}/hub/home", timeout=10).ok

    # refusals, each with its message: a used code (the 11th person), twice, an unknown code
    again = call(hub, None, "POST", "pool-joins", json={"code": codes[0]})
    assert again.status_code == 409 and "already been used" in again.json()["message"]
    twice = call(hub, "alice", "POST", "join", json={"code": codes[1]})
    assert twice.status_code == 409 and "already" in twice.json()["message"]
    assert call(hub, None, "POST", "pool-joins", json={"code": "Unknown234567"}).status_code == 404

    # the trainer starts everyone's session at once: all in the reservation, on the training account
    started = call(hub, "tina", "POST", f"workshops/{wid}/sessions", json={"action": "start"})
    assert started.ok and set(started.json()["results"]) == set(participants), started.text
    jobs = wait_until(lambda: len(found := jobs_of_account(slurm_cluster, account)) == 10 and found, 120,
                      "ten jobs in the queue")
    assert {j["user"] for j in jobs} == set(participants)
    assert all(j["reservation"] == f"ws-{wid}" and j["account"] == account for j in jobs), jobs

    # four GPUs: four run, six wait; the dashboard says which and why. Stopping one lets the next start,
    # until every participant's session has run and pulled the course material into their home
    ran: set[str] = set()

    def progress():
        rows = board(hub, wid)
        running = {u for u, r in rows.items() if r["state"] == "running"}
        pending = {u: r["reason"] for u, r in rows.items() if r["state"] == "pending"}
        assert all(pending.values()), pending
        for user in running - ran:
            assert rows[user]["node"] == slurm_cluster.node
            assert (home(user) / course_dir(wid) / "README.md").exists(), f"{user}'s course material"
            ran.add(user)
            if len(ran) < 10:
                stopped = call(hub, "tina", "DELETE", f"workshops/{wid}/participants/{user}/session")
                assert stopped.status_code == 202, stopped.text
        return len(ran) == 10

    wait_until(progress, 420, "every participant's session ran", interval=2)

    # a broadcast reaches participants (JupyterLab shows it: tests/browser/test_workshop_in_browser.py)
    sent = call(hub, "tina", "POST", f"workshops/{wid}/broadcasts", json={"text": "Break until 14:00"})
    assert sent.status_code == 201
    assert [m["text"] for m in call(hub, "alice", "GET", "messages").json()["messages"]] == ["Break until 14:00"]

    # the trainer stops all, then ends the workshop: nothing of it is left but the report
    assert call(hub, "tina", "POST", f"workshops/{wid}/sessions", json={"action": "stop"}).ok
    ended = call(hub, "tina", "POST", f"workshops/{wid}/end")
    assert ended.ok, ended.text
    report = ended.json()
    assert reservation(slurm_cluster, f"ws-{wid}") == "" or "not found" in reservation(slurm_cluster, f"ws-{wid}")
    assert requests.get(f"{hub.url}/hub/api/groups/workshop-{wid}", timeout=10,
                        headers={"Authorization": f"token {hub.tokens['ops']}"}).status_code == 404
    assert not slurm_cluster.run("sacctmgr", "--noheader", "--parsable2", "show", "account", account).stdout.strip()
    for user in pool:
        assert not list(home(user).iterdir()), f"{user}'s home is cleaned for the next participant"
        assert requests.get(f"{hub.url}/hub/api/users/{user}", timeout=10,
                            headers={"Authorization": f"token {hub.tokens['ops']}"}).status_code == 404
    assert (home("alice") / course_dir(wid) / "README.md").exists(), "an institutional user keeps their files"
    assert {r["username"] for r in report["participants"]} == set(participants)
    assert report["total_gpu_hours"] == pytest.approx(sacct_gpu_hours(slurm_cluster, account), abs=1e-3)
    assert report["total_gpu_hours"] > 0 and report["total_sessions"] >= 10
    # a late participant learns that the workshop has ended; the pool accounts are free again
    late = call(hub, None, "POST", "pool-joins", json={"code": codes[3]})
    assert late.status_code == 410 and "ended" in late.json()["message"]
    second = call(hub, "tina", "POST", "workshops", json=workshop_body(slurm_cluster, course, seats=1, nodes=""))
    assert second.status_code == 201, second.text
    lent = call(hub, None, "POST", "pool-joins", json={"code": second.json()["codes"][0]["code"]})
    assert lent.json()["username"] == "train01", "the cleaned pool account is lent again"
    assert call(hub, "tina", "POST", f"workshops/{second.json()['id']}/end").ok


def course_dir(workshop_id: str) -> str:
    return workshop_id[:40]


def test_refusals_make_nothing(hub, slurm_cluster, course):
    ops = {"Authorization": f"token {hub.tokens['ops']}"}

    def nothing_made(wid):
        assert not slurm_cluster.run("sacctmgr", "--noheader", "--parsable2", "show", "account",
                                     f"ws-{wid}").stdout.strip()
        assert requests.get(f"{hub.url}/hub/api/groups/workshop-{wid}", headers=ops, timeout=10).status_code == 404
        assert "ws-" + wid not in slurm_cluster.run("scontrol", "--oneliner", "show", "reservation").stdout

    over = workshop_body(slurm_cluster, course, budget_gpu_hours=1000)
    resp = call(hub, "tina", "POST", "workshops", json=over)
    assert resp.status_code == 409 and resp.json()["field"] == "budget_gpu_hours", resp.text
    nothing_made(over["id"])

    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    slurm_cluster.run("scontrol", "create", "reservation", "ReservationName=maint-workshop-test",
                      f"StartTime={(start + dt.timedelta(hours=1)).astimezone().strftime('%Y-%m-%dT%H:%M:%S')}",
                      "Duration=120", "Nodes=ALL", "Users=root", "Flags=MAINT,IGNORE_JOBS")
    try:
        clash = workshop_body(slurm_cluster, course, starts_at=start.isoformat(),
                              ends_at=(start + dt.timedelta(hours=3)).isoformat())
        resp = call(hub, "tina", "POST", "workshops", json=clash)
        assert resp.status_code == 409 and "maint-workshop-test" in resp.json()["message"], resp.text
        nothing_made(clash["id"])
    finally:
        slurm_cluster.run("scontrol", "delete", "ReservationName=maint-workshop-test", check=False)

    # a trainer acts only on their own workshop's participants
    mine = call(hub, "tina", "POST", "workshops", json=workshop_body(slurm_cluster, course, seats=2, nodes=""))
    assert mine.status_code == 201, mine.text
    wid, code = mine.json()["id"], mine.json()["codes"][0]["code"]
    assert call(hub, "carol", "POST", "join", json={"code": code}).status_code == 201
    for method, path in (("GET", f"workshops/{wid}"), ("GET", f"workshops/{wid}/participants"),
                         ("DELETE", f"workshops/{wid}/participants/carol/session"),
                         ("POST", f"workshops/{wid}/end")):
        refused = call(hub, "tom", method, path)
        assert refused.status_code == 403 and "not yours" in refused.json()["message"], (path, refused.text)
    not_in_it = call(hub, "tina", "POST", f"workshops/{wid}/participants/bob/session")
    assert not_in_it.status_code == 403 and "not a participant" in not_in_it.json()["message"]
    assert call(hub, "alice", "POST", "workshops", json=workshop_body(slurm_cluster, course)).status_code == 403
    assert call(hub, "tina", "POST", f"workshops/{wid}/end").ok


def test_a_workshop_whose_time_is_up_ends_by_itself(hub, slurm_cluster, course):
    now = dt.datetime.now(dt.UTC)
    body = workshop_body(slurm_cluster, course, seats=1, ends_at=(now + dt.timedelta(seconds=20)).isoformat())
    made = call(hub, "tina", "POST", "workshops", json=body)
    assert made.status_code == 201, made.text
    code = made.json()["codes"][0]["code"]
    lent = call(hub, None, "POST", "pool-joins", json={"code": code})
    assert lent.status_code == 201, lent.text
    user = lent.json()["username"]

    def ended():
        return call(hub, "tina", "GET", f"workshops/{body['id']}").json()["state"] == "ended"

    wait_until(ended, 180, "the workshop ended by itself", interval=1)
    assert f"ws-{body['id']}" not in slurm_cluster.run("scontrol", "--oneliner", "show", "reservation").stdout
    assert requests.get(f"{hub.url}/hub/api/users/{user}", timeout=10,
                        headers={"Authorization": f"token {hub.tokens['ops']}"}).status_code == 404
    assert post_pool_login(hub, user, lent.json()["password"]).status_code == 403, "the login ends with the workshop"


def test_concurrent_pool_joins_never_lend_one_account_twice(hub, slurm_cluster, course):
    made = call(hub, "tina", "POST", "workshops", json=workshop_body(slurm_cluster, course, seats=8, nodes=""))
    assert made.status_code == 201, made.text
    codes = [c["code"] for c in made.json()["codes"]]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda code: call(hub, None, "POST", "pool-joins", json={"code": code}), codes))
    lent = [a.json()["username"] for a in answers if a.status_code == 201]
    assert len(lent) == len(set(lent)) and len(lent) >= 1
    assert all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
    assert call(hub, "tina", "POST", f"workshops/{made.json()['id']}/end").ok
