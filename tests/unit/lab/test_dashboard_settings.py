"""The spawner's FACTORYHUB_DASHBOARD* variables: what a dashboard server accepts, and the one sentence it
says about what it does not."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from factoryhub_lab.dashboard.settings import DashboardSettingsError, read_settings, root_dir_from


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home" / "alice"
    (home / "dashboards").mkdir(parents=True)
    nbformat.write(new_notebook(cells=[new_code_cell("print(1)")]), home / "dashboards" / "ticket-classifier.ipynb")
    return home


def env(notebook="dashboards/ticket-classifier.ipynb", **extra):
    return {"FACTORYHUB_DASHBOARD": notebook, "FACTORYHUB_DASHBOARD_MAX_VIEWERS": "5", **extra}


def problem(home, **kwargs) -> str:
    with pytest.raises(DashboardSettingsError) as err:
        read_settings(env(**kwargs), str(home))
    sentence = str(err.value)
    assert sentence.startswith("FactoryHub dashboard: ") and "\n" not in sentence
    return sentence


def test_a_good_notebook_and_its_defaults(home):
    settings = read_settings(env(), str(home))
    assert settings.notebook == "dashboards/ticket-classifier.ipynb" and settings.root_dir == home.resolve()
    assert settings.max_viewers == 5 and settings.recheck_seconds == 2.0 and settings.show_sources is False
    assert settings.render_path == "/voila/render/dashboards/ticket-classifier.ipynb"
    shown = read_settings(env(FACTORYHUB_DASHBOARD_SOURCES="1", FACTORYHUB_DASHBOARD_RECHECK_SECONDS="0.5"), str(home))
    assert shown.show_sources is True and shown.recheck_seconds == 0.5
    for other in ("0", "true", "yes", ""):
        assert read_settings(env(FACTORYHUB_DASHBOARD_SOURCES=other), str(home)).show_sources is False


def test_paths_are_normalised_and_quoted_in_the_url(home):
    nbformat.write(new_notebook(), home / "dashboards" / "über board.ipynb")
    settings = read_settings(env("./dashboards//über board.ipynb"), str(home))
    assert settings.notebook == "dashboards/über board.ipynb"
    assert settings.render_path == "/voila/render/dashboards/%C3%BCber%20board.ipynb"
    assert read_settings(env("dashboards/x/../ticket-classifier.ipynb"), str(home)).notebook == \
        "dashboards/ticket-classifier.ipynb"


def test_a_link_leading_out_of_the_home_is_refused(home, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    nbformat.write(new_notebook(), elsewhere / "secret.ipynb")
    (home / "dashboards" / "linked.ipynb").symlink_to(elsewhere / "secret.ipynb")
    (home / "shared").symlink_to(elsewhere)
    assert problem(home, notebook="dashboards/linked.ipynb") == (
        f"FactoryHub dashboard: dashboards/linked.ipynb is outside the home directory {home.resolve()} "
        f"(it leads to {elsewhere.resolve() / 'secret.ipynb'})")
    assert "is outside the home directory" in problem(home, notebook="shared/secret.ipynb")
    # a link that stays inside is fine
    (home / "dashboards" / "alias.ipynb").symlink_to(home / "dashboards" / "ticket-classifier.ipynb")
    assert read_settings(env("dashboards/alias.ipynb"), str(home)).notebook == "dashboards/alias.ipynb"


def test_a_home_reached_through_a_link_is_still_the_home(home, tmp_path):
    (tmp_path / "home-link").symlink_to(home)
    assert read_settings(env(), str(tmp_path / "home-link")).root_dir == home.resolve()


@pytest.mark.parametrize("notebook,words", [
    ("../bob/dashboards/x.ipynb", "is outside the home directory"),
    ("dashboards/../../bob/x.ipynb", "is outside the home directory"),
    ("..", "is outside the home directory"),
    ("/etc/passwd.ipynb", "is not a path relative to the home directory"),
    ("dashboards\\x.ipynb", "is not a path relative to the home directory"),
    ("", "FACTORYHUB_DASHBOARD is not set"),
    ("   ", "FACTORYHUB_DASHBOARD is not set"),
    ("dashboards/missing.ipynb", "does not exist in the home directory"),
    ("dashboards/notes.txt", "is not a notebook (its name does not end in .ipynb)"),
    ("dashboards/TICKET.IPYNB", "is not a notebook (its name does not end in .ipynb)"),
    ("dashboards", "is not a notebook"),
    ("dashboards/folder.ipynb", "is not a notebook (it is not a file)"),
    ("dashboards/broken.ipynb", "is not a valid notebook"),
    ("dashboards/invalid.ipynb", "is not a valid notebook"),
    (".hidden/x.ipynb", "is in a hidden folder or file"),
])
def test_each_bad_notebook_is_named_in_one_sentence(home, notebook, words):
    (home / "dashboards" / "notes.txt").write_text("hello")
    (home / "dashboards" / "folder.ipynb").mkdir()
    (home / "dashboards" / "broken.ipynb").write_text("{not json")
    (home / "dashboards" / "invalid.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": 3}))
    sentence = problem(home, notebook=notebook)
    assert words in sentence, sentence
    assert "Traceback" not in sentence


@pytest.mark.parametrize("value,words", [
    (None, "FACTORYHUB_DASHBOARD_MAX_VIEWERS is not set"),
    ("", "FACTORYHUB_DASHBOARD_MAX_VIEWERS is not set"),
    ("0", "must be a whole number of at least 1, not '0'"),
    ("-2", "must be a whole number of at least 1"),
    ("2.5", "must be a whole number of at least 1"),
    ("many", "must be a whole number of at least 1, not 'many'"),
])
def test_the_viewer_limit_must_be_a_whole_number(home, value, words):
    variables = env()
    if value is None:
        del variables["FACTORYHUB_DASHBOARD_MAX_VIEWERS"]
    else:
        variables["FACTORYHUB_DASHBOARD_MAX_VIEWERS"] = value
    with pytest.raises(DashboardSettingsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_settings(variables, str(home))


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf", "7200"])
def test_the_recheck_interval_must_be_a_sensible_number_of_seconds(home, value):
    assert "FACTORYHUB_DASHBOARD_RECHECK_SECONDS must be a number of seconds" in problem(
        home, FACTORYHUB_DASHBOARD_RECHECK_SECONDS=value)


def test_the_root_folder_is_jupyterhubs_root_dir_or_the_working_folder(tmp_path):
    assert root_dir_from({"JUPYTERHUB_ROOT_DIR": "~/work"}, "/tmp") == str(Path("~/work").expanduser())
    assert root_dir_from({}, str(tmp_path)) == str(tmp_path)
    assert root_dir_from({"JUPYTERHUB_ROOT_DIR": ""}, str(tmp_path)) == str(tmp_path)
