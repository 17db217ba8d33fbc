"""Run the CPU-only starter notebooks top to bottom at the CI scale, as a learner would, and put
every exercise's check to the test: it passes with the provided solution and refuses each wrong
one. (04, scaling out with dask-jobqueue, needs the cluster: tests/slurm/test_scaling_notebook.py.)"""
from __future__ import annotations

import importlib
import shutil

import pytest

from tests.harness.hub import REPO
from tests.harness.notebooks import RunResult, run

pytestmark = pytest.mark.notebooks

CPU_NOTEBOOKS = ["01-cupy-basics", "02-rapids-data-preparation", "03-fine-tuning"]


def copy_notebooks(dest):
    """The notebooks and their data as a learner gets them (no generated data, no outputs)."""
    shutil.copytree(REPO / "notebooks", dest, ignore=shutil.ignore_patterns("generated", "outputs", "__pycache__"))
    return dest


def wrong_solutions(stem: str) -> dict[str, list[str]]:
    return importlib.import_module(f"tests.notebooks.wrong_{stem.replace('-', '_')}").WRONG


def assert_ran_and_checked(result: RunResult, wrong: dict[str, list[str]]) -> None:
    assert result.error is None, result.error
    for name, outcome in result.exercises.items():
        assert outcome.passed_with_solution, f"{name}: the check did not pass with the provided solution"
        assert outcome.wrong_accepted == [], f"{name}: the check let wrong solutions through: {outcome.wrong_accepted}"
        assert len(outcome.wrong_refused) == len(wrong.get(name, [])), name
        assert all(r.startswith("AssertionError") for r in outcome.wrong_refused), \
            f"{name}: a wrong solution broke the check instead of failing it: {outcome.wrong_refused}"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("stem", CPU_NOTEBOOKS)
def test_notebook_runs_on_cpu_and_its_checks_tell_right_from_wrong(stem, tmp_path):
    here = copy_notebooks(tmp_path / "notebooks")
    wrong = wrong_solutions(stem)
    result = run(here / f"{stem}.ipynb", wrong, env={
        "FACTORYHUB_NOTEBOOK_SCALE": "ci", "FACTORYHUB_NOTEBOOK_OUTPUT": str(tmp_path / "outputs"),
        "FACTORYHUB_DATASETS": str(tmp_path / "no-catalogue"), "FACTORYHUB_MODELS": str(tmp_path / "no-models"),
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        # as in a hub session of project ml-demo (the model card links to the project's AI-Act record)
        "FACTORYHUB_ACCOUNT": "ml-demo", "JUPYTERHUB_BASE_URL": "/hub-prefix/"})
    print(f"{stem}: {result.seconds:.1f} s")
    assert_ran_and_checked(result, wrong)
    assert any("CPU" in text for text in result.outputs), "the notebook does not say it took the CPU path"
    if stem == "03-fine-tuning":
        [card] = (tmp_path / "outputs").rglob("MODEL_CARD.md")
        assert "## Project record (EU AI Act)" in card.read_text()
        assert "(/hub-prefix/services/factoryhub-quota/ai-act/ml-demo)" in card.read_text()
        assert any('"model_card": "' + str(card) in text for text in result.outputs), \
            "the notebook does not print the record's models-produced entry for this card"


def test_a_check_that_fails_with_the_provided_solution_is_reported(tmp_path):
    """The runner itself: a broken solution is an error of the run, not a quiet pass."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell("def double(x):\n    return x + 2", metadata={"factoryhub": {"exercise": "double"}}),
        new_code_cell("assert double(3) == 6, 'double(3) should be 6'\nprint('Exercise double: passed')",
                      metadata={"factoryhub": {"checks": "double"}})])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    result = run(path, {"double": ["def double(x):\n    return x * 3"]})
    assert result.error is not None and "double(3) should be 6" in result.error
    assert not result.exercises["double"].passed_with_solution
