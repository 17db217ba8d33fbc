"""The workshops service in the hub's configuration: on Slurm only, least-privilege roles, the pool login page."""
from __future__ import annotations

import yaml
from traitlets.config import Config

from factoryhub.hubconfig import configure
from factoryhub.site import load_site
from tests.harness.hub import REPO


def configured(tmp_path, edit=None) -> Config:
    site = yaml.safe_load((REPO / "site.example.yaml").read_text())
    site["services"]["workshops"] = {"trainers": ["tina"], "pool_accounts": ["train01"]}
    if edit:
        edit(site)
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    c = Config()
    configure(c, load_site(str(tmp_path / "site.yaml")))
    return c


def listed(value) -> list:
    """A list option the configuration appended to (a LazyConfigValue in a traitlets Config)."""
    return value.to_dict().get("extend", []) if hasattr(value, "to_dict") else value


def roles(c) -> dict[str, dict]:
    return {r["name"]: r for r in listed(c.JupyterHub.load_roles)}


def services(c) -> dict[str, dict]:
    return {s["name"]: s for s in listed(c.JupyterHub.services)}


def test_trainers_get_the_workshop_scopes_and_nothing_over_other_users(tmp_path):
    c = configured(tmp_path)
    trainer = roles(c)["factoryhub-trainer"]
    assert trainer["users"] == ["tina"]
    assert sorted(trainer["scopes"]) == ["access:services!service=factoryhub-workshops", "custom:workshops:train"]
    assert "custom:workshops:admin" in roles(c)["workshops-admin"]["scopes"]
    assert roles(c)["factoryhub-workshop-login"]["scopes"][0] == "custom:workshops:pool-login"
    user = roles(c)["user"]["scopes"]
    assert "access:services!service=factoryhub-workshops" in user


def test_the_service_runs_with_its_database_in_the_environment_and_the_login_page_asks_it(tmp_path):
    c = configured(tmp_path)
    service = services(c)["factoryhub-workshops"]
    assert "--home-policy=keep" in service["command"] and '--pool-accounts=["train01"]' in service["command"]
    assert service["environment"]["FACTORYHUB_DB_URL"].endswith("workshops.sqlite")
    assert not any("sqlite" in part for part in service["command"]), "no database URL on the command line"
    assert c.WorkshopLoginConfig.service_api_url == f"{service['url']}/services/factoryhub-workshops/api/v1"
    assert c.WorkshopLoginConfig.token == services(c)["factoryhub-workshop-login"]["api_token"]
    assert c.JupyterHub.template_vars["factoryhub_workshop_login"] is True


def test_no_workshops_without_slurm(tmp_path):
    def local(site):
        site["sessions"]["backend"] = "local"

    c = configured(tmp_path, local)
    assert "factoryhub-workshops" not in services(c) and "factoryhub-trainer" not in roles(c)


def test_join_links_start_with_the_hubs_public_address_when_the_site_names_one(tmp_path):
    def public(site):
        site["hub"]["public_url"] = "http://127.0.0.1:8443/"  # loopback: local accounts stay allowed

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    named = services(configured(tmp_path / "a", public))["factoryhub-workshops"]["command"]
    unnamed = services(configured(tmp_path / "b"))["factoryhub-workshops"]["command"]
    assert "--public-url=http://127.0.0.1:8443/" in named
    assert "--public-url=" in unnamed, "empty: each request's own address"
