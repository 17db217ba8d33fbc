"""A project's principal investigator, and its AI-Act record.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

projects.pi names the member who edits the project's AI-Act record (with the admins); ""
while none is named. ai_act_records holds one record per project as the JSON document of
factoryhub.ai_act.record.ProjectRecord, with who changed it last and when; every change is
also in the audit log.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pi', sa.String(length=64), server_default='', nullable=False))
    op.create_table('ai_act_records',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id')
    )


def downgrade() -> None:
    op.drop_table('ai_act_records')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('pi')
