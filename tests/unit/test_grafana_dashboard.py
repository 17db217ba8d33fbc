"""docs/grafana-factoryhub.json asks only for metrics FactoryHub serves (docs/metrics.md lists them)."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_query_of_the_grafana_dashboard_names_a_documented_metric():
    dashboard = json.loads((ROOT / "docs/grafana-factoryhub.json").read_text())
    documented = set(re.findall(r"`(factoryhub_[a-z_]+)`", (ROOT / "docs/metrics.md").read_text()))
    used = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used |= {re.sub(r"_(bucket|count|sum)$", "", m) for m in re.findall(r"factoryhub_[a-z_]+", target["expr"])}
    assert used and used <= documented, used - documented
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_every_documented_metric_is_defined_in_the_code():
    documented = set(re.findall(r"`(factoryhub_[a-z_]+[a-z])`", (ROOT / "docs/metrics.md").read_text()))
    source = "".join(p.read_text() for folder in ("spawners", "extensions") for p in (ROOT / folder).rglob("*.py")
                     if "node_modules" not in p.parts)
    assert documented and not {m for m in documented if f'"{m}"' not in source}
