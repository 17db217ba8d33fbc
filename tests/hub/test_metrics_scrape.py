"""Prometheus metrics on a real hub (issue 18, first part): the hub's /hub/metrics and each service's
/metrics answer the metrics identity's token in Prometheus's text format, carry FactoryHub's metrics
after a spawn, a refusal and a search, and refuse a token without read:metrics."""
from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.hub
SERVICES = ("factoryhub-quota", "factoryhub-catalogue", "factoryhub-dashboards", "factoryhub-announcements")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("metrics-hub")) as hub:
        hub.metrics = {"Authorization": f"token {(hub.state_dir / 'metrics-token').read_text().strip()}"}
        hub.researcher = {"Authorization": f"token {hub.api_token('researcher')}"}
        yield hub


def scrape(hub, path: str) -> dict[str, list]:
    resp = requests.get(f"{hub.url}{path}", headers=hub.metrics, timeout=30)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    return {family.name: family.samples for family in text_string_to_metric_families(resp.text)}


def sample(families: dict, name: str, **labels) -> float | None:
    for family_samples in families.values():
        for s in family_samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def test_spawns_refusals_and_searches_show_in_the_scrapes_and_only_the_metrics_role_reads_them(hub):
    server = f"{hub.url}/hub/api/users/researcher/server"
    refused = requests.post(server, headers=hub.researcher, timeout=60,
                            json={"user_options": {"profile": "notebook-small", "walltime_hours": 99}})
    assert refused.status_code == 400
    started = requests.post(server, headers=hub.researcher, timeout=60,
                            json={"user_options": {"profile": "notebook-small"}})
    assert started.status_code in (201, 202), started.text

    def ready():
        model = requests.get(f"{hub.url}/hub/api/users/researcher", headers=hub.researcher, timeout=10).json()
        return (model["servers"].get("") or {}).get("ready")
    wait_until(ready, 90, "researcher's session ready", interval=0.5)
    try:
        catalogue = f"{hub.url}/services/factoryhub-catalogue/api/v1/entries?q=climate"
        assert requests.get(catalogue, headers=hub.researcher, timeout=30).status_code == 200

        hub_metrics = scrape(hub, "/hub/metrics")
        assert sample(hub_metrics, "factoryhub_spawn_duration_seconds_count", profile="notebook-small",
                      outcome="started") == 1
        assert sample(hub_metrics, "factoryhub_spawn_duration_seconds_count", profile="none", outcome="refused") == 1
        assert "jupyterhub_server_spawn_duration_seconds" in hub_metrics  # JupyterHub's own, beside ours
        assert sample(scrape(hub, "/services/factoryhub-catalogue/metrics"),
                      "factoryhub_catalogue_searches_total") >= 1
        quota = scrape(hub, "/services/factoryhub-quota/metrics")
        assert sample(quota, "factoryhub_quota_holds_outstanding") == 0  # local sessions hold nothing
        assert sample(quota, "factoryhub_quota_refusals_total") == 0
        assert sample(scrape(hub, "/services/factoryhub-dashboards/metrics"), "factoryhub_dashboards_published") == 0
        assert sample(scrape(hub, "/services/factoryhub-announcements/metrics"), "factoryhub_announcements_current",
                      level="warning") == 0
    finally:
        requests.delete(server, headers=hub.researcher, timeout=60)

    for path in ("/hub/metrics", *(f"/services/{s}/metrics" for s in SERVICES)):
        assert requests.get(f"{hub.url}{path}", headers=hub.researcher, timeout=30).status_code == 403, path
        assert requests.get(f"{hub.url}{path}", timeout=30, allow_redirects=False).status_code in (401, 403), path
