"""Starter notebooks copied into the home: everything the first time, never over the user's files."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from factoryhub_lab.starter import KERNELSPEC, PACKAGED, copy_starter, starter_source

REPO_NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "source"
    (root / "data" / "generated").mkdir(parents=True)
    (root / "01-cupy-basics.ipynb").write_text("{}")
    (root / "data" / "make_sensor_data.py").write_text("print('gen')")
    (root / "data" / "generated" / "big.parquet").write_text("x")  # never copied: made by the generators
    return root


def test_the_first_copy_brings_every_notebook_and_generator(source, tmp_path):
    done = copy_starter(source, tmp_path / "home" / "factoryhub-starter")
    assert done.copied == ["01-cupy-basics.ipynb", "data/make_sensor_data.py"] and done.kept == []
    assert (tmp_path / "home" / "factoryhub-starter" / "data" / "make_sensor_data.py").read_text() == "print('gen')"


def test_a_second_copy_never_overwrites_the_users_edits(source, tmp_path):
    destination = tmp_path / "home" / "factoryhub-starter"
    copy_starter(source, destination)
    (destination / "01-cupy-basics.ipynb").write_text('{"edited": true}')
    (destination / "data" / "make_sensor_data.py").unlink()
    done = copy_starter(source, destination)
    assert done.copied == ["data/make_sensor_data.py"] and done.kept == ["01-cupy-basics.ipynb"]
    assert (destination / "01-cupy-basics.ipynb").read_text() == '{"edited": true}'


def test_a_link_in_the_way_is_never_followed(source, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    destination = tmp_path / "home" / "factoryhub-starter"
    destination.mkdir(parents=True)
    (destination / "01-cupy-basics.ipynb").symlink_to(elsewhere / "target.ipynb")
    (destination / "data").symlink_to(elsewhere)
    with pytest.raises(FileExistsError, match="is a link"):
        copy_starter(source, destination)
    assert os.listdir(elsewhere) == []


def test_the_site_may_name_its_own_source_and_the_packaged_one_is_complete(tmp_path):
    assert starter_source({"FACTORYHUB_STARTER_SOURCE": str(tmp_path)}) == tmp_path
    assert starter_source({}) == PACKAGED
    if PACKAGED.is_dir():  # an installed wheel (a source checkout has none)
        names = {p.name for p in PACKAGED.rglob("*") if p.is_file()}
        assert {"01-cupy-basics.ipynb", "04-scaling-out-with-dask.ipynb", "make_sensor_data.py"} <= names
    with pytest.raises(FileNotFoundError):
        copy_starter(tmp_path / "missing", tmp_path / "home")


def test_a_notebook_that_names_no_kernel_gets_python3_so_jupyterlab_does_not_ask(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    stripped = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('Exercise a: passed')")])
    stripped.metadata = {"language_info": {"name": "python"}}  # what a stripper that drops the kernelspec leaves
    nbformat.write(stripped, source / "01-stripped.ipynb")
    (source / "02-r.ipynb").write_text(json.dumps({**stripped, "metadata": {"kernelspec": {
        "name": "ir", "display_name": "R", "language": "R"}}}))
    (source / "03-broken.ipynb").write_bytes(b'{"cells": [')
    destination = tmp_path / "home" / "factoryhub-starter"
    copy_starter(source, destination)
    copied = nbformat.read(destination / "01-stripped.ipynb", as_version=4)
    nbformat.validate(copied)
    assert copied.metadata.kernelspec == KERNELSPEC == {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    assert copied.metadata.language_info == {"name": "python"} and copied.cells[0].source == stripped.cells[0].source
    assert (destination / "02-r.ipynb").read_bytes() == (source / "02-r.ipynb").read_bytes()  # its own kernel
    assert (destination / "03-broken.ipynb").read_bytes() == b'{"cells": ['  # not a notebook: copied as it is


def test_every_starter_notebook_opens_on_the_python3_kernel_still_stripped(tmp_path):
    copy_starter(REPO_NOTEBOOKS, tmp_path / "factoryhub-starter")
    copied = sorted((tmp_path / "factoryhub-starter").glob("*.ipynb"))
    assert [p.name for p in copied] == sorted(p.name for p in REPO_NOTEBOOKS.glob("*.ipynb")) and copied
    for path in copied:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3", path.name
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), path.name
