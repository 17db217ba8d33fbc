"""What a settled hold counts: the spawner's charge for the session, when it sent one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

A session's hold used to count its whole reservation from the session's stop until the
job's final usage record was imported. The spawner now sends what the session cost when it
closes the hold; the settled hold counts at most that. Holds closed before this (and closes
without the figure) have none and keep counting their reservation, as before.
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charged_gpu_seconds', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_column('charged_gpu_seconds')
