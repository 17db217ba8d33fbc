"""GPU-hour allocations against the real cluster: accounting import, holds, refusals, Slurm limits."""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import re
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.hub import HubProcess, set_remaining_gpu_hours, wait_until
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.slurm

ACCOUNTS = ("proj-genomics", "sme-visionai")


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("quota-hub")
    site = edit_site(cluster_site(slurm_cluster, workdir),
                     lambda site: site["services"]["quota"].update(unregistered_accounts="refuse"))
    try:
        with HubProcess(workdir, site_file=site) as hub:
            hub.quota = f"{hub.url}/services/factoryhub-quota/api/v1"
            hub.tokens = {name: hub.api_token(name) for name in ("ops", "alice", "carol")}
            hub.tokens["hub-spawner"] = (hub.state_dir / "quota-sessions-token").read_text().strip()
            wait_until(lambda: requests.get(f"{hub.quota}/health", timeout=2).status_code == 200, 60, "quota")
            today = dt.date.today()
            for account, member in (("proj-genomics", "carol"), ("sme-visionai", "alice")):
                assert call(hub, "ops", "POST", "projects", json={
                    "account": account, "title": account, "members": [member]}).status_code == 201
                assert call(hub, "ops", "POST", f"projects/{account}/allocations", json={
                    "gpu_hours": 1000, "starts_on": (today - dt.timedelta(days=1)).isoformat(),
                    "ends_on": (today + dt.timedelta(days=30)).isoformat()}).status_code == 201
            yield hub
    finally:
        for account in ACCOUNTS:
            slurm_cluster.run("sacctmgr", "--immediate", "modify", "account", account, "set",
                              "GrpTRESMins=gres/gpu=-1", check=False)


def call(hub, who, method, path, **kw) -> requests.Response:
    return requests.request(method, f"{hub.quota}/{path}", headers={"Authorization": f"token {hub.tokens[who]}"},
                            timeout=60, **kw)


def project(hub, account) -> dict:
    return call(hub, "ops", "GET", f"projects/{account}").json()


def set_remaining(hub, account, gpu_hours, through_page=False):
    """Make the project's balance exactly ``gpu_hours`` whatever earlier tests used: through the
    API, or through the admin page's allocation form (login, OAuth, xsrf: what a browser sends)."""
    if not through_page:
        set_remaining_gpu_hours(hub.quota, hub.tokens["ops"], account, gpu_hours)
        return
    p = project(hub, account)
    allocated = p["allocated_gpu_hours"] - p["remaining_gpu_hours"] + gpu_hours
    allocation = p["allocations"][0]
    session = hub.login("ops")
    service = f"{hub.url}/services/factoryhub-quota/"
    page = session.get(f"{service}admin/projects/{account}", timeout=30).content.decode()
    token = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    resp = session.post(f"{service}admin/allocations/{allocation['id']}", timeout=30, data={
        "_xsrf": token, "gpu_hours": f"{allocated:.6f}", "starts_on": allocation["starts_on"],
        "ends_on": allocation["ends_on"], "cpu_hours": "0", "notes": "raised for the workshop"})
    assert resp.status_code == 200 and "Saved." in resp.content.decode(), resp.text[:500]


def finished(cluster, job_ids) -> list[tuple[int, int]]:
    """(GPUs, elapsed seconds) of each job, once accounting holds its final record."""
    out = cluster.run("sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "--format=State,End,Elapsed,AllocTRES").stdout
    rows = [line.split("|") for line in out.splitlines() if line]
    if len(rows) != len(job_ids) or any(r[0] != "COMPLETED" or r[1] in ("", "Unknown") for r in rows):
        return []
    result = []
    for row in rows:
        hours, minutes, seconds = (int(x) for x in row[2].split(":"))
        gpus = int(next(t.split("=")[1] for t in row[3].split(",") if t.startswith("gres/gpu=")))
        result.append((gpus, hours * 3600 + minutes * 60 + seconds))
    return result


def test_batch_jobs_outside_the_hub_are_imported_with_their_gpu_hours(hub, slurm_cluster):
    first = call(hub, "ops", "POST", "imports")
    assert first.status_code == 200, first.text
    before = project(hub, "proj-genomics")["used_gpu_hours"]
    jobs = [slurm_cluster.run("sbatch", "--parsable", "-A", "proj-genomics", "-p", "gpu", f"--gres=gpu:h100:{gpus}",
                              "-t", "5", "--chdir=/tmp", "--output=/dev/null", f"--wrap=sleep {seconds}",
                              user="carol").stdout.strip() for gpus, seconds in ((2, 6), (1, 3))]
    records = wait_until(lambda: finished(slurm_cluster, jobs), 120, "final accounting records", interval=1)
    assert [gpus for gpus, _ in records] == [2, 1] and all(e >= 3 for _, e in records)
    resp = call(hub, "ops", "POST", "imports")
    assert resp.status_code == 200, resp.text
    assert resp.json()["rows_changed"] >= 2, resp.text
    expected = sum(gpus * elapsed for gpus, elapsed in records) / 3600
    assert project(hub, "proj-genomics")["used_gpu_hours"] - before == pytest.approx(expected, abs=1e-6)
    assert call(hub, "ops", "POST", "imports").json()["rows_changed"] == 0  # a re-import changes nothing


def test_twenty_concurrent_holds_against_a_balance_for_three(hub):
    set_remaining(hub, "sme-visionai", 3.5)
    body = {"account": "sme-visionai", "username": "alice", "gpus": 1, "walltime_hours": 1, "price": 1}

    def hold(i):
        return call(hub, "hub-spawner", "POST", "holds", json={**body, "server_name": f"s{i}"})

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(hold, range(20)))
    granted = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 403]
    assert (len(granted), len(refused)) == (3, 17)
    assert all("0.50 GPU-hours left" in a.json()["message"] and "3.00 held by sessions" in a.json()["message"]
               for a in refused)
    for answer in granted:
        call(hub, "hub-spawner", "POST", f"holds/{answer.json()['hold_id']}/close", json={"ran": False})
    assert project(hub, "sme-visionai")["held_gpu_hours"] == 0
    # a user's own token cannot place holds
    assert call(hub, "alice", "POST", "holds", json=body).status_code == 403


def test_an_over_budget_spawn_is_refused_at_once_then_runs_after_the_allocation_grows(hub, slurm_cluster):
    set_remaining(hub, "sme-visionai", 2)
    alice = {"Authorization": f"token {hub.tokens['alice']}"}
    options = {"profile": "gpu-1", "account": "sme-visionai", "walltime_hours": 3}
    started = time.monotonic()
    resp = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60,
                         json={"user_options": options})
    assert resp.status_code == 403, resp.text
    assert "sme-visionai has 2.00 GPU-hours left" in resp.json()["message"]
    assert "may cost up to 3.00 GPU-hours" in resp.json()["message"]
    assert time.monotonic() - started < 10
    assert slurm_cluster.run("squeue", "--noheader", "--user=alice").stdout.strip() == ""

    set_remaining(hub, "sme-visionai", 10, through_page=True)  # as an admin does, in the hub page
    wait_until(lambda: slurm_budget(slurm_cluster, "sme-visionai") is not None, 30, "GrpTRESMins set")
    raw = slurm_raw(slurm_cluster, "sme-visionai")
    assert slurm_budget(slurm_cluster, "sme-visionai") == raw + 10 * 60
    resp = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60,
                         json={"user_options": options})
    assert resp.status_code in (201, 202), resp.text
    try:
        wait_until(lambda: requests.get(f"{hub.url}/hub/api/users/alice", headers=alice, timeout=10)
                   .json()["servers"].get("", {}).get("ready"), 120, "alice's session ready", interval=0.5)
        assert project(hub, "sme-visionai")["held_gpu_hours"] == pytest.approx(3, abs=0.01)
    finally:
        requests.delete(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60)
        wait_until(lambda: "" not in requests.get(f"{hub.url}/hub/api/users/alice", headers=alice, timeout=10)
                   .json()["servers"], 60, "alice's session stopped")


def slurm_budget(cluster, account) -> int | None:
    out = cluster.run("sacctmgr", "--noheader", "--parsable2", "show", "assoc", "where", f"account={account}",
                      "format=User,GrpTRESMins").stdout
    for line in out.splitlines():
        user, limits = line.split("|")
        if not user and "gres/gpu=" in limits:
            return int(limits.split("gres/gpu=")[1].split(",")[0])
    return None


def slurm_raw(cluster, account) -> int:
    out = cluster.run("sshare", "--noheader", "--parsable2", "-A", account, "-o", "Account,User,GrpTRESRaw").stdout
    for line in out.splitlines():
        acct, user, raw = line.split("|")
        if acct == account and not user:
            return int(raw.split("gres/gpu=")[1].split(",")[0])
    raise AssertionError(f"no sshare row for {account}")


def test_stopping_a_session_releases_its_hold_at_once(hub, slurm_cluster):
    """A 1-GPU, 1-hour session holds 1 GPU-hour; stopped after seconds, it has cost almost nothing.
    With 1.5 GPU-hours left, a new 1-hour session fits only if the stop settled the hold from the
    job's real run time (no accounting import happens in between: it runs every 300 s)."""
    alice = {"Authorization": f"token {hub.tokens['alice']}"}
    options = {"profile": "gpu-1", "account": "sme-visionai", "walltime_hours": 1}

    def state():
        return requests.get(f"{hub.url}/hub/api/users/alice", headers=alice, timeout=10).json()["servers"].get("")

    def stop():
        requests.delete(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60)
        wait_until(lambda: state() is None, 60, "alice's session stopped")

    set_remaining(hub, "sme-visionai", 1.5)
    try:
        first = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60,
                              json={"user_options": options})
        assert first.status_code in (201, 202), first.text
        wait_until(lambda: (state() or {}).get("ready"), 120, "alice's session ready", interval=0.5)
        assert project(hub, "sme-visionai")["held_gpu_hours"] == pytest.approx(1, abs=0.01)
        stop()
        after = project(hub, "sme-visionai")
        assert after["held_gpu_hours"] < 0.05, after  # seconds of one GPU, not the hour held
        again = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60,
                              json={"user_options": options})
        assert again.status_code in (201, 202), again.text
        wait_until(lambda: (state() or {}).get("ready"), 120, "alice's second session ready", interval=0.5)
    finally:
        if state() is not None:
            stop()


def scrape(hub, path: str) -> dict[tuple[str, tuple], float]:
    """The metrics page at ``path`` read with the metrics identity's token: {(sample name, labels): value}."""
    token = (hub.state_dir / "metrics-token").read_text().strip()
    resp = requests.get(f"{hub.url}{path}", headers={"Authorization": f"token {token}"}, timeout=30)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_slurm_session_an_import_and_a_refusal_show_in_the_metrics(hub, slurm_cluster):
    """Issue 18: after a spawn on Slurm, an accounting import and a refusal, the hub's scrape carries the
    spawn, queue wait, Slurm command and watcher metrics and the quota service's the import and refusal."""
    alice = {"Authorization": f"token {hub.tokens['alice']}"}
    hub_before, quota_before = scrape(hub, "/hub/metrics"), scrape(hub, "/services/factoryhub-quota/metrics")
    set_remaining(hub, "sme-visionai", 1.5)
    refused = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60,
                            json={"user_options": {"profile": "gpu-1", "account": "sme-visionai", "walltime_hours": 3}})
    assert refused.status_code == 403, refused.text
    started = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60,
                            json={"user_options": {"profile": "gpu-1", "account": "sme-visionai", "walltime_hours": 1}})
    assert started.status_code in (201, 202), started.text
    try:
        wait_until(lambda: requests.get(f"{hub.url}/hub/api/users/alice", headers=alice, timeout=10)
                   .json()["servers"].get("", {}).get("ready"), 120, "alice's session ready", interval=0.5)
    finally:
        requests.delete(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60)
        wait_until(lambda: "" not in requests.get(f"{hub.url}/hub/api/users/alice", headers=alice, timeout=10)
                   .json()["servers"], 60, "alice's session stopped")
    assert call(hub, "ops", "POST", "imports").status_code == 200

    hub_after, quota_after = scrape(hub, "/hub/metrics"), scrape(hub, "/services/factoryhub-quota/metrics")

    def grew(before, after, name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    spawns = "factoryhub_spawn_duration_seconds_count"
    assert grew(hub_before, hub_after, spawns, profile="gpu-1", outcome="started") == 1
    assert grew(hub_before, hub_after, spawns, profile="gpu-1", outcome="refused") == 1
    assert grew(hub_before, hub_after, "factoryhub_queue_wait_seconds_count", partition="gpu") == 1
    assert grew(hub_before, hub_after, "factoryhub_slurm_command_duration_seconds_count", command="sbatch") >= 1
    assert grew(hub_before, hub_after, "factoryhub_slurm_command_duration_seconds_count", command="squeue") >= 1
    assert 0 <= hub_after["factoryhub_watcher_tick_age_seconds", ()] < 30
    assert grew(quota_before, quota_after, "factoryhub_quota_refusals_total") == 1
    assert grew(quota_before, quota_after, "factoryhub_quota_import_duration_seconds_count") >= 1
    lags = {labels: v for (name, labels), v in quota_after.items() if name == "factoryhub_quota_import_lag_seconds"}
    assert lags and all(0 <= lag < 120 for lag in lags.values()), lags  # just imported: the ledger is current
    assert quota_after["factoryhub_quota_holds_outstanding", ()] == 0  # the session's hold was settled
