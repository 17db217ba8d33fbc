"""What a session knows about itself (factoryhub_lab.session): pure, from its environment."""
from __future__ import annotations

import pytest

from factoryhub_lab.session import Session

SLURM = {"FACTORYHUB_ACCOUNT": "proj-climate", "FACTORYHUB_GPUS": "2", "FACTORYHUB_PRICE": "0.5",
         "FACTORYHUB_WALLTIME_MINUTES": "120", "FACTORYHUB_WALLTIME_END": "1800007200", "FACTORYHUB_JOB_ID": "42"}


def test_cost_so_far_and_at_walltime_are_gpus_times_hours_times_price():
    session = Session.from_env(SLURM)
    assert session.started_at == 1800000000
    so_far, at_walltime = session.cost_gpu_hours(now=1800000000 + 1800)
    assert (so_far, at_walltime) == (0.5, 2.0)  # 2 GPUs x 0.5 h x 0.5; 2 x 2 h x 0.5
    assert session.cost_gpu_hours(now=1900000000) == (2.0, 2.0)  # never beyond the walltime


def test_description_counts_down_to_zero():
    described = Session.from_env(SLURM).describe(now=1800007000)
    assert described["remaining_seconds"] == 200 and described["account"] == "proj-climate"
    assert Session.from_env(SLURM).describe(now=1800009000)["remaining_seconds"] == 0


@pytest.mark.parametrize("env", [{}, {"FACTORYHUB_GPUS": "lots", "FACTORYHUB_WALLTIME_END": "soon"}])
def test_a_session_without_facts_says_so_instead_of_inventing_them(env):
    described = Session.from_env(env).describe(now=1.0)
    assert described["walltime_end"] is None and described["remaining_seconds"] is None
    assert described["cost_so_far_gpu_hours"] is None and described["gpus"] == 0
