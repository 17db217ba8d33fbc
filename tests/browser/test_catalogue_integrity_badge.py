"""Catalogue integrity in JupyterLab, in a real browser, against a real hub, the real catalogue
service and a real session (issue 19.1): an entry whose data is as curated shows no badge in the
lab's catalogue panel; after one byte of its file changes on disk and a steward has it verified, the
entry's row, its details and the changed distribution show "Changed since curation" (a folder moved
away: "Missing"); once the data is restored and verified again, the badge is gone."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import yaml
from playwright.sync_api import expect

from tests.harness.curated_data import make_data, write_curated_entry
from tests.harness.hub import HubProcess, running_session, wait_until

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SITE = REPO / "extensions" / "hub" / "site" / "default.yaml"
PANEL = "factoryhub-catalogue-panel"
ENTRY = "integrity-badge-demo"
KEYWORD = "integritybadge"  # the panel's search finds this entry by it


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("integrity-badge")
    table, tiles = make_data(workdir / "data", tiles=2, tile_bytes=10_000)
    catalogue = workdir / "catalogue"
    write_curated_entry(catalogue, ENTRY, table, tiles, "Weather station table and radar tiles", (KEYWORD,))
    site = yaml.safe_load(DEFAULT_SITE.read_text())
    site["auth"]["accounts"] += [{"name": "steward"}]
    # no schedule: every verification here is one a steward asks for, so each state is the test's doing
    site["services"] = {"quota": {"enabled": False}, "idle_culler": {"enabled": False},
                        "catalogue": {"directory": str(catalogue), "stewards": ["steward"], "verify_every_hours": 0}}
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    with HubProcess(workdir, site_file=workdir / "site.yaml") as hub:
        hub.api = f"{hub.url}/services/factoryhub-catalogue/api/v1"
        hub.table, hub.tiles = table, tiles
        hub.headers = {name: {"Authorization": f"token {hub.api_token(name)}"} for name in ("researcher", "steward")}
        wait_until(lambda: requests.get(f"{hub.api}/health", timeout=2).status_code == 200, 60, "catalogue service")
        yield hub


@pytest.fixture(scope="module")
def lab(hub, browser):
    """The researcher's JupyterLab, opened in the browser with the session already running."""
    with running_session(hub, "researcher", hub.headers["researcher"]):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{hub.url}/hub/login?next=/user/researcher/lab")
        page.get_by_label("Username").fill("researcher")
        page.get_by_label("Password").fill(hub.credentials()["researcher"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".jp-Launcher")).to_be_visible(timeout=120_000)
        yield page
        context.close()


def verified_as(hub, state: str) -> None:
    """A steward asks for the entry's verification; returns once the service, and the session's server
    that the panel asks (it keeps answers briefly), both report ``state``."""
    asked = requests.post(f"{hub.api}/entries/{ENTRY}/verification", headers=hub.headers["steward"], timeout=30)
    assert asked.status_code == 202, asked.text
    details = f"{hub.api}/entries/{ENTRY}"
    wait_until(lambda: requests.get(details, headers=hub.headers["researcher"], timeout=30)
               .json()["integrity"]["state"] == state, 60, f"the service to report {ENTRY} {state}", interval=0.5)
    lab_api = f"{hub.url}/user/researcher/factoryhub/api/catalogue/entries"
    for url, pick in ((f"{lab_api}?q={KEYWORD}&limit=50", lambda answer: answer["entries"][0]),
                      (f"{lab_api}/{ENTRY}", lambda answer: answer)):
        wait_until(lambda url=url, pick=pick: pick(requests.get(url, headers=hub.headers["researcher"], timeout=30)
                                                   .json())["integrity"]["state"] == state,
                   60, f"the session's server to report {ENTRY} {state}", interval=1)


def show_entry(page):
    """Search the panel for the entry and open its details, as a person does; returns (panel, row)."""
    panel = page.locator(f"#{PANEL}")
    if not panel.is_visible():  # a click on the tab of the open panel would close it
        page.locator(f'.jp-SideBar .lm-TabBar-tab[data-id="{PANEL}"]').click()
    expect(panel).to_be_visible()
    search = panel.locator(".fh-search")
    search.fill("")
    search.fill(KEYWORD)
    row = panel.locator(".fh-hits li").filter(has=page.locator(f'.fh-hit[data-entry="{ENTRY}"]'))
    expect(row).to_be_visible(timeout=30_000)
    row.locator(".fh-hit").click()
    expect(panel.locator(".fh-entry-title")).to_have_text("Weather station table and radar tiles")
    return panel, row


def shot(page, name: str) -> None:
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / f"{name}.png"))


def test_a_file_changed_since_curation_shows_a_badge_in_the_lab_until_it_is_restored(hub, lab):
    verified_as(hub, "verified")
    panel, row = show_entry(lab)
    expect(panel.locator(".fh-integrity-badge")).to_have_count(0)
    expect(panel.locator(".fh-distributions .fh-integrity-verified")).to_have_count(2)
    when = re.compile(r"^Verified \d{4}-\d\d-\d\d \d\d:\d\d UTC$")
    expect(panel.locator(".fh-integrity-verified").first).to_have_text(when)

    original = hub.table.read_bytes()
    hub.table.write_bytes(original[:-1] + (b"0" if original[-1:] != b"0" else b"1"))  # one byte, same size
    try:
        verified_as(hub, "changed")
        panel, row = show_entry(lab)
        badge = row.get_by_role("note", name=re.compile("Changed since curation"))
        expect(badge).to_have_text("\u26a0 Changed since curation")
        expect(badge).to_have_attribute("title", re.compile(r"^Distribution 1: Changed since curation"))
        details = panel.locator(".fh-details")
        expect(details.get_by_role("note", name=re.compile("Changed since curation"))).to_have_count(2)  # entry, table
        table, tiles = details.locator(".fh-distributions > li").all()
        expect(table.locator('.fh-integrity-badge[data-integrity="changed"]')).to_be_visible()
        expect(table.locator(".fh-integrity-message")).to_contain_text("no longer matches its curated SHA-256")
        expect(tiles.locator(".fh-integrity-badge")).to_have_count(0)
        expect(tiles.locator(".fh-integrity-verified")).to_be_visible()
        shot(lab, "lab-catalogue-integrity-badge")
    finally:
        hub.table.write_bytes(original)

    verified_as(hub, "verified")
    panel, row = show_entry(lab)
    expect(panel.locator(".fh-integrity-badge")).to_have_count(0)
    expect(panel.locator(".fh-distributions .fh-integrity-verified")).to_have_count(2)


def test_a_folder_moved_away_shows_missing_until_it_is_back(hub, lab):
    moved = hub.tiles.with_name("tiles-moved")
    hub.tiles.rename(moved)
    try:
        verified_as(hub, "missing")
        panel, row = show_entry(lab)
        expect(row.get_by_role("note", name=re.compile("Missing"))).to_have_text("\u26a0 Missing")
        table, tiles = panel.locator(".fh-distributions > li").all()
        expect(tiles.locator('.fh-integrity-badge[data-integrity="missing"]')).to_have_attribute(
            "title", re.compile(r"^Missing: the data is not where the catalogue says"))
        expect(table.locator(".fh-integrity-badge")).to_have_count(0)
    finally:
        moved.rename(hub.tiles)
    verified_as(hub, "verified")
    panel, _ = show_entry(lab)
    expect(panel.locator(".fh-integrity-badge")).to_have_count(0)
