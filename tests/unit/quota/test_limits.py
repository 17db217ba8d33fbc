"""Slurm's GrpTRESMins derived from the ledger (pure)."""
from __future__ import annotations

from factoryhub.quota.limits import SlurmBudget, desired_limit, drift, parse_sshare

SSHARE = """\
proj-climate|||cpu=123,mem=159078,energy=0,node=107,billing=123,fs/disk=0,vmem=0,pages=0,gres/gpu=17,gres/gpu:h100=17
proj-climate|alice||cpu=100,gres/gpu=10
sme-visionai||gres/gpu=600|cpu=5,gres/gpu=42
"""


def test_account_rows_of_sshare_give_limit_and_raw_usage():
    budgets = parse_sshare(SSHARE)
    assert budgets == {"proj-climate": SlurmBudget("proj-climate", None, 17),
                       "sme-visionai": SlurmBudget("sme-visionai", 600, 42)}
    assert budgets["sme-visionai"].remaining_minutes == 558 and budgets["proj-climate"].remaining_minutes is None


def test_the_limit_leaves_slurm_exactly_the_ledgers_remaining_minutes():
    budget = SlurmBudget("p", None, 17)
    assert desired_limit(budget, 10 * 3600) == 17 + 600
    assert desired_limit(budget, -500) == 17  # overspent: nothing more may start
    assert desired_limit(budget, 119) == 17 + 1  # whole minutes, never rounded up


def test_drift_is_reported_only_beyond_the_tolerance():
    assert drift(SlurmBudget("p", 617, 17), 10 * 3600) is None
    assert drift(SlurmBudget("p", 618, 17), 10 * 3600) is None  # within one minute
    problem = drift(SlurmBudget("p", 300, 17), 10 * 3600)
    assert problem.desired_limit_minutes == 617
    assert problem.describe() == "p: Slurm has 283 GPU-minutes left, the ledger 600; GrpTRESMins should be gres/gpu=617"
    unset = drift(SlurmBudget("p", None, 17), 3600)
    assert "no GPU limit" in unset.describe()
