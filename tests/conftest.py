"""Test tiers, CI strictness and the per-tier summary.

Tiers are markers: unit (unmarked), hub, postgres, notebooks, slurm, browser. Under CI (CI=true) a tier that
cannot run fails instead of skipping, and any skip fails the run.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

TIERS = ("browser", "slurm", "notebooks", "postgres", "hub")  # the first marker found names a test's tier
IN_CI = os.environ.get("CI", "").lower() == "true"
_outcomes: dict[str, Counter] = {}


def tier_of(item: pytest.Item) -> str:
    return next((t for t in TIERS if item.get_closest_marker(t)), "unit")


def unavailable(reason: str) -> None:
    """A tier's prerequisite is missing: skip locally, fail under CI."""
    if IN_CI:
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items):
    """Fast tiers first: unit, hub, postgres, notebooks, slurm, browser (stable within a tier)."""
    order = {"unit": 0, "hub": 1, "postgres": 2, "notebooks": 3, "slurm": 4, "browser": 5}
    items.sort(key=lambda item: order[tier_of(item)])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _outcomes.setdefault(tier_of(item), Counter())[report.outcome] += 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("FactoryHub tiers")
    for tier in ("unit", *reversed(TIERS)):
        c = _outcomes.get(tier, Counter())
        terminalreporter.write_line(
            f"{tier:9} ran {sum(c.values()):4}  passed {c['passed']:4}  failed {c['failed']:3}  "
            f"skipped {c['skipped']:3}")


# Processes a test run may start; none may outlive it.
LEFTOVER_MARKERS = (b"jupyterhub", b"configurable-http-proxy", b"jupyterhub_idle_culler",
                    b"factoryhub.spawners.slurm.reconciler", b"factoryhub.quota.service", b"jupyter-server",
                    b"chromium", b"factoryhub-pg-", b"ipykernel_launcher",
                    b"distributed.cli.dask_worker", b"dask_jobqueue")


def _start_ticks(pid: str | int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


def leftover_processes() -> list[str]:
    """Live processes started after this test run that look like ours."""
    mine, since = os.getpid(), _start_ticks(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == mine:
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes()
            started = _start_ticks(entry.name)
        except (OSError, IndexError, ValueError):
            continue
        if state != "Z" and started >= since and any(m in cmdline for m in LEFTOVER_MARKERS):
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {command[:120]}")
    return found


def pytest_sessionfinish(session, exitstatus):
    skipped = sum(c["skipped"] for c in _outcomes.values())
    if IN_CI and skipped and session.exitstatus == 0:
        session.exitstatus = 1  # CI must run every tier for real
    leftovers = leftover_processes()
    if leftovers:
        print("\nProcesses left behind by the tests:\n  " + "\n  ".join(leftovers))
        if session.exitstatus == 0:
            session.exitstatus = 1


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole run (Debian's postgresql package)."""
    from tests.harness.postgres import PostgresServer, postgres_bin

    bin_dir = postgres_bin()
    if bin_dir is None:
        unavailable("PostgreSQL is not installed (Debian package postgresql; tests/bootstrap.sh installs it)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg driver is not installed (pip install -e .[test])")
    if os.geteuid() != 0:
        unavailable("PostgreSQL tests start a server as the postgres user: run them as root")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


# The real Slurm cluster, for every tier that needs it (the slurm tier, and the OIDC login's
# account checks in the browser tier). At the bottom: it imports `unavailable` from here.
from tests.harness.cluster import shared_tmp, slurm_cluster  # noqa: E402, F401
