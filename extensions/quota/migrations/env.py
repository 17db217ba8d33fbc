"""Alembic environment of the ledger: runs on a connection the caller passes (Database.upgrade)
or on the URL in the config (command-line use)."""
from factoryhub.quota.models import Base
from factoryhub.servicedb import run_migrations_here

run_migrations_here(Base.metadata)
