"""Institutional login for real: a real OIDC provider (npm oidc-provider) on loopback, the hub with
FactoryHub's OIDC authenticator on the real Slurm cluster, and chromium clicking through the login.

Identity mapping (claim -> Unix user with a Slurm association), groups and roles from the
entitlements claim synced at every login, refusals explained before anything is created, logout,
tampered state or code, PKCE and refresh of an expired access token."""
from __future__ import annotations

import pwd
import re
import sqlite3
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.harness.hub import SERVICE_USER, HubProcess, wait_until
from tests.harness.oidc import CLIENT_ID, OIDCProvider
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.browser

URN = "urn:mace:example.eu:group:"
ALICE = "alice@uni.example"
HELP = "Apply for an HPC account and ask your PI to add you to a project."
HELP_URL = "https://access.example.eu/apply?from=hub&lang=en"


def low_uid_account() -> str:
    """A system account of this machine below min_uid that no built-in name list covers."""
    from factoryhub.system_accounts import ALWAYS_DENIED

    return next(a.pw_name for a in sorted(pwd.getpwall(), key=lambda a: a.pw_uid)
                if 0 < a.pw_uid < 1000 and a.pw_name not in ALWAYS_DENIED)


# the hub on Slurm runs as its service user (tests/harness/hub.py): a claim naming it is refused too
SYSTEM_ACCOUNTS = ["root", "daemon", "nobody", SERVICE_USER, low_uid_account()]


def entitlements(*groups: str) -> list[str]:
    return [f"{URN}{g}" for g in groups] + ["urn:mace:other.example:unrelated-thing"]


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("oidc-hub")
    hub = HubProcess(workdir)
    # access tokens live 4 s: the refresh test waits them out instead of forging an expiry
    provider = OIDCProvider(workdir, redirect_uri=f"{hub.url}/hub/oauth_callback", access_token_ttl=4)
    provider.set_person(ALICE, hpc_username="alice", name="Alice Example", email=ALICE,
                        eduperson_entitlement=entitlements("proj-climate", "hub-admins", "data-stewards"))
    provider.set_person("dave@uni.example", hpc_username="dave", name="Dave", eduperson_entitlement=[])
    provider.set_person("erin@uni.example", hpc_username="erin", name="Erin", eduperson_entitlement=[])
    for name in SYSTEM_ACCOUNTS:  # admins by claim, too: that must not open the door either
        provider.set_person(f"{name}@uni.example", hpc_username=name, name=name,
                            eduperson_entitlement=entitlements("hub-admins"))
    secret = provider.write_client_secret(workdir / "oidc-client-secret")

    def oidc(site):
        site["hub"]["admin_users"] = []
        site["hub"]["bind_url"] = f"{hub.url}/"  # the provider only returns to the registered callback
        site["auth"] = {"kind": "oidc", "issuer": provider.issuer, "display_name": "Example University",
                        "client_id": CLIENT_ID, "client_secret_file": str(secret),
                        "scopes": ["openid", "profile", "email", "entitlements", "offline_access"],
                        "username_claim": "hpc_username", "groups_claim": "eduperson_entitlement",
                        "group_rules": [{"pattern": "^urn:mace:example\\.eu:group:(?P<group>[a-z0-9-]+)$"}],
                        "admin_groups": ["hub-admins"], "trainer_groups": ["trainers"],
                        "account_help": HELP, "account_help_url": HELP_URL, "refresh_seconds": 1}
        site["services"]["catalogue"]["steward_groups"] = ["data-stewards"]
    hub.site_file = edit_site(cluster_site(slurm_cluster, workdir), oidc)
    with provider, hub:
        hub.provider = provider
        yield hub


def hub_db(hub) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{hub.state_dir / 'jupyterhub.sqlite'}?mode=ro", uri=True)


def user_row(hub, name):
    with hub_db(hub) as db:
        return db.execute("SELECT name, admin, encrypted_auth_state FROM users WHERE name = ?", (name,)).fetchone()


def groups_of(hub, name) -> set[str]:
    with hub_db(hub) as db:
        rows = db.execute("SELECT g.name FROM groups g JOIN user_group_map m ON m.group_id = g.id "
                          "JOIN users u ON u.id = m.user_id WHERE u.name = ?", (name,)).fetchall()
    return {r[0] for r in rows}


def login(page, hub, login_name):
    """The whole flow a user sees: the hub's button, the provider's form and consent (each only
    when the provider asks: it remembers a browser that signed in before), back at the hub."""
    page.goto(f"{hub.url}/hub/login")
    page.get_by_role("button", name="Sign in with Example University").click()
    for _ in range(3):
        page.wait_for_url(lambda url: "/interaction/" in url or url.startswith(f"{hub.url}/"))
        if not urlsplit(page.url).path.startswith("/interaction/"):
            break
        if page.locator("input[name=login]").count():
            page.locator("input[name=login]").fill(login_name)
            page.locator("input[name=password]").fill("any password: the provider's development login")
            page.get_by_role("button", name="Sign-in").click()
        else:
            page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()


def logout(page, hub):
    page.goto(f"{hub.url}/hub/logout")
    page.wait_for_url(re.compile(r".*/hub/(login|logout).*"))


def xsrf(page) -> dict:
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "_xsrf"), "")
    return {"X-XSRFToken": token}


def api(page, hub, path, method="GET", **kw):
    return page.request.fetch(f"{hub.url}/hub/api/{path}", method=method, headers=xsrf(page), **kw)


def test_login_maps_the_identity_and_takes_groups_and_roles_from_the_claims(hub, page, screenshot):
    login(page, hub, ALICE)
    page.wait_for_url(re.compile(r".*/hub/(spawn|home).*"))
    screenshot("oidc-logged-in")
    assert "alice" in page.content()
    me = api(page, hub, "user").json()
    assert me["name"] == "alice" and me["admin"] is True
    assert groups_of(hub, "alice") == {"proj-climate", "hub-admins", "data-stewards"}  # not the unrelated value
    # the admin's roles follow the group: the quota service's admin pages open for her
    page.goto(f"{hub.url}/services/factoryhub-quota/admin")
    page.get_by_role("heading", name="Manage allocations").wait_for()
    # auth_state holds the tokens (an admin may read it) but is stored encrypted
    state = api(page, hub, "users/alice").json()["auth_state"]
    assert state["access_token"] and state["refresh_token"]
    encrypted = user_row(hub, "alice")[2]
    assert encrypted and state["access_token"].encode() not in encrypted and b"proj-climate" not in encrypted


def test_a_later_login_without_the_claims_takes_groups_and_admin_away(hub, page):
    login(page, hub, ALICE)
    page.wait_for_url(re.compile(r".*/hub/(spawn|home).*"))
    # a membership the provider never claimed (a catalogue approval grants dataset groups like this)
    api(page, hub, "groups/sensor-restricted", method="POST")  # made if missing (409 if there)
    granted = api(page, hub, "groups/sensor-restricted/users", method="POST", data={"users": ["alice"]})
    assert granted.ok, granted.text()
    logout(page, hub)

    hub.provider.set_person(ALICE, hpc_username="alice", name="Alice Example", email=ALICE,
                            eduperson_entitlement=entitlements("proj-genomics", "trainers", "data-stewards"))
    login(page, hub, ALICE)
    page.wait_for_url(re.compile(r".*/hub/(spawn|home).*"))
    assert groups_of(hub, "alice") == {"proj-genomics", "trainers", "data-stewards", "sensor-restricted"}
    assert user_row(hub, "alice")[1] == 0, "admin must go with the claim"
    assert "auth_state" not in api(page, hub, "users/alice").json(), "admin:auth_state must go with the admin claim"
    assert api(page, hub, "users/someone-new", method="POST").status == 403, "creating users is for admins"
    # trainers act on their own workshops' participants in the workshops service, never on every user
    assert api(page, hub, "users").status == 403
    quota = page.goto(f"{hub.url}/services/factoryhub-quota/admin")
    assert quota.status == 403
    # still a data steward without being an admin: the steward role follows data-stewards
    page.goto(f"{hub.url}/services/factoryhub-catalogue/steward")
    page.get_by_role("heading", name="Data stewardship").wait_for()


def test_logout_clears_the_session_and_a_copied_cookie_stops_working(hub, page, browser):
    login(page, hub, ALICE)
    page.wait_for_url(re.compile(r".*/hub/(spawn|home).*"))
    copied = page.context.cookies()
    logout(page, hub)
    assert api(page, hub, "user").status == 403
    page.goto(f"{hub.url}/hub/home")
    assert "/hub/login" in page.url
    replay = browser.new_context()
    try:
        replay.add_cookies(copied)
        assert replay.request.get(f"{hub.url}/hub/api/user").status == 403
    finally:
        replay.close()


@pytest.mark.parametrize("login_name, said", [
    ("dave@uni.example", "dave has no HPC account on this system yet"),
    ("erin@uni.example", "Your HPC account erin belongs to no project (Slurm account) yet"),
])
def test_a_user_without_unix_account_or_project_is_refused_and_not_created(hub, page, screenshot, login_name,
                                                                            said):
    login(page, hub, login_name)
    refusal = page.locator("#factoryhub-refusal")
    refusal.wait_for()
    assert said in refusal.inner_text()
    assert page.locator("#factoryhub-account-help").inner_text() == HELP
    assert page.locator("#factoryhub-account-help-link").get_attribute("href") == HELP_URL
    screenshot(f"oidc-refused-{login_name.split('@')[0]}")
    name = login_name.split("@")[0]
    assert user_row(hub, name) is None, f"{name} was half-created"
    assert api(page, hub, "user").status == 403


@pytest.mark.parametrize("name", sorted(set(SYSTEM_ACCOUNTS)))
def test_a_claim_naming_a_system_account_is_refused_and_creates_no_user(hub, page, name):
    login(page, hub, f"{name}@uni.example")
    refusal = page.locator("#factoryhub-refusal")
    refusal.wait_for()
    assert "Sessions never run as system accounts" in refusal.inner_text()
    assert page.locator("#factoryhub-account-help").inner_text() == HELP
    assert user_row(hub, name) is None, f"{name} was created"
    assert api(page, hub, "user").status == 403


def test_tampered_state_or_code_is_refused_and_the_flow_uses_pkce(hub):
    session = requests.Session()
    start = session.get(f"{hub.url}/hub/oauth_login", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    state = query["state"][0]

    tampered_state = session.get(f"{hub.url}/hub/oauth_callback", params={"code": "x", "state": state[:-4] + "AAAA"},
                                 allow_redirects=False, timeout=10)
    assert tampered_state.status_code == 400 and "state" in tampered_state.text.lower()

    bogus_code = session.get(f"{hub.url}/hub/oauth_callback", params={"code": "forged-code", "state": state},
                             allow_redirects=False, timeout=30)
    assert bogus_code.status_code >= 400
    assert not any(c.name.startswith("jupyterhub-hub-login") for c in session.cookies)


def test_an_expired_access_token_is_refreshed_without_a_new_login(hub, page):
    hub.provider.set_person(ALICE, hpc_username="alice", name="Alice Example", email=ALICE,
                            eduperson_entitlement=entitlements("proj-climate", "hub-admins"))
    login(page, hub, ALICE)
    page.wait_for_url(re.compile(r".*/hub/(spawn|home).*"))
    first = api(page, hub, "users/alice").json()["auth_state"]
    assert first["access_token"] and first["refresh_token"], "offline_access must give the hub a refresh token"
    marker = "Refreshing oauth access token for alice"
    seen_before = hub.log_path.read_text().count(marker)
    # the provider moves her to another project meanwhile: the refresh re-reads the claims
    hub.provider.set_person(ALICE, hpc_username="alice", name="Alice Example", email=ALICE,
                            eduperson_entitlement=entitlements("proj-genomics", "hub-admins"))

    def refreshed_with_the_refresh_token():
        assert api(page, hub, "user").ok, "the session must survive the refresh"
        return hub.log_path.read_text().count(marker) > seen_before
    # the provider's access tokens live 4 s; the hub re-checks them every second
    wait_until(refreshed_with_the_refresh_token, 30, "the hub to refresh alice's expired access token", interval=1)
    now = api(page, hub, "users/alice").json()["auth_state"]
    assert now["access_token"] != first["access_token"]
    groups = groups_of(hub, "alice")
    assert {"proj-genomics", "hub-admins"} <= groups and "proj-climate" not in groups
