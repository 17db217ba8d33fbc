"""The ledger's database (SQLite by default, PostgreSQL in production): factoryhub.servicedb
with the ledger's migrations.

Writers that decide on a balance (holds) must not interleave: on PostgreSQL they lock the
project row (``SELECT ... FOR UPDATE``); on SQLite a write transaction is ``BEGIN IMMEDIATE``.
"""
from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from factoryhub import servicedb

MIGRATIONS = Path(__file__).with_name("migrations")


class Database(servicedb.Database):
    """The ledger: read sessions, serialised write sessions, its migrations."""

    def __init__(self, url: str):
        super().__init__(url, MIGRATIONS)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the quota ledger at ``url`` with the service's own migrations."""
    return servicedb.alembic_config(url, MIGRATIONS)
