"""The KPI report in a real browser: an admin opens it from the allocations page, picks a month,
sees the figures of a seeded ledger and their SVG charts, and the JSON and CSV exports of that
month say exactly what the page says."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from factoryhub.catalogue import models as catalogue_models
from factoryhub.catalogue.models import AccessRequest, RequestState
from factoryhub.quota.accounting import JobUsage
from factoryhub.quota.db import Database
from factoryhub.quota.importer import upsert_usage
from factoryhub.quota.kpi_report import NOT_OFFERED, csv_value, figure_rows
from factoryhub.quota.models import Allocation, Hold, HoldState, Project, Sector, Track
from factoryhub.servicedb import Database as ServiceDatabase
from tests.harness.browser_login import log_in_home
from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.browser

QUOTA = "/services/factoryhub-quota/"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def job(job_id: str, account: str, user: str, start: str, hours: int, gpus: int) -> JobUsage:
    return JobUsage("kpi", job_id, account, user, "gpu", "COMPLETED", at(start),
                    at(start) + dt.timedelta(hours=hours), gpus, 2, hours * 3600)


def seed_ledger(state: Path) -> None:
    """November 2026: three projects (one per track), three finished jobs, two holds, two allocations."""
    db = Database(f"sqlite:///{state / 'quota.sqlite'}")
    with db.write() as session:
        alpha = Project(account="kpi-alpha", title="Alpha", track=Track.exploratory, sector=Sector.research,
                        contact="a@uni.example")
        beta = Project(account="kpi-beta", title="Beta", track=Track.scaling, sector=Sector.sme,
                       contact="b@SME.example")
        gamma = Project(account="kpi-gamma", title="Gamma", track=Track.production, sector=Sector.industry,
                        contact="c@uni.example")
        alpha.allocations.append(Allocation(gpu_seconds=100 * 3600, starts_on=dt.date(2026, 11, 1),
                                            ends_on=dt.date(2026, 11, 30)))
        beta.allocations.append(Allocation(gpu_seconds=60 * 3600, starts_on=dt.date(2026, 10, 2),
                                           ends_on=dt.date(2026, 11, 30)))  # 30 of its 60 days in November
        session.add_all([alpha, beta, gamma])
        session.flush()
        upsert_usage(session, [job("1", "kpi-alpha", "alice", "2026-11-02T10:00:00", 2, 2),    # 4 GPU-hours
                               job("2", "kpi-beta", "bob", "2026-11-05T08:00:00", 3, 2),       # 6
                               job("3", "kpi-gamma", "carol", "2026-11-20T12:00:00", 5, 2),    # 10
                               job("4", "kpi-beta", "bob", "2026-10-31T23:00:00", 1, 1)])      # October: out
        for project, job_id, created in ((alpha, "1", "2026-11-02T09:59:00"),      # 60 s to running
                                         (gamma, "3", "2026-11-20T11:57:00")):     # 180 s
            session.add(Hold(project_id=project.id, username="someone", job_id=job_id, gpu_seconds=3600,
                             state=HoldState.settled, created_at=at(created),
                             expires_at=at(created) + dt.timedelta(days=1)))
    db.dispose()


def seed_catalogue(state: Path) -> None:
    """One access request approved in November, one rejected."""
    db = ServiceDatabase(f"sqlite:///{state / 'catalogue.sqlite'}", Path(catalogue_models.__file__).with_name(
        "migrations"))
    with db.write() as session:
        for state_, decided in ((RequestState.approved, "2026-11-15T10:00:00"),
                                (RequestState.rejected, "2026-11-16T10:00:00")):
            session.add(AccessRequest(entry_id="chest-xray", entry_title="Chest X-rays", groups=["imaging"],
                                      username="researcher", justification="x" * 40, terms="t",
                                      terms_sha256="0" * 64, state=state_, created_at=at("2026-11-01T09:00:00"),
                                      decided_at=at(decided), decided_by="admin"))
    db.dispose()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("kpi-browser-hub")) as hub:
        for service in ("quota", "catalogue"):  # migrated by the services as they start
            wait_until(lambda s=service: requests.get(f"{hub.url}/services/factoryhub-{s}/api/v1/health",
                                                      timeout=2).status_code == 200, 60, f"the {service} service")
        seed_ledger(hub.state_dir)
        seed_catalogue(hub.state_dir)
        yield hub


def shown(page) -> dict[tuple[str, str], str]:
    """Every figure on the page: (section, key) -> the text shown."""
    cells = page.eval_on_selector_all("[data-section][data-key]", "els => els.map(e => "
                                      "[e.dataset.section, e.dataset.key, e.textContent.trim()])")
    return {(section, key): text for section, key, text in cells}


def test_an_admin_reads_the_months_kpis_with_charts_and_the_exports_match(hub, page, screenshot):
    log_in_home(page, hub, "admin")
    page.goto(f"{hub.url}{QUOTA}admin")
    page.get_by_role("link", name="KPI report").first.click()
    page.get_by_label("Month").fill("2026-11")
    page.get_by_role("button", name="Show month").click()
    expect(page.locator("#fh-kpi-period")).to_have_text("2026-11-01 – 2026-11-30")

    figures = shown(page)
    assert figures[("users", "active_users")] == "3"            # alice, bob, carol
    assert figures[("users", "new_users")] == "2"               # bob ran a job in October
    assert figures[("organisations", "smes_served")] == "1"     # kpi-beta
    assert figures[("organisations", "organisations_served")] == "2"  # uni.example, sme.example
    assert figures[("usage", "total.gpu_hours")] == "20.0"
    assert figures[("usage", "total.sessions")] == "3"
    assert figures[("usage_by_track", "exploratory.gpu_hours")] == "4.0"
    assert figures[("usage_by_track", "scaling.gpu_hours")] == "6.0"
    assert figures[("usage_by_track", "production.gpu_hours")] == "10.0"
    assert figures[("usage_by_sector", "industry.gpu_hours")] == "10.0"
    assert figures[("usage_by_project", "kpi-gamma.sessions")] == "1"
    assert figures[("request_to_running", "sessions")] == "2"
    assert figures[("request_to_running", "median_seconds")] == "60"
    assert figures[("request_to_running", "p90_seconds")] == "180"
    assert figures[("allocations", "allocated_gpu_hours")] == "130.0"  # 100 + 30 of beta's 60
    assert figures[("allocations", "used_gpu_hours")] == "10.0"
    assert figures[("allocations", "allocated_share_used")] == "0.0769"
    assert figures[("data", "access_requests_granted")] == "1"  # asked of the catalogue service
    assert figures[("training", "workshops")] == "—"            # the embedded default runs no workshops
    expect(page.locator('#fh-kpi-unavailable li[data-figure="workshops"]')).to_have_text(
        f"workshops: {NOT_OFFERED}")

    for track in ("exploratory", "scaling", "production"):
        bar = page.locator(f'#fh-kpi-chart-by-track g[data-label="{track}"] rect')
        expect(bar).to_have_count(1)
        assert float(bar.get_attribute("width")) > 0
    expect(page.locator("#fh-kpi-chart-by-project g.fh-bar-row")).to_have_count(3)
    assert page.locator('#fh-kpi-chart-by-project g.fh-bar-row').first.get_attribute("data-label") == "kpi-gamma"
    screenshot("quota-kpi-report")

    exported = page.request.get(hub.url + page.locator("#fh-kpi-json").get_attribute("href"))
    assert exported.ok, exported.text()
    report = exported.json()
    as_csv = page.request.get(hub.url + page.locator("#fh-kpi-csv").get_attribute("href"))
    assert as_csv.ok and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text())))
    assert rows[1:] == [[s, k, csv_value(v)] for s, k, v in figure_rows(report)]  # the CSV is the JSON
    for section, key, value in rows[1:]:  # and the page shows each figure as the exports give it
        if section == "unavailable":
            expect(page.locator(f'#fh-kpi-unavailable li[data-figure="{key}"]')).to_contain_text(value)
        else:
            assert figures[(section, key)] == (value or "—"), (section, key)
    assert len(figures) == sum(1 for row in rows[1:] if row[0] != "unavailable")
