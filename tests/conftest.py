"""Test tiers, CI strictness and the per-tier summary.

Tiers are markers: unit (unmarked), hub, slurm, browser. Under CI (CI=true) a tier that
cannot run fails instead of skipping, and any skip fails the run.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest

TIERS = ("browser", "slurm", "hub")  # the first marker found names a test's tier
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
    """Fast tiers first: unit, hub, slurm, browser (stable within a tier)."""
    order = {"unit": 0, "hub": 1, "slurm": 2, "browser": 3}
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
            f"{tier:8} ran {sum(c.values()):4}  passed {c['passed']:4}  failed {c['failed']:3}  skipped {c['skipped']:3}")


def pytest_sessionfinish(session, exitstatus):
    skipped = sum(c["skipped"] for c in _outcomes.values())
    if IN_CI and skipped and session.exitstatus == 0:
        session.exitstatus = 1  # CI must run every tier for real
