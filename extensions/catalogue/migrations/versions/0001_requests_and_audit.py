"""Access requests and the append-only audit log.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from factoryhub.servicedb import UTCDateTime, drop_append_only, make_append_only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("entry_title", sa.String(length=200), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Enum("pending", "approved", "rejected", "withdrawn", name="request_state",
                                   native_enum=False, length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_requests_entry_user", "access_requests", ["entry_id", "username"])
    op.create_index("ix_requests_state", "access_requests", ["state"])
    op.create_index("uq_requests_pending", "access_requests", ["entry_id", "username"], unique=True,
                    sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
    op.create_table(
        "catalogue_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_catalogue_audit_at", "catalogue_audit", ["at"])
    make_append_only("catalogue_audit")


def downgrade() -> None:
    drop_append_only("catalogue_audit")
    op.drop_table("catalogue_audit")
    op.drop_index("uq_requests_pending", table_name="access_requests")
    op.drop_index("ix_requests_state", table_name="access_requests")
    op.drop_index("ix_requests_entry_user", table_name="access_requests")
    op.drop_table("access_requests")
