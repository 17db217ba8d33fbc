"""The dashboards service in the hub's configuration: guests' empty role, least-privilege service, dash- servers."""
from __future__ import annotations

from factoryhub.guest_login import GUEST_GROUP, GUEST_ROLE
from tests.unit.test_workshops_wiring import configured, roles, services


def test_guests_hold_a_role_that_grants_only_their_identity_and_the_service_deletes_only_guests(tmp_path):
    c = configured(tmp_path)
    assert roles(c)[GUEST_ROLE]["scopes"] == ["read:users:name!user", "read:users:groups!user"]
    assert "users" not in roles(c)[GUEST_ROLE]
    service = roles(c)["factoryhub-dashboards"]["scopes"]
    assert f"delete:users!group={GUEST_GROUP}" in service
    assert not {"admin:users", "delete:users", "access:servers", "shares", "tokens"} & set(service)
    assert roles(c)["factoryhub-dashboard-login"]["scopes"][0] == "custom:dashboards:guest-login"
    assert "access:services!service=factoryhub-dashboards" in roles(c)["user"]["scopes"]


def test_the_site_settings_reach_the_service_and_the_spawner(tmp_path):
    def edit(site):
        site["sessions"]["named_servers_per_user"] = 0
        site["services"]["dashboards"] = {"link_max_hours": 48, "link_default_hours": 24, "guest_hours": 2,
                                          "max_viewers_per_dashboard": 7, "idle_stop_minutes": 15,
                                          "max_per_owner": 2, "guest_terms": "Be kind.\n\nNo secrets."}
    c = configured(tmp_path, edit)
    command = services(c)["factoryhub-dashboards"]["command"]
    for flag in ("--link-max-seconds=172800", "--link-default-seconds=86400", "--guest-seconds=7200",
                 "--max-per-owner=2", "--terms=Be kind.\n\nNo secrets."):
        assert flag in command
    assert c.SlurmSessionSpawner.dashboard_max_viewers == 7 and c.SlurmSessionSpawner.dashboard_idle_minutes == 15
    assert c.JupyterHub.allow_named_servers is True and c.JupyterHub.named_server_limit_per_user == 2
    assert c.SlurmSessionSpawner.named_sessions is False  # only dash- servers are named on this site
    assert c.GuestLoginConfig.service_api_url.endswith("/services/factoryhub-dashboards/api/v1")


def test_switched_off_there_is_no_service_and_no_guest_login(tmp_path):
    def edit(site):
        site["services"]["dashboards"] = {"enabled": False}
    c = configured(tmp_path, edit)
    assert "factoryhub-dashboards" not in services(c) and "service_api_url" not in c.GuestLoginConfig
