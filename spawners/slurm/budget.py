"""Budget holds for Slurm sessions: ask the quota service before sbatch, settle after.

Mixed into the Slurm spawner. A session's worst-case cost (GPUs × walltime × the
profile's price) is held before the job is submitted; the hold is linked to the job id
once sbatch returns and closed when the session ends (settled if the job started, so
accounting takes over; released if it never did). The hold id is part of the spawner
state, so a hub restart settles what it started. Spawner code knows the service only
through its REST contract (factoryhub.spawners.quota_client).
"""
from __future__ import annotations

from traitlets import Enum, Float, Int, Unicode
from traitlets.config import LoggingConfigurable

from factoryhub.costs import session_cost_gpu_hours

from ..mixin import refuse
from ..options import SessionRequest
from ..quota_client import QuotaClient, QuotaUnavailable

QUOTA_UNAVAILABLE = "The allocation service is unreachable, try again shortly."


class BudgetHoldMixin(LoggingConfigurable):
    """Spawner mixin: hold a session's worst-case cost in the quota service before sbatch, settle it at the end."""
    quota_url = Unicode(
        "", config=True,
        help="Base URL of the quota service's API, e.g. http://127.0.0.1:10101/services/factoryhub-quota/api/v1/ "
        "(empty: sessions are not metered).")
    quota_token = Unicode("", config=True, help="Token of the hub's factoryhub-sessions identity for the quota API.")
    unregistered_accounts = Enum(
        ["refuse", "allow"], "refuse", config=True,
        help="A Slurm account that is no project in the ledger: refuse the session, or run it unmetered.")
    hold_id = Int(0, help="The open budget hold of this session (kept in the state).")
    hold_gpus = Int(0, help="GPUs the held session was granted (kept in the state, to settle at stop).")
    hold_price = Float(0.0, help="The held session's price per GPU-hour (kept in the state).")

    @property
    def quota(self) -> QuotaClient | None:
        return QuotaClient(self.quota_url, self.quota_token) if self.quota_url else None

    def get_state(self):
        state = super().get_state()
        if self.hold_id:
            state.update(hold_id=self.hold_id, hold_gpus=self.hold_gpus, hold_price=self.hold_price)
        return state

    def load_state(self, state):
        super().load_state(state)
        self.hold_id = int(state.get("hold_id") or 0)
        self.hold_gpus = int(state.get("hold_gpus") or 0)
        self.hold_price = float(state.get("hold_price") or 0.0)

    async def hold_budget(self, request: SessionRequest) -> None:
        """Hold the session's worst-case cost, or refuse the spawn with the service's message."""
        if self.quota is None or request.account is None:
            return
        try:
            answer = await self.quota.hold(request.account, self.user.name, self.name or "", request.gpu_count,
                                           request.walltime_hours, request.profile.price, self.start_timeout / 3600)
        except QuotaUnavailable as err:
            self.log.warning("No budget hold for %s: %s", self._log_name, err)
            raise refuse(QUOTA_UNAVAILABLE, "quota_unavailable", 503) from None
        if answer.unregistered and self.unregistered_accounts == "allow":
            self.log.info("Session %s runs unmetered: %s", self._log_name, answer.message)
            return
        if not answer.allowed:
            self.log.info("Budget refused for %s: %s", self._log_name, answer.message)
            raise refuse(answer.message, "over_budget", 403)
        self.hold_id = answer.hold_id or 0
        self.hold_gpus, self.hold_price = request.gpu_count, request.profile.price
        self.log.info("Budget held for %s (hold %s): %s", self._log_name, self.hold_id, answer.message)

    async def project_balances(self, accounts: tuple[str, ...]) -> dict[str, float] | None:
        """GPU-hours left per project for the spawn form; None when unmetered or unknown."""
        if self.quota is None:
            return None
        try:
            return await self.quota.remaining(list(accounts))
        except QuotaUnavailable as err:
            self.log.warning("Spawn form without balances for %s: %s", self._log_name, err)
            return None

    async def attach_budget(self, job_id: str) -> None:
        if self.quota is None or not self.hold_id:
            return
        try:
            await self.quota.attach_job(self.hold_id, job_id)
        except QuotaUnavailable as err:  # the hold still counts in full until it expires: safe
            self.log.warning("Could not link hold %s to job %s: %s", self.hold_id, job_id, err)

    def charge_so_far(self, started_at: float | None, now: float) -> float | None:
        """GPU-hours the held session has cost if it started at ``started_at`` (epoch seconds);
        None when that is unknown (the hold then counts in full until accounting)."""
        if not self.hold_id or not started_at or started_at > now:
            return None
        return session_cost_gpu_hours(self.hold_gpus, (now - started_at) / 3600, self.hold_price)

    async def close_budget(self, ran: bool, charged_gpu_hours: float | None = None) -> None:
        """End the hold: released if the session never ran, else settled — at ``charged_gpu_hours``
        at once when known (the job's real elapsed time), until accounting's record replaces it."""
        if self.quota is None or not self.hold_id:
            return
        hold_id, self.hold_id = self.hold_id, 0
        try:
            await self.quota.close(hold_id, ran, charged_gpu_hours if ran else None)
        except QuotaUnavailable as err:  # it expires on its own after walltime + grace
            self.log.warning("Could not close hold %s of %s: %s", hold_id, self._log_name, err)
