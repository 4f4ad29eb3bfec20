"""Add unit group assignments: which groups a community policing unit member looks after.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 22:53:18.810745

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_assignments',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_group_assignments_group_id_community_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_assignments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'group_id', name=op.f('pk_group_assignments'))
    )
    with op.batch_alter_table('group_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_group_assignments_group_id_user_id', ['group_id', 'user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('group_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_group_assignments_group_id_user_id')

    op.drop_table('group_assignments')
