"""The spawn form's live cost, in a real browser: the rendered form as the hub serves it."""
from __future__ import annotations

import json

import pytest
import yaml
from playwright.sync_api import expect

from factoryhub.site import Profile
from factoryhub.spawners.options import render_form
from tests.harness.hub import REPO

pytestmark = pytest.mark.browser

PROFILES = [Profile.model_validate(p) for p in yaml.safe_load((REPO / "site.example.yaml").read_text())["profiles"]]


def test_the_cost_follows_profile_gpus_walltime_and_project(page, screenshot):
    form = render_form(PROFILES, {}, "gpu-1", ("proj-climate", "sme-visionai"),
                       balances={"proj-climate": 12.5, "sme-visionai": 3})
    page.set_content(f'<form id="spawn_form">{form}</form>')
    cost = page.locator("#factoryhub-cost")
    expect(cost).to_have_text("This session may cost up to 4.00 GPU-hours of the 12.50 left in proj-climate.")
    page.get_by_label("Walltime (hours; empty for the profile default)").fill("1.5")
    expect(cost).to_have_text("This session may cost up to 1.50 GPU-hours of the 12.50 left in proj-climate.")
    page.locator('input[name="profile"][value="gpu-2"]').check()
    expect(cost).to_contain_text("up to 3.00 GPU-hours")  # 2 GPUs x 1.5 h
    page.get_by_label("GPUs (empty for the profile's count)").fill("1")
    expect(cost).to_contain_text("up to 1.50 GPU-hours")
    page.get_by_label("Project (Slurm account charged)").select_option("sme-visionai")
    expect(cost).to_have_text("This session may cost up to 1.50 GPU-hours of the 3.00 left in sme-visionai.")
    page.locator('input[name="profile"][value="workshop"]').check()  # half price
    expect(cost).to_contain_text("up to 0.75 GPU-hours")
    page.locator('input[name="profile"][value="cpu-small"]').check()
    expect(cost).to_have_text("This session uses no GPU-hours.")
    screenshot("spawn-form-cost")


def test_the_live_estimate_shows_every_case_of_the_shared_cost_table(page):
    """The rendered form in a real browser, on tests/fixtures/cost-cases.json: the estimate is the
    table's form_text (the hold as the quota service words it) for each GPU count, walltime and price."""
    cases = json.loads((REPO / "tests" / "fixtures" / "cost-cases.json").read_text())["cases"]
    base = PROFILES[1]
    for case in cases:
        profile = base.model_copy(update={"gpus": case["gpus"], "price": case["price"], "max_walltime_hours": 720.0})
        page.set_content(f'<form id="spawn_form">{render_form([profile], {}, profile.id)}</form>')
        page.locator("#walltime_hours").fill(repr(case["hours"]))
        expected = (f"This session may cost up to {case['form_text']} GPU-hours." if case["gpus"]
                    else "This session uses no GPU-hours.")
        expect(page.locator("#factoryhub-cost")).to_have_text(expected)
