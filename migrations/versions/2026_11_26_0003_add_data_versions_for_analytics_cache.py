"""Add data versions: change counters that invalidate cached analytics.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 22:58:01.822871

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions'))
    )


def downgrade():
    op.drop_table('data_versions')
