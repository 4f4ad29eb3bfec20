"""Add handover_items.introduced_by_id and introduction_id: who introduced the leaving officer
to a handed-over person or group, from the ask-for-introduction assignment (issue 15 item 1).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 22:05:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('handover_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('introduced_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('introduction_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_handover_items_introduced_by_id_stakeholders'),
                                    'stakeholders', ['introduced_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_handover_items_introduction_id_assignments'),
                                    'assignments', ['introduction_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('handover_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_handover_items_introduction_id_assignments'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_handover_items_introduced_by_id_stakeholders'), type_='foreignkey')
        batch_op.drop_column('introduction_id')
        batch_op.drop_column('introduced_by_id')
