"""Add assignments: a visit to a group asked of a named officer by a due date, or an
introduction an officer asks for (issue 12 items 4 and 5).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 14:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), server_default='visit', nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('stakeholder_id', sa.Integer(), nullable=True),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('chain', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='open', nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('visit', 'introduction')",
                           name=op.f('ck_assignments_kind_valid')),
        sa.CheckConstraint("status IN ('open', 'done', 'cancelled')",
                           name=op.f('ck_assignments_status_valid')),
        sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'],
                                name=op.f('fk_assignments_group_id_community_groups'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'],
                                name=op.f('fk_assignments_stakeholder_id_stakeholders'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['officer_id'], ['users.id'],
                                name=op.f('fk_assignments_officer_id_users')),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'],
                                name=op.f('fk_assignments_assigned_by_id_users')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'],
                                name=op.f('fk_assignments_closed_by_id_users')),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                                name=op.f('fk_assignments_contact_id_contacts'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_officer_id_status_due_on',
                              ['officer_id', 'status', 'due_on'], unique=False)
        batch_op.create_index('ix_assignments_group_id_status', ['group_id', 'status'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_group_id_status')
        batch_op.drop_index('ix_assignments_officer_id_status_due_on')
    op.drop_table('assignments')
