"""The ledger's GPU budgets as Slurm's own limits (``GrpTRESMins=gres/gpu=N`` per account).

Slurm compares GrpTRESMins with the account's accumulated usage (GrpTRESRaw, which never
decays on a FactoryHub cluster), not with usage in an allocation period. So the limit is
set to make Slurm's remaining budget equal the ledger's:

    limit = slurm_raw_usage + ledger_remaining        (GPU-minutes, holds excluded)

Afterwards both sides grow by the same jobs, so the limit only changes when an allocation
changes or a period begins; :func:`drift` finds accounts where the two disagree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from factoryhub.spawners.slurm.client import SlurmClient


@dataclass(frozen=True)
class SlurmBudget:
    """An account's GPU limit in Slurm (GrpTRESMins) and the minutes it has used against it."""
    account: str
    limit_minutes: int | None  # None: no GPU limit set
    raw_minutes: int

    @property
    def remaining_minutes(self) -> int | None:
        return None if self.limit_minutes is None else self.limit_minutes - self.raw_minutes


@dataclass(frozen=True)
class Drift:
    """An account whose Slurm GPU limit disagrees with the ledger's remaining balance, and the limit to set."""
    account: str
    ledger_remaining_minutes: int
    slurm_remaining_minutes: int | None
    desired_limit_minutes: int

    def describe(self) -> str:
        slurm = "no GPU limit" if self.slurm_remaining_minutes is None else \
            f"{self.slurm_remaining_minutes} GPU-minutes left"
        return (f"{self.account}: Slurm has {slurm}, the ledger {self.ledger_remaining_minutes}; "
                f"GrpTRESMins should be gres/gpu={self.desired_limit_minutes}")


def _tres(text: str, name: str = "gres/gpu") -> int | None:
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key == name and value.isascii() and value.isdigit():  # "²".isdigit() too, but int() refuses it
            return int(value)
    return None


def parse_sshare(text: str) -> dict[str, SlurmBudget]:
    """``sshare --noheader --parsable2 -o Account,User,GrpTRESMins,GrpTRESRaw``: account rows only."""
    budgets = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 4 or parts[1] or not parts[0]:
            continue
        account, _user, limits, raw = parts
        budgets[account] = SlurmBudget(account, _tres(limits), _tres(raw) or 0)
    return budgets


def desired_limit(budget: SlurmBudget, ledger_remaining_seconds: int) -> int:
    """GrpTRESMins gres/gpu that leaves Slurm exactly the ledger's remaining minutes (never below raw)."""
    return budget.raw_minutes + max(0, math.floor(ledger_remaining_seconds / 60))


def drift(budget: SlurmBudget, ledger_remaining_seconds: int, tolerance_minutes: int = 1) -> Drift | None:
    """The drift between Slurm's limit and the ledger for one account, or None when within ``tolerance_minutes``."""
    want = desired_limit(budget, ledger_remaining_seconds)
    if budget.limit_minutes is not None and abs(budget.limit_minutes - want) <= tolerance_minutes:
        return None
    return Drift(budget.account, max(0, ledger_remaining_seconds // 60), budget.remaining_minutes, want)


class SlurmLimits:
    """Reads and sets account GPU budgets with sshare and sacctmgr (the hub's Slurm rights)."""

    def __init__(self, client: SlurmClient):
        self.client = client

    async def budgets(self, accounts: list[str]) -> dict[str, SlurmBudget]:
        if not accounts:
            return {}
        out = await self.client.run([self.client._exe("sshare"), "--noheader", "--parsable2", "-A", ",".join(accounts),
                                     "-o", "Account,User,GrpTRESMins,GrpTRESRaw"])
        return parse_sshare(out)

    async def set_limit(self, account: str, minutes: int) -> None:
        await self.client.run([self.client._exe("sacctmgr"), "--immediate", "modify", "account", "where",
                               f"name={account}", "set", f"GrpTRESMins=gres/gpu={minutes}"])
