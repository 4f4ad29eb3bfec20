"""Add handovers and handover_items: an officer's relationships carried to a successor (issue 15).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 14:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table('handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('leaving_officer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('reason', sa.String(length=20), server_default='planned', nullable=False),
    sa.Column('leaves_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('transferred_at', sa.DateTime(), nullable=True),
    sa.Column('transferred_by_id', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("reason IN ('planned', 'assignment_ended')", name=op.f('ck_handovers_reason_valid')),
    sa.CheckConstraint("status IN ('draft', 'transferred', 'cancelled')", name=op.f('ck_handovers_status_valid')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_handovers_beat_id_beats')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_handovers_created_by_id_users')),
    sa.ForeignKeyConstraint(['leaving_officer_id'], ['users.id'], name=op.f('fk_handovers_leaving_officer_id_users')),
    sa.ForeignKeyConstraint(['transferred_by_id'], ['users.id'], name=op.f('fk_handovers_transferred_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index('ix_handovers_beat_id_status', ['beat_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_leaving_officer_id'), ['leaving_officer_id'], unique=False)

    op.create_table('handover_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('stakeholder_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('case_action_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=30), nullable=True),
    sa.Column('last_contact_at', sa.DateTime(), nullable=True),
    sa.Column('hard_to_engage', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=300), server_default='', nullable=False),
    sa.Column('intro_mode', sa.String(length=20), server_default='introduce', nullable=False),
    sa.Column('intro_due_on', sa.Date(), nullable=True),
    sa.CheckConstraint("intro_mode IN ('meet_together', 'introduce')", name=op.f('ck_handover_items_intro_mode_valid')),
    sa.CheckConstraint("kind IN ('stakeholder', 'group', 'follow_up', 'case_action')", name=op.f('ck_handover_items_kind_valid')),
    sa.ForeignKeyConstraint(['case_action_id'], ['case_actions.id'], name=op.f('fk_handover_items_case_action_id_case_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_handover_items_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_handover_items_group_id_community_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_items_handover_id_handovers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'], name=op.f('fk_handover_items_stakeholder_id_stakeholders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['successor_id'], ['users.id'], name=op.f('fk_handover_items_successor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_items'))
    )
    with op.batch_alter_table('handover_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_items_handover_id'), ['handover_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_items_stakeholder_id'), ['stakeholder_id'], unique=False)
        batch_op.create_index('ix_handover_items_successor_id_kind', ['successor_id', 'kind'], unique=False)

def downgrade():
    with op.batch_alter_table('handover_items', schema=None) as batch_op:
        batch_op.drop_index('ix_handover_items_successor_id_kind')
        batch_op.drop_index(batch_op.f('ix_handover_items_stakeholder_id'))
        batch_op.drop_index(batch_op.f('ix_handover_items_handover_id'))

    op.drop_table('handover_items')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handovers_leaving_officer_id'))
        batch_op.drop_index('ix_handovers_beat_id_status')

    op.drop_table('handovers')

