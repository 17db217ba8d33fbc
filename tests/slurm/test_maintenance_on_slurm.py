"""A Slurm maintenance reservation (FLAGS=MAINT) made with scontrol: the spawn page and every hub
page's announcements show its window, a walltime that crosses it is warned about (and Slurm really
holds such a job), one that ends before it is not.
The cluster is shared: the reservation starts 8 h ahead, so other tests' short jobs run."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from factoryhub.spawners.maintenance import when
from factoryhub.spawners.slurm.cluster import parse_reservations
from tests.harness.hub import HubProcess, wait_until
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.slurm

USER = "carol"
LONG = {"id": "cpu-long", "title": "CPU, up to 12 h", "partition": "cpu", "cpus": 1, "memory_gb": 1,
        "default_walltime_hours": 1, "max_walltime_hours": 12}


@pytest.fixture(scope="module")
def maintenance(slurm_cluster):
    """Every node reserved for maintenance an hour long, 8 h from now; as scontrol reports it."""
    name = f"fh-maint-{uuid.uuid4().hex[:8]}"
    slurm_cluster.run("scontrol", "create", "reservation", f"reservationname={name}", "starttime=now+8hours",
                      "duration=60", "nodes=ALL", "flags=maint", "users=root")
    try:
        [reservation] = parse_reservations(
            slurm_cluster.run("scontrol", "--oneliner", "show", "reservation", name).stdout)
        yield reservation
    finally:
        slurm_cluster.run("scontrol", "delete", f"reservationname={name}", check=False)


@pytest.fixture(scope="module")
def hub(slurm_cluster, maintenance, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("maintenance-hub")
    site = edit_site(cluster_site(slurm_cluster, workdir), lambda site: site["profiles"].append(LONG))
    with HubProcess(workdir, site_file=site, extra_args=["--Spawner.poll_interval=5"]) as hub:
        hub.token = {"Authorization": f"token {hub.api_token(USER)}"}
        yield hub


def server(hub) -> dict | None:
    admin = {"Authorization": f"token {hub.api_token('ops')}"}
    return requests.get(f"{hub.url}/hub/api/users/{USER}", headers=admin, timeout=10).json()["servers"].get("")


def spawn(hub, hours: float) -> requests.Response:
    resp = requests.post(f"{hub.url}/hub/api/users/{USER}/server", headers=hub.token, timeout=120,
                         json={"user_options": {"profile": "cpu-long", "walltime_hours": hours}})
    assert resp.status_code in (201, 202), resp.text
    return resp


def stop(hub) -> None:
    requests.delete(f"{hub.url}/hub/api/users/{USER}/server", headers=hub.token, timeout=60)
    wait_until(lambda: server(hub) is None, 60, f"{USER}'s session stopped")


def warning_box(page: str) -> str:
    """The spawn form's warning paragraph, opening tag included."""
    return page.split('id="factoryhub-maintenance-warning"')[1].split("</p>")[0]


def test_the_spawn_page_shows_the_maintenance_window(hub, maintenance):
    page = hub.login(USER).get(f"{hub.url}/hub/spawn", timeout=30).text
    assert (f"<strong>{maintenance.name}</strong>: {when(maintenance.starts_at)} to {when(maintenance.ends_at)}, "
            "partitions cpu, gpu") in page
    assert f'<option value="{maintenance.name}"' not in page  # never offered as a reservation to run in


def test_every_hub_page_announces_the_maintenance_window(hub, maintenance):
    """The hub's announcement feed (the banner on the home page and every other hub page) carries the
    window as a warning, before any admin's message, with no admin posting anything."""
    feed = hub.login(USER).get(f"{hub.url}/hub/announcements", timeout=30)
    assert feed.status_code == 200, feed.text
    [notice] = [a for a in feed.json()["announcements"] if a["id"] == f"maintenance:{maintenance.name}"]
    assert notice["level"] == "warning" and notice["title"] == f"Maintenance {maintenance.name}"
    assert notice["text"].startswith(f"from {when(maintenance.starts_at)} until {when(maintenance.ends_at)}, "
                                     "partitions cpu, gpu")


def test_a_walltime_crossing_the_maintenance_is_warned_about_and_slurm_holds_the_job(hub, maintenance, slurm_cluster):
    spawn(hub, 12)
    try:
        messages = []
        with requests.get(f"{hub.url}/hub/api/users/{USER}/server/progress", headers=hub.token, stream=True,
                          timeout=120) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if line.startswith("data:"):
                    messages.append(json.loads(line[5:]).get("message", ""))
                    if "pending until the maintenance ends" in messages[-1]:
                        break
        warned = f"Warning: Your session would end after maintenance {maintenance.name} starts at " \
                 f"{when(maintenance.starts_at)}: Slurm will not start it before the maintenance ends at " \
                 f"{when(maintenance.ends_at)}."
        assert any(m.startswith(warned) for m in messages), messages
        job_id = server(hub)["state"]["job_id"]
        reason = slurm_cluster.run("squeue", "--noheader", "-j", job_id, "--format=%T %r").stdout.strip()
        assert reason == "PENDING ReqNodeNotAvail, Reserved for maintenance"
    finally:
        stop(hub)
    assert "crosses a maintenance window" in hub.log_path.read_text()
    # the form shows the last request again, warned about before it is sent
    box = warning_box(hub.login(USER).get(f"{hub.url}/hub/spawn", timeout=30).text)
    assert " hidden" not in box.split(">")[0] and f"maintenance {maintenance.name} starts at" in box


def test_a_walltime_ending_before_the_maintenance_runs_without_a_warning(hub, maintenance, slurm_cluster):
    warned = hub.log_path.read_text().count("crosses a maintenance window")
    spawn(hub, 1)
    try:
        ready = wait_until(lambda: (server(hub) or {}).get("ready") and server(hub), 120, "session ready",
                           interval=0.5)
        state = slurm_cluster.run("squeue", "--noheader", "-j", ready["state"]["job_id"], "--format=%T").stdout
        assert state.strip() == "RUNNING"
    finally:
        stop(hub)
    assert hub.log_path.read_text().count("crosses a maintenance window") == warned
    box = warning_box(hub.login(USER).get(f"{hub.url}/hub/spawn", timeout=30).text)
    assert box == ' role="alert" hidden>', box
