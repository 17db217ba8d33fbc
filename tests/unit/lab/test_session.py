"""What a session knows about itself (factoryhub_lab.session): pure, from its environment."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from factoryhub_lab.session import Session, session_cost_gpu_hours

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


COST_CASES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "cost-cases.json"
CASES = json.loads(COST_CASES.read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['gpus']}x{c['hours']:.4g}hx{c['price']:g}" for c in CASES])
def test_the_labs_cost_function_gives_the_shared_tables_gpu_hours(case):
    # the lab extension may not import the hub's factoryhub.costs: the table keeps the two equal
    assert session_cost_gpu_hours(case["gpus"], case["hours"], case["price"]) == case["gpu_hours"]


def test_the_panels_figures_come_from_that_function():
    env = {**SLURM, "FACTORYHUB_GPUS": "1", "FACTORYHUB_PRICE": "0.5", "FACTORYHUB_WALLTIME_MINUTES": "15",
           "FACTORYHUB_WALLTIME_END": str(1800000000 + 900)}
    described = Session.from_env(env).describe(now=1800000000 + 450)
    assert described["cost_at_walltime_gpu_hours"] == 0.125  # the table's 1 GPU x 0.25 h x 0.5
    assert described["cost_so_far_gpu_hours"] == 0.0625
