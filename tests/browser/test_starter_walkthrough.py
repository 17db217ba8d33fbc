"""A trainee's first steps (issue 16), in a real browser against the embedded hub (local sessions, no
Slurm): log in, click the starter notebooks card, open notebook 01, run it on the CPU. Passes only when
the notebook as saved holds every exercise's "passed" line; a failing cell fails the test at once."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import nbformat
import pytest
import requests
from playwright.sync_api import expect

from tests.harness.hub import REPO, HubProcess, wait_until
from tests.harness.notebooks import exercise_cells

pytestmark = pytest.mark.browser

NOTEBOOK = "01-cupy-basics.ipynb"
PASSED = [f"Exercise {name}: passed" for name in exercise_cells(nbformat.read(REPO / "notebooks" / NOTEBOOK, 4))]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("starter-walkthrough")) as hub:
        yield hub


def saved_run(hub, token: str) -> tuple[list[str], bool]:
    """The saved notebook's printed text, and whether every code cell has run; a cell's error fails the test."""
    answer = requests.get(f"{hub.url}/user/researcher/api/contents/factoryhub-starter/{NOTEBOOK}", timeout=30,
                          headers={"Authorization": f"token {token}"})
    answer.raise_for_status()
    cells = [c for c in answer.json()["content"]["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in cells for o in c["outputs"]]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert not errors, f"notebook 01 failed in JupyterLab: {errors}"
    return [o.get("text", "") for o in outputs if o["output_type"] == "stream"], all(
        c["execution_count"] for c in cells)


def test_a_trainee_runs_starter_notebook_01_on_the_cpu(hub, page, screenshot):
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/login?next=/hub/spawn")
    page.get_by_label("Username").fill("researcher")
    page.get_by_label("Password").fill(hub.credentials()["researcher"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=120_000)

    page.locator(".jp-LauncherCard", has_text="FactoryHub starter notebooks").click()
    expect(page.get_by_text("Starter notebooks copied to factoryhub-starter/")).to_be_visible()
    entry = page.locator(".jp-DirListing-item", has_text=NOTEBOOK)
    entry.dblclick()  # the card opened the folder in the file browser
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".jp-Cell").first).to_be_visible()

    # the copy names the python3 kernel, so it starts without asking; were a dialog to ask anyway, accept it
    kernel_idle = page.locator(".jp-StatusBar-Widget", has_text="Idle")
    dialog = page.locator(".jp-Dialog")
    expect(kernel_idle.or_(dialog).first).to_be_visible(timeout=90_000)
    if dialog.is_visible():
        screenshot("starter-walkthrough-kernel-dialog")
        dialog.locator(".jp-mod-accept").click()
        expect(kernel_idle.first).to_be_visible(timeout=90_000)

    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

    token = hub.api_token("researcher")

    def saved_and_complete():
        page.keyboard.press("Control+s")
        printed, all_ran = saved_run(hub, token)
        return all_ran and all(any(line in text for text in printed) for line in PASSED)

    try:
        wait_until(saved_and_complete, 240, "notebook 01 run to its end, every exercise passed and saved",
                   interval=2)
    finally:
        screenshot("starter-walkthrough-notebook-01")


def test_the_hub_home_page_opens_jupyterlab_with_the_starter_notebooks(hub, page):
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(hub.credentials()["admin"])
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{hub.url}/hub/home")
    page.get_by_role("link", name="Open the starter notebooks").click()
    if "/hub/spawn" in page.url:  # no session yet: the spawn form first, then JupyterLab at the link's address
        page.get_by_role("button", name="Start").click()
    expect(page.locator(".jp-FileBrowser-crumbs")).to_contain_text("factoryhub-starter", timeout=180_000)
    assert "factoryhub-starter" not in parse_qs(urlparse(page.url).query), "a reload must not copy again"
    token = hub.api_token("admin")
    listing = requests.get(f"{hub.url}/user/admin/api/contents/factoryhub-starter", timeout=30,
                           headers={"Authorization": f"token {token}"}).json()
    assert NOTEBOOK in {entry["name"] for entry in listing["content"]}
    requests.delete(f"{hub.url}/hub/api/users/admin/server", timeout=60, headers={"Authorization": f"token {token}"})
