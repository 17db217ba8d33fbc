"""``factoryhub workshop``: command lines become the workshops API's calls; failures are one line, exit 1."""
from __future__ import annotations

import argparse

import pytest

from factoryhub import cli, workshop_cli


def parse(*argv):
    parser = argparse.ArgumentParser()
    workshop_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["workshop", *argv])


def test_create_sends_the_body_the_api_reads():
    args = parse("create", "gpu-intro", "--title", "GPU intro", "--starts-at", "2026-12-10T09:00:00+01:00",
                 "--ends-at", "2026-12-10T17:00:00+01:00", "--seats", "10", "--profile", "workshop",
                 "--budget-gpu-hours", "20", "--trainer-account", "proj-training",
                 "--course-repo", "https://git.example.eu/c.git", "--nodes", "gpu[01-02]")
    method, path, body = workshop_cli.request_for(args)
    assert (method, path) == ("POST", "/workshops")
    assert body["seats"] == 10 and body["budget_gpu_hours"] == 20.0 and body["nodes"] == "gpu[01-02]"
    assert "idle_timeout_minutes" not in body and body["course_branch"] == "main"


@pytest.mark.parametrize("argv, call", [
    (("list",), ("GET", "/workshops", None)),
    (("show", "w1"), ("GET", "/workshops/w1", None)),
    (("participants", "w1"), ("GET", "/workshops/w1/participants", None)),
    (("report", "w1"), ("GET", "/workshops/w1/report", None)),
    (("end", "w1"), ("POST", "/workshops/w1/end", None)),
])
def test_other_verbs(argv, call):
    assert workshop_cli.request_for(parse(*argv)) == call


def test_no_token_or_no_hub_is_one_line_and_exit_1(capsys, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    assert cli.main(["workshop", "list"]) == 1
    assert "no token" in capsys.readouterr().err
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "x")
    assert cli.main(["workshop", "--hub-url", "http://127.0.0.1:9", "list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unreachable" in err
