"""The FactoryHub panels inside JupyterLab, in a real browser, against a real hub, real
services and a real session: the allocations panel shows what the quota service reports, the
walltime counts down, the catalogue finds an entry, shows its markup as text, and its loader
lands in a notebook cell and runs."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from playwright.sync_api import expect

from tests.harness.hub import HubProcess, register_project, wait_until

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
MARKUP_TITLE = "Sample <b>bold</b> & <script>alert(1)</script> readings"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lab-browser")
    data = workdir / "data"
    data.mkdir()
    (data / "sample.csv").write_text("sensor,value\na,1.5\nb,2.5\nc,3.5\n")
    catalogue = workdir / "catalogue"
    shutil.copytree(REPO / "extensions" / "catalogue" / "example", catalogue)
    sample = yaml.safe_load((catalogue / "sensor-readings.yaml").read_text())
    sample.update(title=MARKUP_TITLE, keywords=["browsertest"],
                  distributions=[{"title": "Sample CSV", "format": "csv", "byte_size": 40,
                                  "location": str(data / "sample.csv")}])
    (catalogue / "browser-sample.yaml").write_text(yaml.safe_dump(sample))
    site = yaml.safe_load((REPO / "extensions" / "hub" / "site" / "default.yaml").read_text())
    site["services"] = {"idle_culler": {"enabled": False}, "catalogue": {"directory": str(catalogue)}}
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    with HubProcess(workdir, site_file=workdir / "site.yaml") as hub:
        hub.quota = register_project(hub, hub.api_token("admin"), ["researcher"], gpu_hours=1234.5)
        hub.researcher = {"Authorization": f"token {hub.api_token('researcher')}"}
        yield hub


@pytest.fixture(scope="module")
def lab(hub, browser):
    """One JupyterLab session for the module's tests, opened the way a person does."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/login?next=/hub/spawn")
    page.get_by_label("Username").fill("researcher")
    page.get_by_label("Password").fill(hub.credentials()["researcher"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=120_000)
    yield page
    context.close()
    requests.delete(f"{hub.url}/hub/api/users/researcher/server", headers=hub.researcher, timeout=30)


def shot(page, name: str) -> None:
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / f"{name}.png"))


def run_active_cell(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run Selected Cell").first.click()


def open_panel(page, panel_id: str):
    panel = page.locator(f"#{panel_id}")
    if not panel.is_visible():  # a click on the tab of the open panel would close it
        page.locator(f'.jp-SideBar .lm-TabBar-tab[data-id="{panel_id}"]').click()
    expect(panel).to_be_visible()
    return panel


def test_the_allocations_panel_shows_what_the_quota_service_reports(hub, lab):
    panel = open_panel(lab, "factoryhub-quota-panel")
    project = panel.locator('[data-account="proj-climate"]')
    expect(project).to_be_visible()
    [reported] = requests.get(f"{hub.quota}/projects", headers=hub.researcher, timeout=30).json()["projects"]
    assert reported["allocated_gpu_hours"] == 1234.5
    for figure, value in [("allocated", "1,234.5 h"), ("used", "0 h"), ("held", "0 h"), ("remaining", "1,234.5 h")]:
        expect(project.locator(f'[data-figure="{figure}"]')).to_have_text(value)
    expect(project.locator(".fh-chart rect")).to_have_count(14)
    expect(panel.locator('[data-figure="session-at-walltime"]')).to_have_text("0 h")  # no GPUs in this session
    shot(lab, "lab-allocations-panel")


def test_the_walltime_counts_down_in_the_status_bar(lab):
    item = lab.locator(".fh-walltime")
    expect(item).to_have_text(re.compile(r"^Walltime 1:59:\d\d$|^Walltime 2:00:00$"))
    first = int(item.get_attribute("data-remaining"))
    expect(item).not_to_have_attribute("data-remaining", str(first), timeout=5_000)


def test_the_catalogue_finds_an_entry_shows_markup_as_text_and_its_loader_runs(lab):
    panel = open_panel(lab, "factoryhub-catalogue-panel")
    panel.locator(".fh-search").fill("browsertest")
    hit = panel.locator('.fh-hit[data-entry="browser-sample"]')
    expect(hit).to_have_text(MARKUP_TITLE)  # the markup is text, not elements
    expect(panel.locator(".fh-total")).to_have_text("1 entries")  # the latest search wins
    expect(panel.locator(".fh-hits b, .fh-hits script")).to_have_count(0)
    hit.click()
    expect(panel.locator(".fh-entry-title")).to_have_text(MARKUP_TITLE)
    expect(panel.locator(".fh-location")).to_contain_text("sample.csv")
    shot(lab, "lab-catalogue-panel")

    lab.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    notebook = lab.locator(".jp-NotebookPanel:visible")
    expect(lab.locator(".jp-StatusBar-Widget", has_text="Idle").first).to_be_visible(timeout=60_000)  # kernel up
    panel.locator('.fh-insert[data-library="pandas"]').click()
    cell = notebook.locator(".jp-Cell").nth(1)
    expect(cell).to_contain_text("pd.read_csv(")
    run_active_cell(lab)  # the inserted cell is the active one
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[1\]"), timeout=60_000)
    expect(cell.locator(".jp-OutputArea-output")).to_have_count(0)  # no error
    notebook.locator(".jp-Cell").nth(2).locator(".cm-content").click()
    lab.keyboard.type("print(df['value'].sum())")
    run_active_cell(lab)
    expect(notebook.locator(".jp-OutputArea-output").last).to_have_text("7.5", timeout=60_000)


def test_a_session_near_its_walltime_is_warned_with_a_save_all_action(hub, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{hub.url}/hub/login?next=/hub/spawn")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(hub.credentials()["admin"])
        page.get_by_role("button", name="Sign in").click()
        # 15 min: a warning is due at once
        page.get_by_label("Walltime (hours; empty for the profile default)").fill("0.25")
        page.get_by_role("button", name="Start").click()
        expect(page.locator(".jp-Launcher")).to_be_visible(timeout=120_000)
        warning = page.get_by_text("This session reaches its walltime in 15 minutes")
        expect(warning).to_be_visible()
        expect(page.locator(".fh-walltime")).to_have_text(re.compile(r"^Walltime 1[45]:\d\d$"))
        shot(page, "lab-walltime-warning")
        page.get_by_role("button", name="Save all").click()  # the action runs (nothing to save, no error)
        expect(warning).to_have_count(0)
    finally:
        context.close()
        admin = {"Authorization": f"token {hub.api_token('admin')}"}
        requests.delete(f"{hub.url}/hub/api/users/admin/server", headers=admin, timeout=30)


def test_facets_narrow_the_results(lab):
    panel = open_panel(lab, "factoryhub-catalogue-panel")
    panel.locator(".fh-search").fill("")
    expect(panel.locator(".fh-total")).to_have_text("13 entries")
    panel.locator('input[data-facet="kind"][data-value="model"]').check()
    expect(panel.locator(".fh-total")).to_have_text("2 entries")
    expect(panel.locator(".fh-hit")).to_have_count(2)
    panel.locator('input[data-facet="kind"][data-value="model"]').uncheck()
    expect(panel.locator(".fh-total")).to_have_text("13 entries")


def test_access_to_a_restricted_entry_is_requested_from_the_panel(lab):
    panel = open_panel(lab, "factoryhub-catalogue-panel")
    panel.locator(".fh-search").fill("whole genome variant")
    panel.locator('.fh-hit[data-entry="genomics-variant-calls-cohort"]').click()
    expect(panel.locator(".fh-location")).to_have_count(0)  # restricted: no path before access
    form = panel.locator(".fh-request-form")
    expect(form.locator(".fh-terms")).to_contain_text("GDPR")
    form.locator(".fh-justification").fill("Replicating a polygenic risk score for the cardiology project.")
    form.locator(".fh-request").click()
    expect(form.locator(".fh-request-message")).to_have_text("Tick the box to acknowledge the terms.")
    form.locator(".fh-acknowledge").check()
    form.locator(".fh-request").click()
    expect(panel.locator(".fh-request-state")).to_have_text(re.compile(r"Your request #\d+: pending"))


def test_a_service_that_stops_is_named_in_the_panel(hub, lab):
    service = subprocess.run(["pgrep", "-f", f"factoryhub.catalogue.service.*{hub.workdir}"], capture_output=True,
                             text=True).stdout.split()
    assert len(service) == 1, service
    os.kill(int(service[0]), signal.SIGTERM)
    wait_until(lambda: not Path(f"/proc/{service[0]}").exists(), 30, "the catalogue service to stop")
    panel = open_panel(lab, "factoryhub-catalogue-panel")
    panel.locator(".fh-search").fill("anything at all")
    expect(panel.locator(".fh-unavailable")).to_contain_text("catalogue service is not reachable right now")
    open_panel(lab, "factoryhub-quota-panel")
    expect(lab.locator('[data-account="proj-climate"]')).to_be_visible()  # the other panel still works
