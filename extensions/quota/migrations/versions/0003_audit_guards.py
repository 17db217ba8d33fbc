"""The audit log also refuses what bypasses row triggers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

0001 refused UPDATE and DELETE; SQLite's INSERT OR REPLACE of an existing id deletes without
firing a trigger, and PostgreSQL's TRUNCATE fires no row trigger. Both are refused now.
"""
from alembic import op

from factoryhub.servicedb import guard_replace_truncate

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    guard_replace_truncate("audit_log")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
