"""helm/factoryhub, offline: render and lint strict with the least a site sets and with every option,
validate every manifest against Kubernetes 1.31's schemas, check the rendered site.yaml against the
site model, the security settings, and that bad values are refused with a message naming the key."""
from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

from factoryhub.site import parse_site

helm = pytest.importorskip("helm_python", reason="the test extra installs helm-python-sdk")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="the test extra installs kubernetes-validate")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "factoryhub"
FIXTURES = ROOT / "tests" / "fixtures" / "helm"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
KUBERNETES = "1.31.0"
SUDO_CAPABILITIES = {"SETUID", "SETGID", "AUDIT_WRITE"}


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def _merge(base: dict, over: dict) -> dict:
    """Helm's layering of values files: mappings merge, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


MINIMAL = _load(FIXTURES / "minimal-values.yaml")
FULL = _load(FIXTURES / "full-values.yaml")
VALUES = {"minimal": MINIMAL, "full": FULL}


@pytest.fixture(scope="module")
def chart():
    """The chart, loaded once."""
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def _render(chart, values: dict) -> list[dict]:
    """Every object the chart renders (NOTES.txt aside)."""
    out = chart.render(values, name="factoryhub", namespace="hub", is_install=True)
    docs = []
    for name, text in sorted(out.items()):
        if not name.endswith(".yaml"):
            continue
        docs += [doc for doc in yaml.safe_load_all(text) if doc]
    return docs


def _one(docs: list[dict], kind: str) -> dict:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} objects of kind {kind}"
    return found[0]


@pytest.fixture(scope="module", params=sorted(VALUES))
def rendered(request, chart):
    """(effective values: defaults plus the file, rendered objects) for the minimal and the full values."""
    values = VALUES[request.param]
    return chart.merge_values(values), _render(chart, values)


def test_schema_is_the_generated_one():
    """values.schema.json's site block is generated from the site model: the committed file is current."""
    spec = importlib.util.spec_from_file_location("generate_values_schema", ROOT / "helm" / "generate_values_schema.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (CHART / "values.schema.json").read_text() == generator.render(), \
        "values.schema.json is stale: run .venv/bin/python helm/generate_values_schema.py"


def _objects(schema: dict, path: str = ""):
    """(path, schema) of every object schema and every schema reachable from it."""
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _objects(sub, f"{path}.{name}")
    for keyword in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(keyword, [])):
            yield from _objects(sub, f"{path}<{keyword}{i}>")
    if isinstance(schema.get("items"), dict):
        yield from _objects(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _objects(schema["additionalProperties"], f"{path}{{}}")


def test_schema_is_closed_and_described():
    """Every object refuses unknown keys (maps take strings only); every property says what it is."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    open_objects, undescribed = [], []
    for path, sub in _objects(schema):
        if sub.get("type") == "object" or "properties" in sub:
            extra = sub.get("additionalProperties")
            if extra is not False and extra != {"type": "string"}:
                open_objects.append(path or "(top)")
        for name, prop in sub.get("properties", {}).items():
            if not prop.get("description"):
                undescribed.append(f"{path}.{name}")
    assert not open_objects, f"objects without additionalProperties: false: {open_objects}"
    assert not undescribed, f"properties without a description: {undescribed}"


def _leaves(schema: dict, path=()):
    """Paths of the chart's own settings (leaves of its object schemas)."""
    props = schema.get("properties")
    if not props or schema.get("additionalProperties") is not False:
        yield path
        return
    for name, sub in props.items():
        yield from _leaves(sub, (*path, name))


def test_full_values_set_every_chart_option():
    """The full values file exercises every chart option (the site block is the model's, see docs/site.md)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    missing = []
    for name, sub in schema["properties"].items():
        if name == "site":
            continue
        for leaf in _leaves(sub, (name,)):
            node = FULL
            for key in leaf:
                if not isinstance(node, dict) or key not in node:
                    missing.append(".".join(leaf))
                    break
                node = node[key]
    assert not missing, f"full-values.yaml does not set: {missing}"


def test_defaults_alone_are_refused_naming_what_is_missing(chart):
    """A site must say where its login, databases and compute nodes are: the bare defaults do not install."""
    with pytest.raises(helm.HelmValuesError) as err:
        chart.render({}, name="factoryhub", namespace="hub", is_install=True)
    message = str(err.value)
    for key in ("/hubApi/connectUrl", "/computeNodes/cidrs", "missing properties 'auth', 'databases', 'hub'"):
        assert key in message


@pytest.mark.parametrize("name", sorted(VALUES))
def test_lint_strict(name):
    """helm lint --strict (warnings are errors) passes, for the Kubernetes version the manifests target."""
    report = helm.lint(CHART, VALUES[name], strict=True, kube_version=f"v{KUBERNETES}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"] and not problems, report


def test_every_manifest_validates(rendered):
    """Every rendered object is valid against Kubernetes' own schemas (strict: no unknown fields)."""
    _, docs = rendered
    kinds = {d["kind"] for d in docs}
    assert {"ServiceAccount", "ConfigMap", "Deployment", "Service", "NetworkPolicy"} <= kinds
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_site_yaml_is_the_site_model(rendered, tmp_path):
    """The ConfigMap's site.yaml passes the hub's own loader; the chart-owned paths are the pod's mounts."""
    values, docs = rendered
    data = yaml.safe_load(_one(docs, "ConfigMap")["data"]["site.yaml"])
    pod = _one(docs, "Deployment")["spec"]["template"]["spec"]
    hub = next(c for c in pod["containers"] if c["name"] == "hub")
    mounts = {m["mountPath"]: m["name"] for m in hub["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # The files the pod provides: check where they are, then stand in for them here (the loader
    # wants them to exist, owner-only).
    secret_file = Path(data["auth"]["client_secret_file"])
    assert mounts[str(secret_file.parent)] == "runtime-secrets"
    copier = next(c for c in pod["initContainers"] if c["name"] == "secret-files")
    assert f"/etc/factoryhub-secrets/oidc/{secret_file.name}" in copier["command"]
    assert volumes["oidc-client-secret"]["secret"]["secretName"] == values["secrets"]["oidcClientSecret"]["name"]
    stand_in = tmp_path / "client-secret"
    stand_in.write_text("x")
    stand_in.chmod(0o600)
    data["auth"]["client_secret_file"] = str(stand_in)
    if values.get("usernameMap", {}).get("configMap"):
        assert mounts[str(Path(data["auth"]["username_map_file"]).parent)] == "username-map"
        (tmp_path / "map.yaml").write_text("{}\n")
        data["auth"]["username_map_file"] = str(tmp_path / "map.yaml")
    site = parse_site(data, "rendered site.yaml")
    assert site.name == values["site"].get("name", "FactoryHub")
    assert site.sessions.backend == "slurm" and site.auth.kind == "oidc"
    assert site.profiles[0].id == values["site"]["profiles"][0]["id"]
    assert mounts[str(site.slurm.conf.parent)] == "slurm-conf"
    assert str(site.hub.state_dir).startswith(next(p for p, n in mounts.items() if n == "home"))
    assert mounts["/etc/factoryhub"] == "site"
    assert {"name": "FACTORYHUB_SITE", "value": "/etc/factoryhub/site.yaml"} in hub["env"]
    assert f"--Spawner.hub_connect_url={values['hubApi']['connectUrl'].rstrip('/')}" in hub["args"]


def _containers(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod["containers"]


def test_least_privilege(rendered):
    """Non-root everywhere, no API token, no Role; only the hub may escalate, for sudo, with sudo's capabilities."""
    values, docs = rendered
    assert not {d["kind"] for d in docs} & {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
    assert _one(docs, "ServiceAccount")["automountServiceAccountToken"] is False
    pod = _one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not any(k in pod for k in ("hostNetwork", "hostPID", "hostIPC"))
    assert not any("hostPath" in v for v in pod["volumes"])
    for container in _containers(pod):
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] is True and ctx.get("runAsUser", 1) > 0, container["name"]
        assert ctx["readOnlyRootFilesystem"] is True, container["name"]
        assert ctx["capabilities"]["drop"] == ["ALL"], container["name"]
        assert not ctx.get("privileged"), container["name"]
        if container["name"] == "hub" and values["hub"]["sudo"]["enabled"]:
            assert ctx["allowPrivilegeEscalation"] is True
            assert set(ctx["capabilities"].get("add", [])) <= SUDO_CAPABILITIES
        else:
            assert ctx["allowPrivilegeEscalation"] is False, container["name"]
            assert "add" not in ctx["capabilities"], container["name"]
    # Secrets reach the pod as files, never as values rendered into a manifest.
    text = yaml.safe_dump_all(docs)
    assert "hunter2" not in text and "BEGIN" not in text


def test_without_sudo_nothing_escalates(chart):
    """hub.sudo.enabled: false leaves no container able to gain privileges."""
    docs = _render(chart, _merge(MINIMAL, {"hub": {"sudo": {"enabled": False}}}))
    for container in _containers(_one(docs, "Deployment")["spec"]["template"]["spec"]):
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert "add" not in container["securityContext"]["capabilities"]


def test_network_policy_admits_only_what_the_hub_needs(chart):
    """Compute nodes reach the hub API only; the hub reaches the listed peers, DNS and the sessions only."""
    policy = _one(_render(chart, FULL), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    api_rule = next(r for r in policy["ingress"] if r["ports"][0]["port"] == "hub-api")
    assert [p["ipBlock"]["cidr"] for p in api_rule["from"]] == FULL["computeNodes"]["cidrs"]
    egress_cidrs = {p["ipBlock"]["cidr"] for r in policy["egress"] for p in r.get("to", [])}
    expected = set(FULL["computeNodes"]["cidrs"])
    for peer in FULL["networkPolicy"]["egress"].values():
        if isinstance(peer, dict):
            expected |= set(peer["cidrs"])
    assert egress_cidrs == expected
    dns = [r for r in policy["egress"] if "to" not in r]
    assert len(dns) == 1 and {p["port"] for p in dns[0]["ports"]} == {53}
    hub_api = next(d for d in _render(chart, MINIMAL) if d["kind"] == "Service" and d["metadata"]["name"].endswith(
        "hub-api"))
    assert hub_api["spec"]["loadBalancerSourceRanges"] == MINIMAL["computeNodes"]["cidrs"]
    assert hub_api["spec"]["externalTrafficPolicy"] == "Local"


def test_ingress_host_is_the_public_url(chart):
    """One home for the public address: the Ingress host comes from site.hub.public_url."""
    ingress = _one(_render(chart, FULL), "Ingress")["spec"]
    assert ingress["rules"][0]["host"] == "hub.factory.example.eu"
    assert ingress["tls"] == [{"hosts": ["hub.factory.example.eu"], "secretName": "factoryhub-tls"}]
    assert not [d for d in _render(chart, MINIMAL) if d["kind"] == "Ingress"]


def test_there_are_ten_bad_values_files():
    """The refusals below cover at least ten distinct mistakes."""
    assert len(BAD) >= 10


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_values_are_refused_naming_the_key(chart, path):
    """Each file (on top of the minimal values) is refused, and the message names the key its header gives."""
    text = path.read_text()
    wrong = re.search(r"^# Wrong: (\S+)", text, re.M)
    expect = re.search(r"^# expect: (.+)$", text, re.M)
    assert wrong and expect, f"{path.name}: needs '# Wrong: <key> ...' and '# expect: <message part>' lines"
    with pytest.raises((helm.HelmValuesError, helm.HelmRenderError)) as err:
        chart.render(_merge(MINIMAL, _load(path)), name="factoryhub", namespace="hub", is_install=True)
    assert expect.group(1).strip() in str(err.value), str(err.value)
