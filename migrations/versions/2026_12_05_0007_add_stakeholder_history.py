"""Stakeholder history: former personal values an erasure must scrub, and typed keep/erase
reasons kept out of the audit trail (issue 11 item 9).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stakeholder_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stakeholder_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=30), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'],
                                name=op.f('fk_stakeholder_history_stakeholder_id_stakeholders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder_history')),
    )
    with op.batch_alter_table('stakeholder_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stakeholder_history_stakeholder_id'),
                              ['stakeholder_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stakeholder_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stakeholder_history_stakeholder_id'))
    op.drop_table('stakeholder_history')
