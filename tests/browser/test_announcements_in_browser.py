"""Announcements in a real browser (issue 18, point 3): a group's announcement is on its member's home page
and not on anyone else's; a project's on its member's spawn page; a text with markup is shown as text; in a
running session each of the user's announcements is a JupyterLab notification, once."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.harness.announcements import GROUP, announcements_hub, post, prepare_audiences
from tests.harness.browser_login import sign_in
from tests.harness.hub import running_session, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with announcements_hub(tmp_path_factory.mktemp("announcements-browser")) as hub:
        hub.audiences = prepare_audiences(hub)
        admin = hub.audiences["headers"]["admin"]
        post(hub, admin, title="Welcome to the AI Factory", text="Everyone sees this.")
        post(hub, admin, title="GPU users: drivers updated", text="<b>CUDA 12.6</b> from Monday.", audience="group",
             group=GROUP, level="warning")
        post(hub, admin, title="Project storage moves", text="Your project's files move on Friday.",
             audience="project", project=hub.audiences["project"])
        yield hub


def test_a_group_announcement_is_on_its_members_home_page_only(hub, page, browser, screenshot):
    sign_in(page, hub, "researcher")
    banners = page.locator("#factoryhub-announcements")
    warning = banners.get_by_role("alert")
    expect(warning).to_contain_text("GPU users: drivers updated")
    expect(warning).to_contain_text("<b>CUDA 12.6</b> from Monday.")  # as text, not markup
    expect(banners.locator("b")).to_have_count(0)
    expect(banners.get_by_role("status")).to_have_text("Welcome to the AI Factory — Everyone sees this.")
    expect(banners).not_to_contain_text("Project storage moves")
    screenshot("announcements-group-member")

    other = browser.new_context().new_page()
    try:
        sign_in(other, hub, "student", "/hub/spawn")
        others = other.locator("#factoryhub-announcements")
        expect(others.get_by_role("status").first).to_be_visible()
        expect(others).to_contain_text("Project storage moves")  # the student's project, on the spawn page
        expect(others).to_contain_text("Welcome to the AI Factory")
        expect(others).not_to_contain_text("GPU users")
        expect(others.get_by_role("alert")).to_have_count(0)
    finally:
        other.context.close()


def test_a_running_session_shows_the_users_announcements_once_as_notifications(hub, page):
    researcher = hub.audiences["headers"]["researcher"]
    with running_session(hub, "researcher", researcher):
        sign_in(page, hub, "researcher", "/user/researcher/lab")
        warning = page.locator(".Toastify__toast--warning").filter(has_text="GPU users: drivers updated")
        expect(warning).to_contain_text("<b>CUDA 12.6</b> from Monday.", timeout=90_000)
        expect(page.locator(".Toastify__toast").filter(has_text="Welcome to the AI Factory")).to_have_count(1)
        expect(page.get_by_text("Project storage moves")).to_have_count(0)  # the student's project only

        post(hub, hub.audiences["headers"]["admin"], title="Posted meanwhile", text="New since the last look.")
        # the session's server keeps the service's answer 15 s: once it has the new post, the reloaded page's
        # first poll shows it (instead of the next poll, a minute later)
        lab_feed = f"{hub.url}/user/researcher/factoryhub/api/announcements"
        wait_until(lambda: any(a["title"] == "Posted meanwhile" for a in requests.get(
            lab_feed, headers=researcher, timeout=30).json()["announcements"]), 30,
            "the session's server sees the post", interval=1)
        page.reload()
        # the new one shows that the reloaded page's poll was handled; the earlier ones were not shown again
        expect(page.locator(".Toastify__toast").filter(has_text="Posted meanwhile")).to_have_count(1, timeout=30_000)
        expect(page.locator(".Toastify__toast").filter(has_text="GPU users")).to_have_count(0)
        expect(page.locator(".Toastify__toast").filter(has_text="Welcome to the AI Factory")).to_have_count(0)
