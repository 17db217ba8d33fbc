"""Balance arithmetic and spawn decisions (pure)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factoryhub.quota.ledger import Balance, accrued, decide, session_cost, to_seconds

PERIOD = (dt.date(2026, 11, 1), dt.date(2026, 12, 31))


def test_cost_is_gpus_times_walltime_times_price_rounded_up():
    assert session_cost(2, 4, 1.0) == 8 * 3600
    assert session_cost(1, 0.25, 1.5) == 1350
    assert session_cost(0, 8, 1.0) == 0
    assert to_seconds(1 / 3) == 1200


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_negative_or_non_finite_hours_are_refused(bad):
    with pytest.raises(ValueError, match="not a non-negative number of hours"):
        to_seconds(bad)


def test_refusal_names_balance_holds_and_cost():
    balance = Balance("proj-climate", allocated=10 * 3600, used=4 * 3600, held=5 * 3600, period=PERIOD)
    decision = decide(balance, 2 * 3600)
    assert not decision.allowed
    assert "proj-climate has 1.00 GPU-hours left (10.00 allocated, 4.00 used, 5.00 held by sessions)" \
        in decision.message
    assert "may cost up to 2.00 GPU-hours" in decision.message
    assert decide(balance, 3600).allowed


def test_no_active_allocation_refuses_any_gpu_cost_but_not_a_cpu_session():
    balance = Balance("proj-x", 0, 0, 0, None)
    assert "no active GPU allocation" in decide(balance, 60).message
    assert decide(balance, 0).allowed


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9))
def test_a_decision_never_allows_spending_beyond_the_balance(allocated, used, held, cost):
    balance = Balance("p", allocated, used, held, PERIOD)
    assert decide(balance, cost).allowed == (cost <= allocated - used - held)


def test_running_jobs_accrue_until_now():
    start = dt.datetime(2026, 11, 22, 4, tzinfo=dt.UTC)
    assert accrued(2, start, None, start + dt.timedelta(minutes=30)) == 3600
    assert accrued(2, start, start + dt.timedelta(minutes=10), start + dt.timedelta(hours=5)) == 1200
