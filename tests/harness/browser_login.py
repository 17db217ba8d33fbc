"""Signing in to a test hub in the browser through its login form (local accounts)."""
from __future__ import annotations

from playwright.sync_api import expect


def sign_in(page, hub, user: str, next_path: str = "/hub/home") -> None:
    """Fill in and send the hub's login form as ``user``; the hub then sends the page to ``next_path``."""
    page.goto(f"{hub.url}/hub/login?next={next_path}")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(hub.credentials()[user])
    page.get_by_role("button", name="Sign in").click()


def log_in_home(page, hub, user: str) -> None:
    """Sign in as ``user`` and wait for the hub's home page (its Services menu)."""
    sign_in(page, hub, user)
    expect(page.get_by_role("button", name="Services")).to_be_visible()
