"""What Slurm reports bounds what the form offers; the site may hide more."""
from __future__ import annotations

import re

import pytest
import requests

from tests.harness.hub import HubProcess
from tests.slurm.conftest import cluster_site

pytestmark = pytest.mark.slurm


def partition_max_time(cluster, partition: str) -> str:
    record = cluster.run("scontrol", "--oneliner", "show", "partition", partition).stdout
    return re.search(r"MaxTime=(\S+)", record).group(1)


def test_partition_limit_from_slurm_and_hidden_reservations(slurm_cluster, tmp_path):
    original = partition_max_time(slurm_cluster, "gpu")
    slurm_cluster.run("scontrol", "update", "PartitionName=gpu", "MaxTime=02:00:00")
    for name in ("fh-course", "maint-fh"):
        slurm_cluster.run("scontrol", "create", "reservation", f"reservationname={name}", "users=alice",
                          "starttime=now", "duration=10", f"nodes={slurm_cluster.node}", "flags=ignore_jobs,overlap")
    site = cluster_site(slurm_cluster, tmp_path, hidden_reservations=["maint-*"], show_idle_gpus=False)
    try:
        with HubProcess(tmp_path, site_file=site) as hub:
            alice = hub.login("alice")
            page = alice.get(f"{hub.url}/hub/spawn", timeout=30).text
            # gpu-1 promises 4 h in site.yaml; Slurm's gpu partition now allows 2 h
            assert re.search(r'value="gpu-1"[^>]*data-max-walltime="2"', page)
            assert "up to 2 h" in page and "idle now" not in page
            assert '<option value="fh-course"' in page and "maint-fh" not in page

            token = {"Authorization": f"token {hub.api_token('alice')}"}
            for options, field in (({"profile": "gpu-1", "walltime_hours": 3}, "at most 2 hours"),
                                   ({"profile": "cpu-small", "reservation": "maint-fh"}, "not an active reservation")):
                resp = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=token, timeout=60,
                                     json={"user_options": options})
                assert resp.status_code == 400 and field in resp.json()["message"], resp.text
            assert slurm_cluster.run("squeue", "--noheader", "--user=alice").stdout.strip() == ""
    finally:
        slurm_cluster.run("scontrol", "update", "PartitionName=gpu", f"MaxTime={original}")
        for name in ("fh-course", "maint-fh"):
            slurm_cluster.run("scontrol", "delete", f"reservationname={name}", check=False)
