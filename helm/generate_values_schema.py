"""Write helm/factoryhub/values.schema.json: the chart's own keys plus the site model's schema.

The chart's keys are hand-written in helm/chart-values.schema.yaml; the ``site`` block is
generated from the pydantic model (``factoryhub site-schema``), so values are checked against
the same rules as a site.yaml and cannot drift from it. On top of the model the chart removes
the keys it owns (paths of mounted Secrets, listen addresses inside the pod) and allows only
what makes sense on Kubernetes (OIDC login, Slurm sessions, PostgreSQL without a password in
the URL). tests/unit/test_helm_chart.py fails when the committed file differs from the output.

    python helm/generate_values_schema.py          # rewrite the committed file
    python helm/generate_values_schema.py --check  # exit 1 when it is stale
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from factoryhub.site.model import Site

HERE = Path(__file__).parent
CHART_PART = HERE / "chart-values.schema.yaml"
OUTPUT = HERE / "factoryhub" / "values.schema.json"

# Keys of site.yaml the chart sets itself (the pod's layout); setting them in values is refused.
CHART_OWNED = {
    ("hub", "bind_url"): "http://0.0.0.0:8000/ (the proxy's container port)",
    ("hub", "hub_bind_url"): "http://0.0.0.0:8081 (jobs reach it through hubApi.connectUrl)",
    ("hub", "state_dir"): "an emptyDir or hub.state.existingClaim",
    ("auth", "client_secret_file"): "an owner-only copy of secrets.oidcClientSecret",
    ("auth", "username_map_file"): "the file of usernameMap",
    ("slurm", "conf"): "slurm.conf from slurm.confSecret",
    ("services", "quota", "bind_url"): "a fixed port inside the pod",
    ("services", "catalogue", "bind_url"): "a fixed port inside the pod",
    ("services", "workshops", "bind_url"): "a fixed port inside the pod",
    ("services", "dashboards", "bind_url"): "a fixed port inside the pod",
    ("services", "announcements", "bind_url"): "a fixed port inside the pod",
    ("hub", "admin_users"): "none; with OIDC login the admins are the members of auth.admin_groups",
}
POSTGRES_URL = r"^postgresql(\+(psycopg|psycopg2))?://[^:@/\s]+@[^@\s]+$"
DB_HELP = (" On Kubernetes: PostgreSQL only, with no password in the URL (it comes from the pgpass file of "
           "database.pgpassSecret), e.g. postgresql+psycopg://quota@db.example.eu:5432/quota.")


def _inline(node, defs):
    """The schema with every ``$ref`` replaced by its definition; titles and OpenAPI keywords dropped."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {**target, **_inline({k: v for k, v in node.items() if k != "$ref"}, defs)}
    out = {}
    for key, value in node.items():
        if key in ("title", "discriminator", "$defs"):
            continue
        if key == "properties":  # a mapping of names, not keywords: keep every name (a profile's "title")
            out[key] = {name: _inline(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _inline(value, defs)
    return out


def _describe_tags(node) -> None:
    """Give the variant tags of tagged unions (``kind``) the description the model leaves off."""
    if isinstance(node, list):
        for item in node:
            _describe_tags(item)
    elif isinstance(node, dict):
        for prop in node.get("properties", {}).values():
            if "const" in prop and "description" not in prop:
                prop["description"] = f"Which kind this is: {prop['const']}."
        for value in node.values():
            _describe_tags(value)


def _at(schema: dict, *path: str) -> dict:
    for key in path:
        schema = schema["properties"][key]
    return schema


def site_schema() -> dict:
    """The model's schema, inlined and narrowed to what the chart deploys."""
    raw = Site.model_json_schema()
    schema = _inline(raw, raw["$defs"])
    schema["description"] = ("The site description, rendered as it is into the hub's site.yaml (the same model "
                             "as docs/site.md; `factoryhub check-site` checks a file against it).")
    oidc = next(v for v in schema["properties"]["auth"]["oneOf"] if v["properties"]["kind"].get("const") == "oidc")
    oidc["description"] = schema["properties"]["auth"]["description"].split(":")[0] + \
        ": on Kubernetes, OIDC (local accounts need a loopback-only hub)."
    schema["properties"]["auth"] = oidc
    _describe_tags(schema)
    for path, owner in CHART_OWNED.items():
        parent = _at(schema, *path[:-1])
        del parent["properties"][path[-1]]
        if path[-1] in parent.get("required", []):
            parent["required"].remove(path[-1])
            if not parent["required"]:
                del parent["required"]
        parent["description"] += f" ({path[-1]} is set by the chart: {owner}.)"
    backend = _at(schema, "sessions", "backend")
    backend["enum"] = ["slurm"]
    backend["default"] = "slurm"
    backend["description"] += " On Kubernetes: slurm."
    public = _at(schema, "hub", "public_url")
    public["pattern"] = r"^https?://[^\s/?#]+/?$"
    public["description"] += " Required by the chart: the Ingress host and the OIDC callback come from it."
    hub = _at(schema, "hub")
    hub["required"] = ["public_url"]
    databases = _at(schema, "databases")
    databases["required"] = sorted(databases["properties"])
    for prop in databases["properties"].values():
        prop["pattern"] = POSTGRES_URL
        prop["description"] += DB_HELP
        prop.pop("default", None)
    schema["required"] = sorted({*schema.get("required", []), "hub", "databases"})
    return schema


def values_schema() -> dict:
    """The whole values.schema.json."""
    schema = yaml.safe_load(CHART_PART.read_text())
    schema.pop("$defs")  # YAML anchors for the hand-written part; expanded where used
    schema["properties"]["site"] = site_schema()
    return schema


def render() -> str:
    """The file's text."""
    return json.dumps(values_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite values.schema.json, or with --check report whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
