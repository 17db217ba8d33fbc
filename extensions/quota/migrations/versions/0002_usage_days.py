"""Daily usage rollup per account, and an index for running jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Balances of many projects read the rollup instead of every job record. The rollup is
filled from the records already imported.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('usage_days',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('gpu_seconds', sa.BigInteger(), nullable=False),
    sa.Column('cpu_seconds', sa.BigInteger(), nullable=False),
    sa.Column('jobs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account', 'day')
    )
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.create_index('ix_usage_end_account', ['end_at', 'account'], unique=False)
    op.execute(sa.text(
        "INSERT INTO usage_days (account, day, gpu_seconds, cpu_seconds, jobs) "
        "SELECT account, CAST(start_at AS DATE), SUM(gpu_seconds), SUM(cpu_seconds), COUNT(*) FROM usage_records "
        "WHERE end_at IS NOT NULL GROUP BY account, CAST(start_at AS DATE)"
        if op.get_bind().dialect.name == "postgresql" else
        "INSERT INTO usage_days (account, day, gpu_seconds, cpu_seconds, jobs) "
        "SELECT account, date(start_at), SUM(gpu_seconds), SUM(cpu_seconds), COUNT(*) FROM usage_records "
        "WHERE end_at IS NOT NULL GROUP BY account, date(start_at)"))


def downgrade() -> None:
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_end_account')
    op.drop_table('usage_days')
