"""The site description: validation messages, cross-references, the embedded default."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from factoryhub.cli import main as cli_main
from factoryhub.site import EMBEDDED_DEFAULT, SiteError, load_site, parse_site
from tests.harness.site_files import example_site, site_problems

REPO = Path(__file__).resolve().parents[2]


example = example_site
problems_of = site_problems


def test_embedded_default_is_local_loopback_sqlite():
    loaded = load_site(None)
    site = loaded.site
    assert loaded.source == EMBEDDED_DEFAULT
    assert site.sessions.backend == "local"
    assert site.hub.bind_url.startswith("http://127.0.0.1:")
    assert site.databases.hub.startswith("sqlite:///")
    assert {a.name for a in site.auth.accounts} == {"admin", "researcher"}


def test_example_site_describes_the_test_cluster():
    site = parse_site(example(), "site.example.yaml")
    assert site.sessions.backend == "slurm"
    assert {p.name for p in site.partitions} == {"gpu", "cpu"}
    gpu_profiles = [p for p in site.profiles if p.gpus]
    assert gpu_profiles and all(p.gpu_type == "h100" for p in gpu_profiles)


def test_unknown_key_is_named():
    data = example()
    data["hub"]["bind_ulr"] = "http://127.0.0.1:8000/"
    assert problems_of(data) == ["hub.bind_ulr: unknown key (check the spelling; see docs/site.md)"]


def test_bad_value_names_key_value_and_what_is_allowed():
    data = example()
    data["profiles"][1]["gpus"] = -2
    [problem] = problems_of(data)
    assert problem.startswith("profiles[1].gpus: -2 is not allowed")
    assert "greater than or equal to 0" in problem


def test_every_problem_is_reported_once():
    data = example()
    data["profiles"][0]["id"] = "Bad Id"
    data["partitions"][0]["max_walltime_hours"] = 0
    data["auth"] = {"kind": "ldap"}
    found = problems_of(data)
    assert len(found) == 3
    assert any(p.startswith("profiles[0].id: 'Bad Id' is not allowed — lowercase letters") for p in found)
    assert any(p.startswith("partitions[0].max_walltime_hours: 0") for p in found)
    assert any(p.startswith("auth:") and "'local'" in p and "'oidc'" in p for p in found)


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["profiles"][1].update(partition="nope"),
     "profiles[1].partition: 'nope' is not allowed — must be one of cpu, gpu"),
    (lambda d: d["profiles"][1].update(gpu_type="a100"),
     "profiles[1].gpu_type: 'a100' is not allowed — partition gpu offers h100"),
    (lambda d: d["profiles"][1].pop("gpu_type"), "profiles[1].gpu_type: is required when gpus > 0"),
    (lambda d: d["profiles"][1].update(max_walltime_hours=100),
     "profiles[1].max_walltime_hours: 100.0 is not allowed — must be <= partition gpu's max_walltime_hours (12)"),
    (lambda d: d["profiles"].append(dict(d["profiles"][0])),
     "profiles[5]: 'cpu-small' is not allowed — must be unique"),
    (lambda d: d["sessions"].update(default_profile="ghost"), "sessions.default_profile: 'ghost' is not allowed"),
    (lambda d: d["hub"].update(bind_url="http://0.0.0.0:8000/"),
     "hub.bind_url: 'http://0.0.0.0:8000/' is not allowed — local accounts are for development"),
    (lambda d: d["services"]["catalogue"].update(directory="/nonexistent/catalogue"),
     "services.catalogue.directory: '/nonexistent/catalogue' is not allowed — must be an existing folder"),
    (lambda d: d["services"]["catalogue"].update(steward_groups=["bad group!"]),
     "services.catalogue.steward_groups[0]: 'bad group!' is not allowed — a hub group name"),
    (lambda d: d["hub"].update(public_url="hub.example.eu"),
     "hub.public_url: 'hub.example.eu' is not allowed — must be an http:// or https:// URL"),
])
def test_cross_references(mutate, expected):
    data = example()
    mutate(data)
    assert any(p.startswith(expected) for p in problems_of(data)), problems_of(data)


def test_yaml_syntax_error_names_line(tmp_path):
    bad = tmp_path / "site.yaml"
    bad.write_text("hub:\n  bind_url: [unclosed\n")
    with pytest.raises(SiteError) as info:
        load_site(bad)
    [problem] = info.value.problems
    assert problem.startswith("line 3, column 1: not valid YAML") or problem.startswith("line 2")


def test_top_level_must_be_a_mapping(tmp_path):
    bad = tmp_path / "site.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(SiteError, match="top level must be a mapping"):
        load_site(bad)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(SiteError, match="cannot read the file"):
        load_site(tmp_path / "absent.yaml")


def test_relative_state_dir_resolves_against_the_site_file(tmp_path):
    (tmp_path / "site.yaml").write_text((REPO / "site.example.yaml").read_text())
    assert load_site(tmp_path / "site.yaml").state_dir == (tmp_path / ".factoryhub").resolve()


def test_check_site_cli(tmp_path, capsys):
    assert cli_main(["check-site", str(REPO / "site.example.yaml")]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "site.yaml"
    bad.write_text(textwrap.dedent("""\
        auth: {kind: local, accounts: [{name: Admin}]}
        partitions: [{name: gpu, max_walltime_hours: 1}]
        profiles: [{id: p, title: P, partition: gpu, cpus: 0}]
        """))
    assert cli_main(["check-site", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith(f"{bad}: ") for line in err)


def test_docs_site_reference_matches_the_model():
    from factoryhub.site.reference import render

    assert (REPO / "docs" / "site.md").read_text() == render(), \
        "docs/site.md is stale: regenerate with `factoryhub site-reference > docs/site.md`"


def test_the_reference_keeps_every_description_whole():
    from pydantic import BaseModel, Field

    from factoryhub.site.model import Site
    from factoryhub.site.reference import _models_in, render

    class Wordy(BaseModel):
        """First line of a docstring that goes on
        over a second line.

        A second paragraph."""

        key: int = Field(1, description="A description over\n two lines, with a | in it.")

    text = render(Wordy)
    assert "First line of a docstring that goes on over a second line.\n\nA second paragraph." in text
    assert "| A description over two lines, with a \\| in it. |" in text
    reference, models, seen = render(), [Site], set()
    while models:  # every docstring and description of the real model, whole
        model = models.pop()
        if model in seen:
            continue
        seen.add(model)
        for paragraph in (model.__doc__ or "").split("\n\n"):
            assert " ".join(paragraph.split()) in reference, model.__name__
        for field in model.model_fields.values():
            assert " ".join((field.description or "").split()).replace("|", "\\|") in reference
            models += _models_in(field.annotation)


@pytest.mark.parametrize("value, ok", [("/proj/{account}/{username}/outputs", True), ("/scratch/outputs", True),
                                       ("/proj/{home}", False), ("relative/{account}", False),
                                       ("/proj/../etc", False), ("/proj/{account", False)])
def test_project_storage_names_only_account_and_username(value, ok):
    data = example()
    data["sessions"]["project_storage"] = value
    if ok:
        assert parse_site(data, "site.yaml").sessions.project_storage == value
    else:
        assert problems_of(data)[0].startswith("sessions.project_storage")
