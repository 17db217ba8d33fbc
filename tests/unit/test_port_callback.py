"""The job → hub port report accepts {"port": int} and nothing else."""
from __future__ import annotations

import pytest

from factoryhub.spawners.slurm.port_callback import parse_port_report


def test_a_port_is_accepted():
    assert parse_port_report({"port": 43125}) == 43125


@pytest.mark.parametrize("body, fragment", [
    ({"port": 1, "batch_submit_cmd": "bash -c id"}, "refused keys: batch_submit_cmd"),
    ({"exec_prefix": "sudo -u root"}, "refused keys: exec_prefix"),
    ({"port": "8888"}, "integer"), ({"port": True}, "integer"), ({"port": 0}, "integer"),
    ({"port": 70000}, "integer"), ({"port": 1.5}, "integer"), ({}, "integer"),
    ([8888], "JSON object"), ("8888", "JSON object"), (None, "JSON object"),
])
def test_anything_else_is_refused_with_the_reason(body, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_port_report(body)
