"""Pool homes at a workshop's end: the cleaning job's script, and waiting for it."""
from __future__ import annotations

import datetime as dt

import pytest

from factoryhub.spawners.slurm.client import SlurmError
from factoryhub.workshops import ending, joining, pool_homes
from factoryhub.workshops.models import PoolLease
from factoryhub.workshops.parts import Pool

from .fakes import NOW
from .test_joining import made


def test_the_script_empties_the_home_as_its_owner_and_archives_under_an_unguessable_name():
    script = pool_homes.clean_script("gpu-intro", "train01", "ws-gpu-intro", "cpu", "/srv/archives")
    assert "#SBATCH --account=ws-gpu-intro" in script and "#SBATCH --partition=cpu" in script
    assert "find \"$HOME\" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +" in script
    archive = next(line for line in script.splitlines() if line.startswith("tar "))
    assert "/srv/archives/gpu-intro-train01-" in archive and archive.index("tar") < script.index("find")
    again = pool_homes.clean_script("gpu-intro", "train01", "ws-gpu-intro", "cpu", "/srv/archives")
    assert again != script, "the archive's name must not be guessable"
    assert "tar " not in pool_homes.clean_script("gpu-intro", "train01", "ws-gpu-intro", "cpu", None)


@pytest.mark.parametrize("field, value", [("account", "root; rm"), ("partition", "cpu\n#SBATCH --uid=0"),
                                          ("archive_dir", "/srv/../etc"), ("archive_dir", "relative")])
def test_hostile_values_never_reach_the_script(field, value):
    args = {"workshop_id": "w", "account": "train01", "slurm_account": "ws-w", "partition": "cpu",
            "archive_dir": "/srv/a", field: value}
    with pytest.raises(ValueError):
        pool_homes.clean_script(**args)


class FakeClient:
    """sbatch as the user, then sacct answering the states given."""

    def __init__(self, states, refuse=()):
        self.states, self.refuse, self.submitted = states, refuse, []

    def _exe(self, name):
        return name

    async def submit(self, script, username):
        if username in self.refuse:
            raise SlurmError(["sbatch"], 1, "Invalid account")
        self.submitted.append(username)
        return str(100 + len(self.submitted))

    async def run(self, argv):
        ids = argv[argv.index("-j") + 1].split(",")
        return "\n".join(f"{i}|{self.states.get(i, 'PENDING')}" for i in ids)


async def test_waiting_reports_each_accounts_final_state():
    client = FakeClient({"101": "COMPLETED", "102": "FAILED"}, refuse=("train03",))
    states = await pool_homes.run_clean_jobs(client, {"train01": "s", "train02": "s", "train03": "s"}, poll=0)
    assert states["train01"] == "COMPLETED" and states["train02"] == "FAILED"
    assert states["train03"].startswith("not submitted")


async def test_with_the_clean_policy_a_cleaned_pool_account_is_free_again(tmp_path):
    parts, slurm, hub, quota, codes = await made(tmp_path)
    parts.pool = Pool(("train01", "train02"), "clean")
    await joining.join(parts, codes[0], None, "Ada")
    await joining.join(parts, codes[1], None, "Bea")
    slurm.client = FakeClient({"101": "COMPLETED", "102": "CANCELLED"})
    parts.clock = lambda: NOW + dt.timedelta(hours=5)
    await ending.end(parts, "gpu-intro", "service:expiry")
    with parts.db.read() as session:
        assert session.get(PoolLease, "train01") is None
        assert session.get(PoolLease, "train02") is not None
        from factoryhub.workshops.models import Workshop
        assert "train02: home not cleaned (CANCELLED)" in session.get(Workshop, "gpu-intro").problem
