"""The Slurm tier: cluster state attached to failures (the cluster fixture: tests/harness/cluster.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness.cluster import (  # noqa: F401
    CLUSTER_SCRIPT,
    Cluster,
    cluster_command,
    cluster_site,
    controller,
    edit_site,
    job_environment,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and item.get_closest_marker("slurm") and "slurm_cluster" in item.fixturenames:
        dump = subprocess.run([sys.executable, str(CLUSTER_SCRIPT), "dump"], capture_output=True, text=True,
                              timeout=120)
        report.sections.append(("slurm cluster state", dump.stdout + dump.stderr))
