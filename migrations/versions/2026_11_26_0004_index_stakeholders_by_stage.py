"""Index stakeholders by relationship stage (introductions start from working relationships).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:37:46.642801

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.create_index('ix_stakeholders_stage', ['stage'], unique=False)



def downgrade():
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.drop_index('ix_stakeholders_stage')

