"""The allocation pages in a real browser: reached from the hub's Services menu, in its look."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.harness.browser_login import log_in_home
from tests.harness.hub import HubProcess

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("quota-browser-hub")) as hub:
        yield hub


def test_an_admin_manages_a_project_from_the_services_menu(hub, page, screenshot):
    log_in_home(page, hub, "admin")
    page.get_by_role("button", name="Services").click()
    page.get_by_role("link", name="factoryhub-quota").click()
    expect(page.get_by_role("heading", name="My allocations")).to_be_visible()
    page.get_by_role("link", name="Manage allocations").click()

    page.get_by_label("Slurm account").fill("proj-climate")
    page.get_by_label("Title").fill("Climate downscaling")
    page.get_by_label("Track").select_option("scaling")
    page.get_by_label("Members (user names, comma-separated)").fill("researcher")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("#fh-message")).to_have_text("Project created.")

    today = dt.date.today()
    page.get_by_label("GPU-hours", exact=True).fill("-3")
    page.get_by_label("Starts on").fill(today.isoformat())
    page.get_by_label("Ends on").fill((today + dt.timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Grant allocation").click()
    expect(page.locator("#fh-message")).to_contain_text("Not saved — gpu_hours:")  # refused, nothing written
    page.get_by_label("GPU-hours", exact=True).fill("250")
    page.get_by_label("Starts on").fill(today.isoformat())
    page.get_by_label("Ends on").fill((today + dt.timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Grant allocation").click()
    expect(page.locator("#fh-balance")).to_contain_text("250.00 of 250.00 GPU-hours left")
    expect(page.locator("#fh-usage-chart")).to_be_visible()
    screenshot("quota-project")

    page.get_by_role("link", name="Manage allocations").click()
    expect(page.locator('#fh-projects tr[data-account="proj-climate"]')).to_contain_text("250.00")
    expect(page.locator("#fh-audit")).to_contain_text("user:admin create allocation")
    screenshot("quota-admin")


def test_a_member_reads_their_balance_only(hub, page, screenshot):
    log_in_home(page, hub, "researcher")
    page.goto(f"{hub.url}/services/factoryhub-quota/")
    row = page.locator('#fh-my-projects tr[data-account="proj-climate"]')
    expect(row.locator(".fh-left")).to_have_text("250.00")
    expect(page.get_by_role("link", name="Manage allocations")).to_have_count(0)
    screenshot("quota-mine")
