"""The spawn form's maintenance warning in a real browser, following profile and walltime."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml
from playwright.sync_api import expect

from factoryhub.site import Profile
from factoryhub.spawners.maintenance import MaintenanceWindow
from factoryhub.spawners.options import render_form
from tests.harness.hub import REPO

pytestmark = pytest.mark.browser

PROFILES = [Profile.model_validate(p) for p in yaml.safe_load((REPO / "site.example.yaml").read_text())["profiles"]]


def test_the_warning_follows_the_chosen_walltime_and_partition(page, screenshot):
    now = dt.datetime.now(dt.UTC)
    starts = now + dt.timedelta(hours=5, minutes=30)
    window = MaintenanceWindow("maint-gpu", starts, starts + dt.timedelta(hours=2), frozenset({"gpu"}))
    form = render_form(PROFILES, {}, "gpu-1", ("proj-climate",), maintenance=[window], now=now)
    page.set_content(f'<form id="spawn_form">{form}</form>')
    expect(page.locator("#factoryhub-maintenance")).to_contain_text("maint-gpu")
    warning = page.locator("#factoryhub-maintenance-warning")
    expect(warning).to_be_hidden()  # gpu-1: 4 h ends before the maintenance
    page.locator('input[name="profile"][value="gpu-4-finetune"]').check()  # 8 h by default
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Your session would end after maintenance maint-gpu starts at")
    expect(warning).to_contain_text("Choose at most 5.25 h to start now.")
    screenshot("spawn-form-maintenance")
    page.get_by_label("Walltime (hours; empty for the profile default)").fill("5")
    expect(warning).to_be_hidden()
    page.get_by_label("Walltime (hours; empty for the profile default)").fill("8")
    expect(warning).to_be_visible()
    page.locator('input[name="profile"][value="cpu-small"]').check()  # the cpu partition has no maintenance
    expect(warning).to_be_hidden()
