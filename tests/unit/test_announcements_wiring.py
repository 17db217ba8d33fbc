"""The announcements service in the hub's configuration: least-privilege roles, the hub's feed, switched off."""
from __future__ import annotations

from factoryhub.announcements_feed import PATH, AnnouncementsFeedMixin
from factoryhub.local_accounts import LocalAccountsAuthenticator
from factoryhub.oidc import FactoryHubOIDCAuthenticator
from tests.unit.test_workshops_wiring import configured, roles, services

SERVICE = "factoryhub-announcements"


def test_the_service_reads_groups_and_memberships_only_and_the_hub_reads_for_any_user(tmp_path):
    c = configured(tmp_path)
    assert sorted(roles(c)[SERVICE]["scopes"]) == ["access:services!service=factoryhub-quota", "custom:quota:read",
                                                   "read:users:groups"]
    reader = roles(c)["factoryhub-announcements-reader"]
    assert sorted(reader["scopes"]) == [f"access:services!service={SERVICE}", "custom:announcements:read-any"]
    assert roles(c)["announcements-admin"]["scopes"][0] == "custom:announcements:admin"
    assert f"access:services!service={SERVICE}" in roles(c)["user"]["scopes"]
    assert f"access:services!service={SERVICE}" in c.Spawner.server_token_scopes  # JupyterLab asks with it
    command = services(c)[SERVICE]["command"]
    assert any(a.startswith("--quota-url=http://127.0.0.1:") and a.endswith("/services/factoryhub-quota/api/v1/")
               for a in command)
    assert c.AnnouncementsConfig.service_api_url.endswith(f"/services/{SERVICE}/api/v1")
    assert c.AnnouncementsConfig.token == (tmp_path / ".factoryhub" / "announcements-reader-token").read_text() \
        or c.AnnouncementsConfig.token  # made once in the state directory
    assert c.JupyterHub.template_vars["factoryhub_announcements"] is True


def test_switched_off_there_is_no_service_no_feed_and_no_banner(tmp_path):
    def edit(site):
        site["services"]["announcements"] = {"enabled": False}
    c = configured(tmp_path, edit)
    assert SERVICE not in services(c) and "service_api_url" not in c.AnnouncementsConfig
    assert "factoryhub_announcements" not in c.JupyterHub.template_vars


def test_both_authenticators_serve_the_feed_only_where_the_service_runs():
    assert issubclass(LocalAccountsAuthenticator, AnnouncementsFeedMixin)
    assert issubclass(FactoryHubOIDCAuthenticator, AnnouncementsFeedMixin)
    with_service = LocalAccountsAuthenticator()
    with_service.config.AnnouncementsConfig.service_api_url = "http://127.0.0.1:1/services/x/api/v1"
    assert PATH in [path for path, *_ in with_service.get_handlers(None)]
    assert PATH not in [path for path, *_ in LocalAccountsAuthenticator().get_handlers(None)]
