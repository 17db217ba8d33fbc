"""A workshop in a real browser on the real cluster: the trainer creates it with the form, a
participant joins with a link and starts JupyterLab, the trainer's broadcast appears there as a
notification, a guest takes a pool seat and logs in with it, and the trainer ends the workshop."""
from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
import requests
from playwright.sync_api import expect

from tests.harness.course_repo import CourseRepo
from tests.harness.hub import HubProcess, register_project, wait_until
from tests.harness.workshops import SERVICE, call, end_leftover_reservations, workshops_site
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = [pytest.mark.browser, pytest.mark.slurm]


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workshop-browser")
    course = CourseRepo(tmp_path_factory.mktemp("course"))
    site = edit_site(cluster_site(slurm_cluster, workdir), workshops_site)
    try:
        with HubProcess(workdir, site_file=site, extra_args=["--Spawner.poll_interval=5"]) as hub:
            hub.tokens = {name: hub.api_token(name) for name in ("ops", "tina", "alice")}
            register_project(hub, hub.tokens["ops"], ["tina"], 40, account="proj-training")
            wait_until(lambda: requests.get(f"{hub.url}{SERVICE}/api/v1/health", timeout=2).ok, 60, "workshops")
            hub.course = course
            yield hub
            requests.delete(f"{hub.url}/hub/api/users/alice/server", timeout=60,
                            headers={"Authorization": f"token {hub.tokens['alice']}"})
    finally:
        course.close()
        end_leftover_reservations(slurm_cluster)


def log_in(page, hub, user):
    page.goto(f"{hub.url}/hub/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(hub.credentials()[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/hub/(spawn|home).*"))


def test_a_trainer_runs_a_workshop_in_the_browser(hub, slurm_cluster, browser):
    trainer = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    trainer.set_default_timeout(60_000)
    log_in(trainer, hub, "tina")
    trainer.goto(f"{hub.url}{SERVICE}/")
    wid = f"browser-{secrets.token_hex(3)}"
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    form = trainer.locator("#create-workshop")
    form.get_by_label("Id (in names and links)").fill(wid)
    form.get_by_label("Title").fill("GPU programming for beginners")
    form.get_by_label("Starts (your local time)").fill(start.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Ends (your local time)").fill((start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Seats").fill("10")
    form.get_by_label("Profile").select_option("workshop")
    form.get_by_label("GPU-hour budget").fill("12")
    form.get_by_label("From your project").fill("proj-training")
    form.get_by_label("Course repository (git URL)").fill(hub.course.url)
    form.get_by_label("Reserve nodes (optional, e.g. gpu[01-02])").fill(slurm_cluster.node)
    form.get_by_role("button", name="Create workshop").click()
    expect(trainer.get_by_role("heading", name="GPU programming for beginners")).to_be_visible()
    expect(trainer.locator("#codes tr")).to_have_count(10)
    shown = slurm_cluster.run("scontrol", "--oneliner", "show", "reservation", f"ws-{wid}").stdout
    assert f"Accounts=ws-{wid}" in shown and f"Nodes={slurm_cluster.node}" in shown
    links = trainer.locator("#codes a").evaluate_all("links => links.map(a => a.href)")

    # a participant follows a link, joins with their own login and starts JupyterLab
    participant = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    participant.set_default_timeout(60_000)
    log_in(participant, hub, "alice")
    participant.goto(links[0])
    participant.get_by_role("link", name="Log in and join").click()
    participant.get_by_role("button", name="Join").click()
    expect(participant.locator("#joined")).to_contain_text("GPU programming for beginners")
    participant.get_by_role("link", name="Start your session").click()
    expect(participant.locator("#workshop")).to_have_value(wid)  # the spawn form offers the workshop
    participant.get_by_role("button", name="Start").click()
    expect(participant.locator(".jp-Launcher")).to_be_visible(timeout=180_000)

    # the trainer's broadcast appears in the participant's JupyterLab
    trainer.reload()
    expect(trainer.locator('#participants tr[data-username="alice"] .session-state')).to_contain_text("running")
    trainer.get_by_role("textbox", name="Message").fill("Break until 14:00 — save your work")
    trainer.get_by_role("button", name="Send to everyone's JupyterLab").click()
    expect(trainer.locator("#fh-message")).to_contain_text("Message sent")
    expect(participant.get_by_text("Break until 14:00 — save your work")).to_be_visible(timeout=60_000)

    # a guest without an account takes a pool seat and logs in with it
    guest = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
    guest.goto(links[1])
    guest.get_by_label("Your name (shown to your trainer)").fill("Grace")
    guest.get_by_role("button", name="Get a training login").click()
    username = guest.locator("#pool-username").inner_text()
    password = guest.locator("#pool-password").inner_text()
    assert username.startswith("train")
    guest.get_by_role("link", name="Log in").click()
    expect(guest.get_by_label("User name")).to_have_value(username)
    guest.get_by_label("Password").fill(password)
    guest.get_by_role("button", name="Log in").click()
    guest.wait_for_url(re.compile(r".*/hub/(home|spawn).*"))
    assert call(hub, "tina", "GET", f"workshops/{wid}/participants").json()["participants"][1]["username"] == username

    # the trainer ends it: the report stays, the reservation goes
    trainer.on("dialog", lambda dialog: dialog.accept())
    trainer.get_by_role("button", name="End workshop now").click()
    expect(trainer.locator("#report-total")).to_contain_text("2 participants", timeout=300_000)
    assert f"ws-{wid}" not in slurm_cluster.run("scontrol", "--oneliner", "show", "reservation").stdout
