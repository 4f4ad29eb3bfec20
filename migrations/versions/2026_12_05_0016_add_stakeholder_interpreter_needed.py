"""Add stakeholders.interpreter_needed: bring an interpreter to meet this person (issue 12 item 13).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 22:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (constant default): a batch rebuild of stakeholders fails on a
    # populated SQLite database, whose other tables' checks run when the old table is dropped.
    op.add_column('stakeholders', sa.Column('interpreter_needed', sa.Boolean(),
                                            server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.drop_column('interpreter_needed')
