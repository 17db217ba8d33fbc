"""The layering contract, checked on the source: who may import whom (docs/architecture.md).

pyproject.toml's ``package-dir`` maps folders onto import names (``spawners/`` is
``factoryhub.spawners``, ``extensions/quota/`` is ``factoryhub.quota``, …), so a grep for a folder
name does not find its importers. This test reads every module with ``ast`` (relative imports
resolved, imports inside functions and ``importlib.import_module("…")`` with a literal included)
and refuses:

- the compute layer (``factoryhub.spawners``) importing a service: it knows the quota service
  only through its REST contract;
- one service importing another (``factoryhub.quota`` ↔ ``factoryhub.catalogue``);
- the user-side distribution (``factoryhub_lab``) importing anything of the hub's
  (``factoryhub`` and all below it): it is installed into the users' environments, where none of
  it exists; it knows the services only by their REST contracts.

Services may import the core (``factoryhub``) and the compute layer; the core wires everything.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# folder -> the import name setuptools gives it ([tool.setuptools.package-dir] in pyproject.toml)
SOURCES = {
    "extensions/hub": "factoryhub",
    "spawners": "factoryhub.spawners",
    "extensions/quota": "factoryhub.quota",
    "extensions/catalogue": "factoryhub.catalogue",
    "extensions/workshops": "factoryhub.workshops",
    "extensions/dashboards": "factoryhub.dashboards",
    "extensions/announcements": "factoryhub.announcements",
    "extensions/ai_act": "factoryhub.ai_act",
    "extensions/lab/factoryhub_lab": "factoryhub_lab",
}

# layer -> the import-name prefixes it stands for (longest match wins)
LAYERS = {
    "core": "factoryhub",
    "spawners": "factoryhub.spawners",
    "quota": "factoryhub.quota",
    "catalogue": "factoryhub.catalogue",
    "workshops": "factoryhub.workshops",
    "dashboards": "factoryhub.dashboards",
    "announcements": "factoryhub.announcements",
    "ai_act": "factoryhub.ai_act",
    "lab": "factoryhub_lab",
}

# layer -> the layers it must not import, and why (shown with every violation)
FORBIDDEN = {
    "spawners": ({"quota", "catalogue", "workshops", "dashboards", "announcements"},
                 "the compute layer knows the services only through their REST contracts"),
    "quota": ({"catalogue", "workshops", "dashboards", "announcements"}, "services never import each other"),
    "catalogue": ({"quota", "workshops", "dashboards", "announcements"}, "services never import each other"),
    "workshops": ({"quota", "catalogue", "dashboards", "announcements"}, "services never import each other"),
    "dashboards": ({"quota", "catalogue", "workshops", "announcements"}, "services never import each other"),
    "announcements": ({"quota", "catalogue", "workshops", "dashboards"}, "services never import each other"),
    # the AI-Act record's pure core: a service may call it; it calls none of them
    "ai_act": ({"spawners", "quota", "catalogue", "workshops", "dashboards", "announcements"},
               "the AI-Act record is pure decision logic a service calls; it imports no service"),
    "lab": ({"core", "spawners", "quota", "catalogue", "workshops", "dashboards", "announcements", "ai_act"},
            "the user-side distribution is installed without the hub; it talks to the services over REST"),
}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as an absolute module name, and where it stands."""

    target: str
    line: int


def layer_of(module: str) -> str | None:
    """The layer an absolute module name belongs to, or None for third-party and standard modules."""
    best = None
    for layer, prefix in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(LAYERS[best])):
            best = layer
    return best


def imports_of(source: str, module: str, is_package: bool, filename: str = "<module>") -> list[Import]:
    """Every module ``source`` imports, relative imports resolved against ``module``.

    ``from P import n`` counts as importing both ``P`` and ``P.n`` (``n`` may be a sub-module,
    e.g. ``from factoryhub import quota``).
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    raise ValueError(f"{filename}:{node.lineno}: relative import above the top package")
                base = ".".join(parts[:len(parts) - (node.level - 1)])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append(Import(target, node.lineno))
            found += [Import(f"{target}.{alias.name}", node.lineno) for alias in node.names if alias.name != "*"]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "import_module"):
            found.append(Import(node.args[0].value, node.lineno))
    return found


def violations(source: str, module: str, is_package: bool, filename: str) -> list[str]:
    """One line per forbidden import in ``source`` (module ``module``): file, line, import and the rule."""
    own = layer_of(module)
    forbidden, why = FORBIDDEN.get(own, (set(), ""))
    problems = []
    for imp in imports_of(source, module, is_package, filename):
        other = layer_of(imp.target)
        if other in forbidden and other != own:
            problems.append(f"{filename}:{imp.line}: {module} ({own}) imports {imp.target} ({other}): {why}")
    return sorted(set(problems))


def modules():
    """(path, module name, is a package) of every Python file in the hub's and the lab's source folders."""
    for folder, prefix in SOURCES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT / folder)
            if "node_modules" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            yield path, ".".join([prefix, *parts]), is_package


def test_every_source_folder_is_mapped_as_pyproject_says():
    mapping = dict(re.findall(r'^"([\w.]+)" = "([\w/]+)"$', (ROOT / "pyproject.toml").read_text(), re.M))
    assert mapping == {name: folder for folder, name in SOURCES.items() if name != "factoryhub_lab"}
    assert (ROOT / "extensions/lab/factoryhub_lab/__init__.py").is_file()


def test_layers_import_only_what_they_may():
    found = [problem for path, module, is_package in modules()
             for problem in violations(path.read_text(), module, is_package, str(path.relative_to(ROOT)))]
    assert not found, "forbidden imports (see docs/architecture.md):\n" + "\n".join(found)


def test_the_walk_sees_every_layer():
    seen = {layer_of(module) for _, module, _ in modules()}
    assert seen == set(LAYERS)


LAB_SRC = ROOT / "extensions" / "lab" / "src"
TS_IMPORT = re.compile(r"""(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]"""  # import … from '…'
                       r"""|import\(\s*['"]([^'"]+)['"]""", re.M)  # import('…')


def test_lab_frontend_imports_nothing_outside_the_lab_extension():
    found = []
    for path in sorted(LAB_SRC.rglob("*.ts")):
        for match in TS_IMPORT.finditer(path.read_text()):
            spec = match.group(1) or match.group(2)
            if spec.startswith("."):
                resolved = (path.parent / spec).resolve()
                if not resolved.is_relative_to(LAB_SRC):
                    found.append(f"{path.relative_to(ROOT)}: imports {spec} from outside extensions/lab/src")
    assert not found, "\n".join(found)


# --- the rule itself catches what it should ------------------------------------------------------

@pytest.mark.parametrize("module, is_package, source, forbidden", [
    ("factoryhub.spawners.slurm.budget", False, "from factoryhub.quota.ledger import decide\n", "factoryhub.quota"),
    ("factoryhub.spawners.slurm.budget", False, "from ...quota import ledger\n", "factoryhub.quota"),
    ("factoryhub.spawners", True, "def f():\n    import factoryhub.catalogue.index\n", "factoryhub.catalogue"),
    ("factoryhub.spawners.local", False, "from factoryhub import quota\n", "factoryhub.quota"),
    ("factoryhub.quota.api", False, "from ..catalogue.entries import Entry\n", "factoryhub.catalogue"),
    ("factoryhub.catalogue.pages", False, "import importlib\nimportlib.import_module('factoryhub.quota.db')\n",
     "factoryhub.quota"),
    ("factoryhub_lab.handlers", False, "from factoryhub.servicedb import utcnow\n", "factoryhub.servicedb"),
    ("factoryhub_lab.handlers", False, "from factoryhub.spawners.options import parse_user_options\n",
     "factoryhub.spawners"),
])
def test_a_forbidden_import_is_named_with_file_and_line(module, is_package, source, forbidden):
    problems = violations(source, module, is_package, "synthetic.py")
    assert problems, source
    assert all(p.startswith("synthetic.py:") for p in problems)
    assert any(forbidden in p for p in problems), problems


@pytest.mark.parametrize("module, source", [
    ("factoryhub.quota.api", "from factoryhub.servicedb import utcnow\nfrom . import ledger\n"),  # core, own layer
    ("factoryhub.catalogue.service", "from factoryhub.spawners.options import SessionRequest\n"),  # compute layer
    ("factoryhub.spawners.slurm.spawner",
     "from factoryhub.site import Profile\nfrom ..quota_client import QuotaClient\n"),
    ("factoryhub_lab.handlers", "from .services import Answer\nimport tornado.web\n"),
])
def test_allowed_imports_pass(module, source):
    assert violations(source, module, False, "synthetic.py") == []


def test_spawners_quota_client_is_not_the_quota_service():
    # spawners/quota_client.py resolves to factoryhub.spawners.quota_client: the compute layer, not a service
    assert layer_of("factoryhub.spawners.quota_client") == "spawners"
    assert layer_of("factoryhub.quotas") == "core"
