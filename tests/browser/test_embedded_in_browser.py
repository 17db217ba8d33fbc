"""A person's first visit to the embedded default, in a real browser."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.harness.hub import HubProcess

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("browser-hub")) as hub:
        yield hub


def test_log_in_choose_a_profile_use_jupyterlab_and_stop(hub, page, screenshot):
    page.goto(f"{hub.url}/hub/login")
    expect(page.locator("#factoryhub-local-notice")).to_contain_text("this machine only")
    page.get_by_label("Username").fill("researcher")
    page.get_by_label("Password").fill(hub.credentials()["researcher"])
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("radio", name="Notebook — 2 CPUs, 8 GB, 4 h")).to_be_visible()
    screenshot("spawn-form")
    page.get_by_role("radio", name="Notebook — 2 CPUs, 8 GB, 4 h").check()
    page.get_by_role("button", name="Start").click()

    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=90_000)
    assert "/user/researcher/lab" in page.url
    screenshot("jupyterlab")

    page.goto(f"{hub.url}/hub/home")
    page.get_by_role("button", name="Stop My Server").click()
    expect(page.get_by_role("button", name="Start My Server")).to_be_visible(timeout=60_000)


def test_wrong_password_shows_an_error(hub, page):
    page.goto(f"{hub.url}/hub/login")
    page.get_by_label("Username").fill("researcher")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".login_error")).to_contain_text("Invalid username or password")


def test_a_refused_option_is_explained_on_the_form(hub, page):
    page.goto(f"{hub.url}/hub/login?next=/hub/spawn")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(hub.credentials()["admin"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Walltime (hours; empty for the profile default)").fill("100")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#spawn_form, form").first).to_be_visible()
    expect(page.get_by_text("Invalid session options — Walltime (hours) (walltime_hours): must be more than 0"
                            " and at most 8 hours for profile notebook-small")).to_be_visible()
