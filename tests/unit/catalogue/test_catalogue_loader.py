"""CatalogueLoader: broken files are reported and left out, reloads parse only changed files, a file that
breaks keeps serving its last good version, and the version tracks the files."""
from __future__ import annotations

import logging

import pytest

from factoryhub.catalogue import catalogue as catalogue_module
from factoryhub.catalogue.catalogue import CatalogueLoader, CatalogueUnavailable, describe_problems

from .builders import write, write_entry

BROKEN = "kind: dataset\ntitle: [unclosed\n"


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The ids of the files the loader parses, in order."""
    seen = []
    real = catalogue_module.load_entry

    def counting(path):
        seen.append(path.stem)
        return real(path)

    monkeypatch.setattr(catalogue_module, "load_entry", counting)
    return seen


def ids(catalogue) -> list[str]:
    return [entry.id for entry in catalogue.entries]


def test_a_broken_file_among_good_ones_is_reported_and_the_others_load(tmp_path, caplog):
    write_entry(tmp_path, "alpha", title="Alpha readings")
    broken = write(tmp_path / "beta.yaml", BROKEN)
    write_entry(tmp_path / "sub", "gamma", title="Gamma readings")
    with caplog.at_level(logging.WARNING, logger=catalogue_module.__name__):
        catalogue = CatalogueLoader(tmp_path).load()
    assert ids(catalogue) == ["alpha", "gamma"]
    assert [p.file for p in catalogue.problems] == [str(broken)]
    assert catalogue.stale == ()
    assert catalogue.get("gamma").title == "Gamma readings" and catalogue.get("beta") is None
    assert catalogue.index.search("readings").total == 2
    assert str(broken) in caplog.text
    [described] = describe_problems(catalogue.problems)
    assert described["file"] == str(broken) and "line 3" in described["reason"]


def test_a_file_with_an_impossible_quoted_date_does_not_take_the_catalogue_down(tmp_path):
    write_entry(tmp_path, "alpha")
    broken = write_entry(tmp_path, "beta", issued="2024-02-30")
    catalogue = CatalogueLoader(tmp_path).load()
    assert ids(catalogue) == ["alpha"]
    assert [p.file for p in catalogue.problems] == [str(broken)]


def test_a_reload_parses_only_the_files_that_changed(tmp_path, parsed):
    for name in ("alpha", "beta", "gamma"):
        write_entry(tmp_path, name)
    loader = CatalogueLoader(tmp_path)
    loader.load()
    assert sorted(parsed) == ["alpha", "beta", "gamma"]

    parsed.clear()
    assert ids(loader.load()) == ["alpha", "beta", "gamma"]
    assert parsed == []

    write_entry(tmp_path, "beta", title="Beta, second edition")
    write_entry(tmp_path, "delta")
    catalogue = loader.load()
    assert sorted(parsed) == ["beta", "delta"]
    assert catalogue.get("beta").title == "Beta, second edition"


def test_a_broken_file_is_not_parsed_again_until_it_changes(tmp_path, parsed):
    write(tmp_path / "beta.yaml", BROKEN)
    loader = CatalogueLoader(tmp_path)
    loader.load()
    parsed.clear()
    assert len(loader.load().problems) == 1
    assert parsed == []


def test_a_file_that_breaks_keeps_its_last_good_version_until_fixed(tmp_path):
    write_entry(tmp_path, "alpha", title="Alpha readings")
    path = write_entry(tmp_path, "beta", title="Beta readings, first edition")
    loader = CatalogueLoader(tmp_path)
    loader.load()

    write(path, BROKEN)
    for _ in range(2):  # and again on a reload that finds it unchanged
        catalogue = loader.load()
        assert ids(catalogue) == ["alpha", "beta"]
        assert catalogue.get("beta").title == "Beta readings, first edition"
        assert catalogue.stale == ("beta",)
        [problem] = catalogue.problems
        assert problem.file == str(path) and "not valid YAML" in problem.reason

    write_entry(tmp_path, "beta", title="Beta readings, second edition")
    catalogue = loader.load()
    assert (catalogue.stale, catalogue.problems) == ((), ())
    assert catalogue.get("beta").title == "Beta readings, second edition"


def test_a_stale_entry_goes_once_its_file_is_deleted(tmp_path):
    path = write_entry(tmp_path, "beta")
    loader = CatalogueLoader(tmp_path)
    loader.load()
    write(path, BROKEN)
    loader.load()
    path.unlink()
    catalogue = loader.load()
    assert (ids(catalogue), catalogue.stale, catalogue.problems) == ([], (), ())
    write(path, BROKEN)  # back, still broken: nothing good to fall back on any more
    catalogue = loader.load()
    assert (ids(catalogue), catalogue.stale, len(catalogue.problems)) == ([], (), 1)


def test_a_new_broken_file_is_not_stale_just_left_out(tmp_path):
    loader = CatalogueLoader(tmp_path)
    loader.load()
    write(tmp_path / "beta.yaml", BROKEN)
    catalogue = loader.load()
    assert (ids(catalogue), catalogue.stale, len(catalogue.problems)) == ([], (), 1)


def test_deleting_a_file_removes_its_entry(tmp_path):
    write_entry(tmp_path, "alpha", title="Alpha readings")
    beta = write_entry(tmp_path, "beta", title="Beta readings")
    loader = CatalogueLoader(tmp_path)
    assert ids(loader.load()) == ["alpha", "beta"]
    beta.unlink()
    catalogue = loader.load()
    assert ids(catalogue) == ["alpha"]
    assert catalogue.get("beta") is None and catalogue.index.search("beta").total == 0


def test_the_same_id_in_two_sub_folders_gives_one_entry_and_one_problem(tmp_path):
    first = write_entry(tmp_path / "imaging", "scans", title="Scans from imaging")
    second = write_entry(tmp_path / "other", "scans", title="Scans from elsewhere")
    catalogue = CatalogueLoader(tmp_path).load()
    assert ids(catalogue) == ["scans"]
    assert catalogue.get("scans").title == "Scans from imaging"
    [problem] = catalogue.problems
    assert problem.file == str(second)
    assert "'scans'" in problem.reason and str(first) in problem.reason


@pytest.mark.parametrize("make", [lambda root: root / "missing", lambda root: write(root / "a-file", "")],
                         ids=["missing", "a file"])
def test_a_catalogue_directory_that_is_not_a_folder_is_unavailable(tmp_path, make):
    directory = make(tmp_path)
    with pytest.raises(CatalogueUnavailable, match=str(directory)):
        CatalogueLoader(directory).load()


def test_a_directory_that_goes_away_is_unavailable_rather_than_empty(tmp_path):
    directory = tmp_path / "catalogue"
    path = write_entry(directory, "alpha")
    loader = CatalogueLoader(directory)
    loader.load()
    path.unlink()
    directory.rmdir()
    with pytest.raises(CatalogueUnavailable):
        loader.load()


def test_the_version_changes_if_and_only_if_the_files_change(tmp_path):
    write_entry(tmp_path, "alpha")
    beta = write_entry(tmp_path, "beta")
    loader = CatalogueLoader(tmp_path)
    versions = [loader.load().version]
    assert versions[0]
    assert loader.load().version == versions[0]
    assert CatalogueLoader(tmp_path).load().version == versions[0]  # not tied to one loader

    write(tmp_path / ".drafts" / "gamma.yaml", "")  # files the catalogue does not read
    write(tmp_path / "README.txt", "entries live here")
    assert loader.load().version == versions[0]

    for change in (lambda: write_entry(tmp_path, "beta", title="Beta, second edition"),
                   lambda: write_entry(tmp_path, "gamma"),
                   lambda: write(beta, BROKEN),
                   lambda: beta.unlink()):
        change()
        versions.append(loader.load().version)
        assert loader.load().version == versions[-1]
    assert len(set(versions)) == len(versions), versions
