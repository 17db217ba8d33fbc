"""The quota service's KPI report in the hub's configuration: it is told where the workshops and
catalogue services are only when the hub runs them, and its own role reads their figures and nothing else."""
from __future__ import annotations

import yaml
from traitlets.config import Config

from factoryhub.hubconfig import configure
from factoryhub.site import load_site
from tests.harness.databases import EMBEDDED_DEFAULT
from tests.harness.hub import REPO


def configured(tmp_path, source, edit=None) -> Config:
    site = yaml.safe_load(source.read_text())
    if edit:
        edit(site)
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    c = Config()
    configure(c, load_site(str(tmp_path / "site.yaml")))
    return c


def listed(value) -> list:
    return value.to_dict().get("extend", []) if hasattr(value, "to_dict") else value


def quota_of(c) -> tuple[dict, dict, dict]:
    """The quota service's entry, its own role, and every service by name."""
    services = {s["name"]: s for s in listed(c.JupyterHub.services)}
    roles = {r["name"]: r for r in listed(c.JupyterHub.load_roles)}
    return services["factoryhub-quota"], roles["factoryhub-quota"], services


def options(command: list[str], name: str) -> list[str]:
    return [part.split("=", 1)[1] for part in command if part.startswith(f"--{name}=")]


def test_on_slurm_with_workshops_the_report_asks_both_services(tmp_path):
    def with_workshops(site):
        site["services"]["workshops"] = {"trainers": ["tina"]}
    c = configured(tmp_path, REPO / "site.example.yaml", with_workshops)
    quota, role, services = quota_of(c)
    assert options(quota["command"], "workshops-url") == [
        f"{services['factoryhub-workshops']['url']}/services/factoryhub-workshops/api/v1"]
    assert options(quota["command"], "catalogue-url") == [
        f"{services['factoryhub-catalogue']['url']}/services/factoryhub-catalogue/api/v1"]
    assert sorted(role["scopes"]) == ["access:services!service=factoryhub-catalogue",
                                      "access:services!service=factoryhub-workshops", "custom:kpi:read"]
    assert role["services"] == ["factoryhub-quota"]
    assert "custom:kpi:read" in c.JupyterHub.custom_scopes.get_value({})


def test_the_embedded_default_has_no_workshops_so_the_report_is_not_told_of_any(tmp_path):
    c = configured(tmp_path, EMBEDDED_DEFAULT)
    quota, role, _ = quota_of(c)
    assert options(quota["command"], "workshops-url") == []
    assert len(options(quota["command"], "catalogue-url")) == 1
    assert sorted(role["scopes"]) == ["access:services!service=factoryhub-catalogue", "custom:kpi:read"]
