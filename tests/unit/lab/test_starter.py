"""Starter notebooks copied into the home: everything the first time, never over the user's files."""
from __future__ import annotations

import os

import pytest

from factoryhub_lab.starter import PACKAGED, copy_starter, starter_source


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
