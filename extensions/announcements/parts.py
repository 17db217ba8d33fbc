"""The announcements service's collaborators: its database, who readers are, and a clock (tests pass fakes)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from factoryhub.servicedb import Database, utcnow

from . import board
from .audience import for_reader, projects_named
from .readers import Readers


@dataclass
class Parts:
    """The database, the readers' directory (hub groups, quota memberships) and a clock."""
    db: Database
    readers: Readers
    clock: Callable[[], dt.datetime] = utcnow

    async def current_for(self, name: str) -> list:
        """The announcements ``name`` sees now."""
        now = self.clock()
        live = board.live(self.db, now)
        if not live:
            return []
        reader = await self.readers.reader(name, projects_named(live))
        return for_reader(live, reader, now)
