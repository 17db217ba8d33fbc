"""Dashboards, guest links, guest identities and the append-only access log.

Revision ID: 0001
Revises:
Create Date: 2026-12-04 12:45:00
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
        "dashboards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("notebook", sa.String(length=255), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=True),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("walltime_hours", sa.Float(), nullable=True),
        sa.Column("show_sources", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("unpublished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "name", name="uq_dashboards_owner_name"),
    )
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dashboard_id", sa.Integer(), sa.ForeignKey("dashboards.id"), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("max_guests", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_links_dashboard", "links", ["dashboard_id"])
    op.create_table(
        "guests",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("link_id", sa.Integer(), sa.ForeignKey("links.id"), nullable=False),
        sa.Column("dashboard_id", sa.Integer(), sa.ForeignKey("dashboards.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ticket_sha256", sa.String(length=64), nullable=True, unique=True),
        sa.Column("ticket_expires_at", UTCDateTime(), nullable=True),
        sa.Column("logged_in_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_guests_active", "guests", ["ended_at", "expires_at"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("dashboard_id", sa.Integer(), nullable=True),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("guest", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_dashboard", "access_log", ["dashboard_id", "at"])
    make_append_only("access_log")


def downgrade() -> None:
    drop_append_only("access_log")
    op.drop_table("access_log")
    op.drop_table("guests")
    op.drop_table("links")
    op.drop_table("dashboards")
