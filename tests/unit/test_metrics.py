"""The compute layer's Prometheus metrics (spawners/metrics.py): what each event adds to the scrape."""
from __future__ import annotations

import time

import pytest
from jupyterhub.spawner import SpawnException
from prometheus_client import REGISTRY

from factoryhub.spawners import metrics
from factoryhub.spawners.slurm.client import SlurmClient, SlurmError, SlurmUnreachable
from factoryhub.spawners.slurm.watcher import JobWatcher
from tests.unit.test_slurm_client_faults import fake
from tests.unit.test_watcher import CountingClient


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_each_slurm_command_is_timed_and_its_failures_counted_by_kind(tmp_path):
    client = SlurmClient(bin_dir=tmp_path, submit_prefix=(), timeout=0.5)
    fake(tmp_path, "sinfo", "echo ok")
    fake(tmp_path, "scontrol", "echo 'refused' >&2; exit 1")
    fake(tmp_path, "sacctmgr", "exec sleep 5")
    before = {k: value("factoryhub_slurm_command_duration_seconds_count", command=k) for k in ("sinfo", "scontrol")}
    errors = value("factoryhub_slurm_command_errors_total", command="scontrol", kind="error")
    unreachable = value("factoryhub_slurm_command_errors_total", command="sacctmgr", kind="unreachable")
    await client.run([str(tmp_path / "sinfo")])
    with pytest.raises(SlurmError):
        await client.run([str(tmp_path / "scontrol"), "show", "node"])
    with pytest.raises(SlurmUnreachable):
        await client.run([str(tmp_path / "sacctmgr"), "list", "account"])
    assert value("factoryhub_slurm_command_duration_seconds_count", command="sinfo") == before["sinfo"] + 1
    assert value("factoryhub_slurm_command_duration_seconds_count", command="scontrol") == before["scontrol"] + 1
    assert value("factoryhub_slurm_command_errors_total", command="scontrol", kind="error") == errors + 1
    assert value("factoryhub_slurm_command_errors_total", command="sacctmgr", kind="unreachable") == unreachable + 1


async def test_the_watcher_reports_pending_sessions_by_reason_and_its_tick_age():
    watcher = JobWatcher(CountingClient(), fast_interval=0.05, slow_interval=0.05, jitter=0)
    for job_id in ("5", "7", "9"):  # running, pending (Resources), pending (a limit)
        watcher.watch(job_id)
    await watcher.refresh()
    assert value("factoryhub_pending_sessions", reason="Resources") == 1
    assert value("factoryhub_pending_sessions", reason="AssocGrpGRESMinutes") == 1
    assert value("factoryhub_pending_sessions", reason="Priority") == 0  # job 8 is not a session of this hub
    assert value("factoryhub_watcher_tick_age_seconds") < 1
    watcher.unwatch("7")
    await watcher.refresh()
    assert value("factoryhub_pending_sessions", reason="Resources") == 0  # the queue emptied of that reason
    watcher.stop()


def test_the_tick_age_grows_while_slurm_does_not_answer():
    metrics.watcher_ticked(True, now=time.monotonic() - 42)
    assert 42 <= value("factoryhub_watcher_tick_age_seconds") < 44
    metrics.watcher_ticked(False)
    assert value("factoryhub_watcher_tick_age_seconds") >= 42


def test_spawns_are_counted_by_profile_and_outcome():
    from tests.unit.test_dashboard_options import _spawner

    spawner = _spawner("")
    before = {o: value("factoryhub_spawn_duration_seconds_count", profile="cpu-small", outcome=o)
              for o in metrics.OUTCOMES}
    refused_options = value("factoryhub_spawn_duration_seconds_count", profile="none", outcome="refused")
    with pytest.raises(SpawnException):
        spawner.apply_user_options(spawner, {"walltime_hours": "forever"})  # refused before any profile applies
    assert value("factoryhub_spawn_duration_seconds_count", profile="none", outcome="refused") == refused_options + 1
    spawner.apply_user_options(spawner, {"profile": "cpu-small"})
    spawner.record_spawn(time.monotonic() - 3, None)
    spawner.record_spawn(time.monotonic(), SpawnException("no budget", reason="budget", status_code=403))
    spawner.record_spawn(time.monotonic(), RuntimeError("the job died"))
    for outcome in metrics.OUTCOMES:
        assert value("factoryhub_spawn_duration_seconds_count", profile="cpu-small", outcome=outcome) == \
            before[outcome] + 1
