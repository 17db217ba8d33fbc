"""What workshops change in Slurm: the training account, participants' associations, the reservation.

Each method is one idempotent-enough sacctmgr/scontrol call with the hub's operator rights
(``sacctmgr modify user <hub user> set adminlevel=operator``, docs/admin.md), as argv lists.
"""
from __future__ import annotations

import datetime as dt

from factoryhub.spawners.slurm.client import SlurmClient, SlurmError
from factoryhub.spawners.slurm.cluster import Reservation, parse_reservations
from factoryhub.spawners.slurm.queue import parse_job

from .plan import reservation_create_argv


def _local_zone() -> dt.tzinfo:
    """The zone scontrol reads and prints times in: the controller's, taken to be this machine's."""
    return dt.datetime.now().astimezone().tzinfo


class TrainingSlurm:
    """Slurm operations of the workshops service."""

    def __init__(self, client: SlurmClient, zone: dt.tzinfo | None = None):
        self.client, self.zone = client, zone or _local_zone()

    def _sacctmgr(self, *args: str) -> list[str]:
        return [self.client._exe("sacctmgr"), "--immediate", *args]

    async def add_account(self, account: str, parent: str, description: str) -> None:
        """The training account, a child of the trainer's project (Slurm's limits on it then cover both)."""
        existing = await self.client.run([self.client._exe("sacctmgr"), "--noheader", "--parsable2", "show",
                                          "account", account, "format=Account"])
        if existing.strip():
            raise SlurmError(["sacctmgr", "add", "account"], 1, f"a Slurm account {account} exists already")
        await self.client.run(self._sacctmgr("add", "account", account, f"parent={parent}",
                                             f"description={description[:100]}", "organization=training"))

    async def delete_account(self, account: str) -> None:
        await self.client.run(self._sacctmgr("delete", "account", account))

    async def add_user(self, username: str, account: str) -> None:
        """Associate ``username`` with ``account`` (creating the Slurm user, with it as default account)."""
        await self.client.run(self._sacctmgr("add", "user", username, f"account={account}"))

    async def remove_user(self, username: str, account: str) -> None:
        """End ``username``'s association with ``account``; a user with no other account is removed entirely."""
        rows = await self.client.associations(username)
        if not any(a == account for _u, a, _q in rows):
            return
        if all(a == account for _u, a, _q in rows):
            await self.client.run(self._sacctmgr("delete", "user", username))
            return
        defaults = await self.client.run([self.client._exe("sacctmgr"), "--noheader", "--parsable2", "show", "user",
                                          username, "format=DefaultAccount"])
        if defaults.strip() == account:  # Slurm refuses to remove the default association: move the default first
            other = next(a for _u, a, _q in rows if a != account)
            await self.client.run(self._sacctmgr("modify", "user", username, "set", f"defaultaccount={other}"))
        await self.client.run(self._sacctmgr("delete", "user", username, f"account={account}"))

    async def create_reservation(self, name: str, account: str, nodes: str, starts_at: dt.datetime,
                                 ends_at: dt.datetime) -> None:
        await self.client.run(reservation_create_argv(self.client._exe("scontrol"), name, account, nodes, starts_at,
                                                      ends_at, self.zone, dt.datetime.now(dt.UTC)))

    async def delete_reservation(self, name: str) -> None:
        try:
            await self.client.run([self.client._exe("scontrol"), "delete", f"ReservationName={name}"])
        except SlurmError as err:
            if "Invalid reservation name" not in err.stderr and "not found" not in err.stderr.lower():
                raise

    async def reservations(self) -> list[Reservation]:
        return parse_reservations(await self.client.reservations(), self.zone)

    async def jobs_of(self, account: str) -> list[dict]:
        """The account's jobs that are still active. Filtered here: Slurm 22.05's ``squeue --json``
        ignores ``--account`` (it lists every job), and lists jobs that ended minutes ago."""
        data = await self.client.run_json([self.client._exe("squeue"), "--account", account, "--json"])
        return [raw for raw in data.get("jobs") or []
                if (job := parse_job(raw)).active and job.account == account]
