"""A fingerprint per usage record, and an index that covers the importer's comparison.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

The importer asks, for every job of a window, whether the stored row already says what sacct
says. With the signature's digest in (cluster, job_id, fingerprint), that is one index probe
and one integer per job. Rows imported before this have no fingerprint: the next import that
sees them writes it (once).
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_usage_job_fingerprint', ['cluster', 'job_id', 'fingerprint'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_job_fingerprint')
        batch_op.drop_column('fingerprint')
