"""Integrity: the last verification of each distribution, and the stewards' notifications.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from factoryhub.servicedb import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrity_states",
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("distribution", sa.Integer(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("expected", sa.String(length=64), nullable=True),
        sa.Column("observed", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("checked_by", sa.String(length=255), nullable=False),
        sa.Column("good_manifest", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", "distribution"),
    )
    op.create_table(
        "steward_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("distribution", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_steward_notifications_created_at", "steward_notifications", ["created_at"])
    op.create_index("ix_notifications_open", "steward_notifications", ["entry_id", "distribution", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_open", table_name="steward_notifications")
    op.drop_index("ix_steward_notifications_created_at", table_name="steward_notifications")
    op.drop_table("steward_notifications")
    op.drop_table("integrity_states")
