"""A process-wide, briefly cached view of the cluster for spawn forms and validation.

One ``sacctmgr show associations``, one ``sinfo --json``, one ``scontrol show
reservation`` and one ``scontrol show partition`` per TTL serve every page view and every
spawn: never one query per request. (Slurm 22.05's ``sinfo --json`` lists nodes only, so
partition limits come from scontrol's one-line records.) Maintenance reservations
(``FLAGS=MAINT``) are never offered to users; :meth:`ClusterView.maintenance` gives their
windows for the spawn form's warning (spawners/maintenance.py).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from factoryhub.site import Profile

from ..maintenance import MaintenanceWindow
from .client import SlurmClient
from .hostlist import expand_hostlist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reservation:
    """A Slurm reservation: whom it admits (users or accounts), its window, flags and nodes.

    ``nodes`` is None when scontrol's host list could not be read (then it is taken to cover
    every node); ``starts_at``/``ends_at`` are aware, None when scontrol printed no date."""
    name: str
    state: str
    users: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    flags: frozenset[str] = frozenset()
    nodes: frozenset[str] | None = frozenset()
    partition: str | None = None

    @property
    def is_maintenance(self) -> bool:
        return "MAINT" in self.flags

    def usable_by(self, username: str, accounts: tuple[str, ...]) -> bool:
        """Whether ``username`` may run sessions in it now (never in a maintenance reservation)."""
        return self.state == "ACTIVE" and not self.is_maintenance and (
            username in self.users or bool(set(accounts) & set(self.accounts)))


def _names(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(",") if v and v != "(null)")


def _oneliner_records(text: str, key: str) -> list[dict[str, str]]:
    """``scontrol --oneliner show ...`` output: one ``Key=Value ...`` record per line."""
    records = [dict(item.split("=", 1) for item in line.split() if "=" in item) for line in text.splitlines()]
    return [r for r in records if key in r]


def parse_slurm_time(text: str, zone: dt.tzinfo | None = None) -> dt.datetime | None:
    """scontrol's '2026-12-04T10:00:00' (the controller's local time, taken to be in ``zone``, the
    hub machine's when None) as an aware UTC datetime; None for 'Unknown', 'None' or anything else."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    # (a naive datetime's astimezone() reads it as the machine's local time, summer time included)
    return (moment.replace(tzinfo=zone) if zone is not None else moment).astimezone(dt.UTC)


def _hosts(text: str) -> frozenset[str] | None:
    try:
        return expand_hostlist(text)
    except ValueError:
        return None


def parse_reservations(text: str, zone: dt.tzinfo | None = None) -> list[Reservation]:
    """``scontrol --oneliner show reservation`` output, one reservation per line; times in ``zone``
    (:func:`parse_slurm_time`)."""
    return [Reservation(r["ReservationName"], r.get("State", ""), _names(r.get("Users", "")),
                        _names(r.get("Accounts", "")), parse_slurm_time(r.get("StartTime", ""), zone),
                        parse_slurm_time(r.get("EndTime", ""), zone), frozenset(_names(r.get("Flags", ""))),
                        _hosts(r.get("Nodes", "")), (_names(r.get("PartitionName", "")) or (None,))[0])
            for r in _oneliner_records(text, "ReservationName")]


def maintenance_windows(reservations: Iterable[Reservation], partition_nodes: Mapping[str, frozenset[str]],
                        now: dt.datetime) -> tuple[MaintenanceWindow, ...]:
    """The maintenance reservations (``FLAGS=MAINT``) under way or still to come at ``now``, by start,
    with the partitions whose nodes they take (reserved nodes run no other job, whatever its
    partition). One whose nodes could not be read is taken to cover its partition, or all of them."""
    windows = []
    for r in reservations:
        if not r.is_maintenance or r.starts_at is None or r.ends_at is None or r.ends_at <= now:
            continue
        if r.nodes is None:
            touched = {p: True for p in partition_nodes if r.partition in (None, p)}
        else:
            touched = {p: nodes <= r.nodes for p, nodes in partition_nodes.items() if nodes & r.nodes}
        if touched:
            windows.append(MaintenanceWindow(r.name, r.starts_at, r.ends_at, frozenset(touched),
                                             frozenset(p for p, whole in touched.items() if not whole)))
    return tuple(sorted(windows, key=lambda w: (w.starts_at, w.name)))


_SLURM_TIME = re.compile(r"(?:(?P<days>\d+)-)?(?:(?P<hours>\d+):)?(?P<minutes>\d+):(?P<seconds>\d+)")


def parse_time_limit(value: str) -> float | None:
    """A Slurm time limit as printed by scontrol ('UNLIMITED', '1-00:00:00', '04:00:00',
    '30:00') in hours; None when there is no limit."""
    if value.upper() in ("UNLIMITED", "INFINITE", "NONE", ""):
        return None
    match = _SLURM_TIME.fullmatch(value)
    if not match:
        raise ValueError(f"not a Slurm time limit: {value!r}")
    days, hours, minutes, seconds = (int(match.group(g) or 0) for g in ("days", "hours", "minutes", "seconds"))
    return days * 24 + hours + minutes / 60 + seconds / 3600


def parse_partition_limits(text: str) -> dict[str, float | None]:
    """``scontrol --oneliner show partition`` -> partition name -> MaxTime in hours (None: unlimited)."""
    return {r["PartitionName"]: parse_time_limit(r.get("MaxTime", "UNLIMITED"))
            for r in _oneliner_records(text, "PartitionName")}


def parse_partition_nodes(text: str) -> dict[str, frozenset[str]]:
    """``scontrol --oneliner show partition`` -> partition name -> its nodes (empty when unreadable)."""
    return {r["PartitionName"]: _hosts(r.get("Nodes", "")) or frozenset()
            for r in _oneliner_records(text, "PartitionName")}


@dataclass(frozen=True)
class ClusterView:
    """What the spawn form needs to know about the cluster: accounts per user, nodes, idle GPUs, reservations."""
    accounts_by_user: dict[str, tuple[str, ...]] = field(default_factory=dict)
    node_addresses: dict[str, str] = field(default_factory=dict)
    idle_gpus: dict[str, int] = field(default_factory=dict)  # GPU type -> idle count
    reservations: tuple[Reservation, ...] = ()
    partition_max_hours: dict[str, float | None] = field(default_factory=dict)
    partition_nodes: dict[str, frozenset[str]] = field(default_factory=dict)

    def accounts_of(self, username: str) -> tuple[str, ...]:
        return self.accounts_by_user.get(username, ())

    def reservations_of(self, username: str) -> tuple[str, ...]:
        accounts = self.accounts_of(username)
        return tuple(r.name for r in self.reservations if r.usable_by(username, accounts))

    def maintenance(self, now: dt.datetime) -> tuple[MaintenanceWindow, ...]:
        """Maintenance windows under way or to come at ``now`` (:func:`maintenance_windows`)."""
        return maintenance_windows(self.reservations, self.partition_nodes, now)

    def bounded(self, profile: Profile) -> Profile:
        """``profile`` with its walltime bounds lowered to its partition's MaxTime in Slurm:
        the site may promise less than Slurm allows, never more."""
        limit = self.partition_max_hours.get(profile.partition)
        if limit is None or limit >= profile.max_walltime_hours:
            return profile
        return profile.model_copy(update={"max_walltime_hours": limit,
                                          "default_walltime_hours": min(profile.default_walltime_hours, limit)})


def _gres_counts(gres: str) -> dict[str, int]:
    """'gpu:h100:4(S:0)' or 'gpu:h100:2(IDX:0-1)' -> {'h100': 4}."""
    counts: dict[str, int] = {}
    for item in filter(None, (gres or "").split(",")):
        parts = item.split("(")[0].split(":")
        if parts[0] == "gpu" and len(parts) == 3 and parts[2].isdigit():
            counts[parts[1]] = counts.get(parts[1], 0) + int(parts[2])
    return counts


def parse_view(associations: list[tuple[str, str, str]], sinfo: dict, reservations: str = "",
               partitions: str = "", zone: dt.tzinfo | None = None) -> ClusterView:
    """A :class:`ClusterView` from sacctmgr associations, ``sinfo --json``, scontrol reservations and
    partitions (their times in ``zone``, the hub machine's when None)."""
    accounts: dict[str, list[str]] = {}
    for user, account, _qos in associations:
        accounts.setdefault(user, []).append(account)
    addresses, idle = {}, {}
    for node in sinfo.get("nodes", []):
        name = node.get("name") or node.get("hostname")
        addresses[name] = node.get("address") or name
        state = node.get("state")
        state = " ".join(state) if isinstance(state, list) else str(state or "")
        if "DOWN" in state.upper() or "DRAIN" in state.upper():
            continue
        total, used = _gres_counts(node.get("gres", "")), _gres_counts(node.get("gres_used", ""))
        for gpu_type, count in total.items():
            idle[gpu_type] = idle.get(gpu_type, 0) + max(0, count - used.get(gpu_type, 0))
    return ClusterView({u: tuple(sorted(a)) for u, a in accounts.items()}, addresses, idle,
                       tuple(parse_reservations(reservations, zone)), parse_partition_limits(partitions),
                       parse_partition_nodes(partitions))


class ClusterCache:
    """Refreshes the :class:`ClusterView` at most once per ``ttl`` seconds, whoever asks."""

    def __init__(self, client: SlurmClient, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.client, self.ttl, self.clock = client, ttl, clock
        self._view: ClusterView | None = None
        self._taken_at = float("-inf")
        self._lock = asyncio.Lock()

    async def view(self, max_age: float | None = None, fresher_than: float | None = None) -> ClusterView:
        """The view, refreshed if older than ``max_age`` (default: the TTL), or if it was taken
        before the moment ``fresher_than`` (this cache's clock): a request that met a project the
        view did not know yet gets a view begun after it arrived — one refresh serves every
        request waiting for it."""
        limit = self.ttl if max_age is None else max_age
        async with self._lock:  # concurrent page views share one refresh
            stale = fresher_than is not None and self._taken_at < fresher_than
            if self._view is None or stale or self.clock() - self._taken_at > limit:
                began = self.clock()  # what the view shows is at least as new as this
                associations, sinfo, reservations, partitions = await asyncio.gather(
                    self.client.associations(), self.client.nodes(), self.client.reservations(),
                    self.client.partitions())
                self._view = parse_view(associations, sinfo, reservations, partitions)
                self._taken_at = began
                log.debug("Cluster view refreshed (%d associations, %.2f s)", len(associations),
                          self.clock() - began)
            return self._view


_caches: dict[tuple, ClusterCache] = {}


def cluster_cache_for(client: SlurmClient, ttl: float = 30.0) -> ClusterCache:
    """The one shared cluster cache for the Slurm installation ``client`` talks to."""
    key = (client.bin_dir, client.slurm_conf)
    if key not in _caches:
        _caches[key] = ClusterCache(client, ttl)
    return _caches[key]
