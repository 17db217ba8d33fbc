"""Workshops, join codes, participants, pool leases, broadcasts and the append-only audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-12-04 09:36:39.688294
"""
import sqlalchemy as sa
from alembic import op

from factoryhub.servicedb import UTCDateTime, drop_append_only, make_append_only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("workshops",
    sa.Column("id", sa.String(length=40), nullable=False),
    sa.Column("title", sa.String(length=120), nullable=False),
    sa.Column("trainer", sa.String(length=64), nullable=False),
    sa.Column("trainer_account", sa.String(length=64), nullable=False),
    sa.Column("account", sa.String(length=64), nullable=False),
    sa.Column("profile", sa.String(length=40), nullable=False),
    sa.Column("seats", sa.Integer(), nullable=False),
    sa.Column("budget_gpu_seconds", sa.BigInteger(), nullable=False),
    sa.Column("starts_at", UTCDateTime(), nullable=False),
    sa.Column("ends_at", UTCDateTime(), nullable=False),
    sa.Column("course_repo", sa.String(length=500), nullable=False),
    sa.Column("course_branch", sa.String(length=100), nullable=False),
    sa.Column("nodes", sa.String(length=500), nullable=False),
    sa.Column("reservation", sa.String(length=64), nullable=True),
    sa.Column("idle_timeout_minutes", sa.Integer(), nullable=True),
    sa.Column("state", sa.Enum("creating", "ready", "ending", "ended", "failed",
                              name="workshop_state", native_enum=False, length=16), nullable=False),
    sa.Column("made", sa.JSON(), nullable=False),
    sa.Column("problem", sa.Text(), nullable=False),
    sa.Column("report", sa.JSON(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.create_index("ix_workshops_state_end", ["state", "ends_at"], unique=False)
        batch_op.create_index("ix_workshops_trainer", ["trainer"], unique=False)

    op.create_table("workshops_audit",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(length=255), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("workshop_id", sa.String(length=40), nullable=False),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("workshops_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshops_audit_at"), ["at"], unique=False)

    make_append_only("workshops_audit")
    op.create_table("broadcasts",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("workshop_id", sa.String(length=40), nullable=False),
    sa.Column("sender", sa.String(length=64), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index("ix_broadcasts_workshop", ["workshop_id", "id"], unique=False)

    op.create_table("join_codes",
    sa.Column("code", sa.String(length=32), nullable=False),
    sa.Column("workshop_id", sa.String(length=40), nullable=False),
    sa.Column("used_by", sa.String(length=64), nullable=True),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("code")
    )
    with op.batch_alter_table("join_codes", schema=None) as batch_op:
        batch_op.create_index("ix_codes_workshop", ["workshop_id"], unique=False)

    op.create_table("participants",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("workshop_id", sa.String(length=40), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.Enum("institutional", "pool", name="participant_kind", native_enum=False, length=16),
              nullable=False),
    sa.Column("display_name", sa.String(length=100), nullable=False),
    sa.Column("joined_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("workshop_id", "username", name="uq_participant")
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index("ix_participants_username", ["username"], unique=False)

    op.create_table("pool_leases",
    sa.Column("account", sa.String(length=32), nullable=False),
    sa.Column("workshop_id", sa.String(length=40), nullable=False),
    sa.Column("password_hash", sa.String(length=200), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("leased_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["workshop_id"], ["workshops.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("account")
    )


def downgrade() -> None:
    op.drop_table("pool_leases")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_username")

    op.drop_table("participants")
    with op.batch_alter_table("join_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_codes_workshop")

    op.drop_table("join_codes")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_workshop")

    op.drop_table("broadcasts")
    with op.batch_alter_table("workshops_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workshops_audit_at"))

    drop_append_only("workshops_audit")
    op.drop_table("workshops_audit")
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.drop_index("ix_workshops_trainer")
        batch_op.drop_index("ix_workshops_state_end")

    op.drop_table("workshops")
