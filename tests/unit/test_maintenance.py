"""Maintenance reservations (FLAGS=MAINT): read from recorded scontrol lines, the windows that
matter, the crossing decision at its boundaries, the warning in Python and in the form's script."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from factoryhub.site import Profile
from factoryhub.spawners.maintenance import (
    SCRIPT,
    WARNING_FUNCTION,
    MaintenanceWindow,
    as_announcements,
    crossing,
    script_entries,
    walltime_of,
    warning,
    warnings,
    when,
)
from factoryhub.spawners.options import render_form
from factoryhub.spawners.slurm.cluster import (
    ClusterView,
    maintenance_windows,
    parse_reservations,
    parse_slurm_time,
    parse_view,
)
from factoryhub.spawners.slurm.hostlist import MAX_HOSTS, expand_hostlist
from factoryhub.spawners.slurm.spawner import SlurmSessionSpawner

REPO = Path(__file__).resolve().parents[2]
RECORDED = (REPO / "tests" / "fixtures" / "slurm" / "scontrol-reservations-maint.txt").read_text()
PARTITIONS = (REPO / "tests" / "fixtures" / "slurm" / "scontrol-partitions.txt").read_text()
PROFILES = [Profile.model_validate(p) for p in yaml.safe_load((REPO / "site.example.yaml").read_text())["profiles"]]
UTC, CET = dt.UTC, dt.timezone(dt.timedelta(hours=1), "CET")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


WINDOW = MaintenanceWindow("maint-dec", at("2026-12-05T00:00:00"), at("2026-12-05T02:00:00"), frozenset({"gpu", "cpu"}))


# --- reading scontrol -----------------------------------------------------------------------
def test_recorded_reservations_carry_window_flags_nodes_and_partition():
    probe, ongoing, workshop = parse_reservations(RECORDED, UTC)
    assert (probe.starts_at, probe.ends_at) == (at("2026-12-04T23:52:53"), at("2026-12-05T00:52:53"))
    assert probe.flags == {"MAINT", "SPEC_NODES", "ALL_NODES"} and probe.is_maintenance
    assert probe.nodes == {"vm"} and probe.partition is None and probe.state == "INACTIVE"
    assert not workshop.is_maintenance and workshop.flags == {"IGNORE_JOBS", "SPEC_NODES"}
    assert ongoing.state == "ACTIVE" and ongoing.users == ("alice",)
    # scontrol prints the controller's local time, without a zone
    [in_cet, *_] = parse_reservations(RECORDED, CET)
    assert in_cet.starts_at == at("2026-12-04T22:52:53")


def test_slurm_times_without_a_zone_are_the_hub_machines_and_unknown_is_none():
    assert parse_slurm_time("2026-12-04T10:00:00", CET) == at("2026-12-04T09:00:00")
    local = dt.datetime(2026, 12, 4, 10).astimezone()  # this machine's zone, as the hub reads it
    assert parse_slurm_time("2026-12-04T10:00:00") == local
    assert parse_slurm_time("Unknown") is None and parse_slurm_time("") is None


def test_a_maintenance_reservation_is_never_offered_even_to_its_users():
    view = parse_view([("alice", "proj", "")], {}, RECORDED, PARTITIONS, UTC)
    assert view.reservations_of("alice") == ("workshop-1",)  # not maint-now, though alice is in its Users
    alice = SimpleNamespace(name="alice")
    assert SlurmSessionSpawner(user=alice).offered_reservations(view) == ("workshop-1",)


def test_windows_that_matter_are_the_maintenance_ones_under_way_or_to_come():
    view = parse_view([], {}, RECORDED, PARTITIONS, UTC)
    assert view.partition_nodes == {"gpu": {"vm"}, "cpu": {"vm"}}
    windows = view.maintenance(at("2026-12-04T16:00:00"))
    assert [w.name for w in windows] == ["maint-now", "fh-maint-probe-28113"]  # by start; workshop-1 is no maintenance
    assert windows[1].partitions == {"gpu", "cpu"} and windows[1].partial == frozenset()
    assert [w.name for w in view.maintenance(at("2026-12-04T17:00:00"))] == ["fh-maint-probe-28113"]  # maint-now ended
    assert view.maintenance(at("2026-12-05T00:52:53")) == ()


def test_a_window_on_some_nodes_concerns_only_partitions_with_nodes_in_it():
    [probe, *_] = parse_reservations(RECORDED, UTC)
    nodes = {"gpu": expand_hostlist("g[01-04]"), "cpu": expand_hostlist("c[1-8]"), "debug": frozenset({"c1"})}
    rack = probe.__class__(**{**probe.__dict__, "nodes": expand_hostlist("c[1-4]")})
    [window] = maintenance_windows([rack], nodes, at("2026-12-04T16:00:00"))
    assert window.partitions == {"cpu", "debug"} and window.partial == {"cpu"}
    unreadable = probe.__class__(**{**probe.__dict__, "nodes": None, "partition": "gpu"})
    [window] = maintenance_windows([unreadable], nodes, at("2026-12-04T16:00:00"))
    assert window.partitions == {"gpu"} and window.partial == frozenset()  # taken to cover its partition
    elsewhere = probe.__class__(**{**probe.__dict__, "nodes": frozenset({"login1"})})
    assert maintenance_windows([elsewhere], nodes, at("2026-12-04T16:00:00")) == ()


def test_host_lists_expand_as_slurm_writes_them():
    assert expand_hostlist("gpu[01-03,07],cpu1") == {"gpu01", "gpu02", "gpu03", "gpu07", "cpu1"}
    assert expand_hostlist("r[1-2]n[1-2]") == {"r1n1", "r1n2", "r2n1", "r2n2"}
    assert expand_hostlist("(null)") == frozenset() and expand_hostlist("") == frozenset()
    for bad in ("gpu[1-", "gpu[a-b]", "gpu[3-1]", f"n[0-{MAX_HOSTS}]", "a[0-999]b[0-999]"):
        with pytest.raises(ValueError):
            expand_hostlist(bad)


# --- the decision at its boundaries ------------------------------------------------------------
@pytest.mark.parametrize(("now", "hours", "crosses"), [
    ("2026-12-04T16:00:00", 8, False),    # ends exactly as the maintenance starts
    ("2026-12-04T16:00:01", 8, True),     # one second later
    ("2026-12-04T16:00:00", 8.25, True),
    ("2026-12-04T12:00:00", 1, False),
    ("2026-12-05T00:00:00", 0.25, True),  # starts as the maintenance starts
    ("2026-12-05T01:00:00", 1, True),     # starts inside it
    ("2026-12-05T02:00:00", 12, False),   # the window has ended
    ("2026-12-05T03:00:00", 1, False),
])
def test_crossing(now, hours, crosses):
    assert crossing(WINDOW, at(now), dt.timedelta(hours=hours)) is crosses


def test_the_warning_says_when_slurm_would_start_the_session_and_what_fits():
    text = warning(WINDOW, "gpu", at("2026-12-04T16:10:00"), UTC)
    assert text == ("Your session would end after maintenance maint-dec starts at Sat 5 Dec 2026, 00:00 UTC: Slurm "
                    "will not start it before the maintenance ends at Sat 5 Dec 2026, 02:00 UTC. "
                    "Choose at most 7.75 h to start now.")
    assert warning(WINDOW, "gpu", at("2026-12-04T23:50:00"), UTC).endswith("02:00 UTC.")  # nothing fits
    assert warning(WINDOW, "gpu", at("2026-12-05T01:00:00"), UTC) == (
        "Maintenance maint-dec is under way until Sat 5 Dec 2026, 02:00 UTC: Slurm will not start your session "
        "before the maintenance ends at Sat 5 Dec 2026, 02:00 UTC.")
    partial = MaintenanceWindow("rack", WINDOW.starts_at, WINDOW.ends_at, frozenset({"cpu"}), frozenset({"cpu"}))
    assert "only on the partition's nodes outside the maintenance, or after it ends" in warning(
        partial, "cpu", at("2026-12-04T16:10:00"), UTC)
    assert when(WINDOW.starts_at, CET) == "Sat 5 Dec 2026, 01:00 CET"


def test_windows_as_the_hubs_announcements_are_warnings_with_their_dates_and_partitions():
    rack = MaintenanceWindow("rack", WINDOW.starts_at, WINDOW.ends_at, frozenset({"cpu"}), frozenset({"cpu"}))
    upcoming, partial = as_announcements([WINDOW, rack], at("2026-12-04T16:10:00"), UTC)
    assert upcoming == {"id": "maintenance:maint-dec", "level": "warning", "title": "Maintenance maint-dec",
                        "text": "from Sat 5 Dec 2026, 00:00 UTC until Sat 5 Dec 2026, 02:00 UTC, partitions cpu, gpu: "
                                "Slurm starts no session that would still run when it begins."}
    assert "partition cpu (some nodes of cpu)" in partial["text"]
    [under_way] = as_announcements([WINDOW], at("2026-12-05T01:00:00"), UTC)
    assert under_way["text"].startswith("under way until Sat 5 Dec 2026, 02:00 UTC")
    assert as_announcements([], at("2026-12-05T01:00:00"), UTC) == []


def test_warnings_concern_only_the_sessions_partition():
    other = MaintenanceWindow("cpu-only", WINDOW.starts_at, WINDOW.ends_at, frozenset({"cpu"}))
    now, long = at("2026-12-04T16:10:00"), walltime_of(12)
    assert len(warnings([WINDOW, other], "cpu", now, long)) == 2
    assert len(warnings([WINDOW, other], "gpu", now, long)) == 1
    assert warnings([WINDOW, other], "gpu", now, walltime_of(1)) == []
    assert walltime_of(1 / 3) == dt.timedelta(minutes=20) and walltime_of(0.001) == dt.timedelta(minutes=1)


# --- the form ------------------------------------------------------------------------------------
def run_script_warnings(cases: list[tuple[str, int, float]]) -> list[list[str]]:
    """factoryhubMaintenanceWarnings (the form's function, verbatim) on (partition, now ms, hours), under node."""
    node = shutil.which("node")
    assert node, "node is needed to run the spawn form's maintenance function"
    entries = script_entries([WINDOW, MaintenanceWindow("rack", at("2026-12-06T08:00:00"), at("2026-12-06T09:30:00"),
                                                        frozenset({"cpu"}), frozenset({"cpu"}))], UTC)
    program = WARNING_FUNCTION + """
const [entries, cases] = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([p, now, h]) => factoryhubMaintenanceWarnings(entries, p, now, h))));
"""
    run = subprocess.run([node, "-e", program], input=json.dumps([entries, cases]), capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_forms_script_warns_exactly_as_the_spawner_does_under_node():
    assert SCRIPT.count(WARNING_FUNCTION) == 1  # the function tested here is the one the form runs
    windows = [WINDOW, MaintenanceWindow("rack", at("2026-12-06T08:00:00"), at("2026-12-06T09:30:00"),
                                         frozenset({"cpu"}), frozenset({"cpu"}))]
    moments = ["2026-12-04T16:00:00", "2026-12-04T16:00:01", "2026-12-04T16:10:00", "2026-12-04T23:50:00",
               "2026-12-05T00:00:00", "2026-12-05T01:59:59", "2026-12-05T02:00:00", "2026-12-06T07:40:00"]
    cases = [(partition, now, hours) for partition in ("gpu", "cpu", "none") for now in moments
             for hours in (0.25, 1 / 3, 1, 8, 8.25, 12, 30)]
    got = run_script_warnings([(p, round(at(now).timestamp() * 1000), h) for p, now, h in cases])
    for (partition, now, hours), texts in zip(cases, got, strict=True):
        assert texts == warnings(windows, partition, at(now), walltime_of(hours), UTC), (partition, now, hours)
    assert any(got) and not all(got)


def test_the_form_lists_the_windows_and_warns_about_the_request_it_shows_first():
    now = at("2026-12-04T16:10:00")
    hostile = MaintenanceWindow("<b>x</b>", WINDOW.starts_at, WINDOW.ends_at, frozenset({"gpu"}))
    form = render_form(PROFILES, {"profile": "gpu-4-finetune", "walltime_hours": "8"}, maintenance=[WINDOW, hostile],
                       now=now)
    assert 'id="factoryhub-maintenance"' in form and "<strong>maint-dec</strong>:" in form
    assert "<b>x</b>" not in form and "&lt;b&gt;x&lt;/b&gt;" in form and "\\u003cb>x\\u003c/b>" in form
    assert f"{when(WINDOW.starts_at)} to {when(WINDOW.ends_at)}, partitions cpu, gpu" in form
    assert 'data-partition="gpu"' in form
    warning_box = form.split('id="factoryhub-maintenance-warning" role="alert"')[1].split("</p>")[0]
    assert warning_box.startswith(">Your session would end after maintenance maint-dec")
    short = render_form(PROFILES, {"profile": "gpu-1", "walltime_hours": "1"}, maintenance=[WINDOW], now=now)
    assert 'role="alert" hidden></p>' in short  # listed, no warning
    assert "factoryhub-maintenance" not in render_form(PROFILES, {}, now=now)


# --- the spawner --------------------------------------------------------------------------------
class FakeCluster:
    def __init__(self, view):
        self._view = view

    async def view(self, **_):
        return self._view


class FakeWatcher:
    snapshot = SimpleNamespace(get=lambda job_id: None)

    async def next_update(self, timeout=None):
        await asyncio.sleep(0)


class MaintenanceSpawner(SlurmSessionSpawner):
    cluster = None  # (properties on the real class: the shared cache and watcher)
    watcher = None


async def test_a_rest_api_spawn_hears_the_warning_first_in_its_progress_and_the_log(caplog):
    starts = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=8)
    view = ClusterView(reservations=(parse_reservations(RECORDED, UTC)[0].__class__(
        "maint-soon", "INACTIVE", starts_at=starts, ends_at=starts + dt.timedelta(hours=1), flags=frozenset({"MAINT"}),
        nodes=frozenset({"vm"})),), partition_nodes={"cpu": frozenset({"vm"})})
    spawner = MaintenanceSpawner(user=SimpleNamespace(name="alice"))
    spawner.cluster, spawner.watcher = FakeCluster(view), FakeWatcher()
    cpu = next(p for p in PROFILES if p.partition == "cpu").model_copy(update={"max_walltime_hours": 12})
    from factoryhub.spawners.options import SessionRequest

    assert await spawner._maintenance_warnings(SessionRequest(cpu, 1)) == []
    spawner.maintenance_warnings = await spawner._maintenance_warnings(SessionRequest(cpu, 12))
    [text] = spawner.maintenance_warnings
    assert text.startswith("Your session would end after maintenance maint-soon starts at")
    assert "crosses a maintenance window" in caplog.text and "720 min on cpu" in caplog.text
    events = spawner.progress()
    assert (await anext(events))["message"] == f"Warning: {text}"
    assert (await anext(events))["message"] == "Submitting the session to Slurm…"
    await events.aclose()
