"""Alembic environment: runs on a connection the caller passes (Database.upgrade) or on
the URL in the config (``alembic -x``-free CLI use through factoryhub.quota.db)."""
from alembic import context
from sqlalchemy import create_engine

from factoryhub.quota.models import Base

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).begin() as connection:
        run(connection)
