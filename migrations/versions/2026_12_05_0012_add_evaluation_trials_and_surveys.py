"""Add the evaluation domain (issue 14): training roster, trials with their allocation and
crossovers, and community perception survey campaigns with anonymous responses.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 14:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('beat_id', sa.Integer(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('public_token', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('(group_id IS NULL) <> (beat_id IS NULL)', name=op.f('ck_survey_campaigns_one_target')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_survey_campaigns_beat_id_beats')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_survey_campaigns_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_survey_campaigns_group_id_community_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_campaigns')),
    sa.UniqueConstraint('public_token', name=op.f('uq_survey_campaigns_public_token'))
    )
    op.create_index(op.f('ix_survey_campaigns_beat_id'), 'survey_campaigns', ['beat_id'], unique=False)
    op.create_index(op.f('ix_survey_campaigns_group_id'), 'survey_campaigns', ['group_id'], unique=False)
    op.create_table('training_completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=40), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('trainer', sa.String(length=120), server_default='', nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_training_completions_entered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_training_completions_officer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_completions')),
    sa.UniqueConstraint('officer_id', 'module', name=op.f('uq_training_completions_officer_id_module'))
    )
    op.create_table('trials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('strata', sa.String(length=20), server_default='none', nullable=False),
    sa.Column('eligible', sa.JSON(), nullable=False),
    sa.Column('baseline_start', sa.Date(), nullable=False),
    sa.Column('baseline_end', sa.Date(), nullable=False),
    sa.Column('follow_up_start', sa.Date(), nullable=False),
    sa.Column('follow_up_end', sa.Date(), nullable=False),
    sa.Column('outcomes', sa.JSON(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('arms_visible_to_supervisors', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('design_hash', sa.String(length=64), nullable=True),
    sa.Column('allocated_at', sa.DateTime(), nullable=True),
    sa.Column('allocated_by_id', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("strata IN ('district', 'none')", name=op.f('ck_trials_strata_valid')),
    sa.CheckConstraint("unit IN ('officer', 'beat')", name=op.f('ck_trials_unit_valid')),
    sa.ForeignKeyConstraint(['allocated_by_id'], ['users.id'], name=op.f('fk_trials_allocated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trials')),
    sa.UniqueConstraint('name', name=op.f('uq_trials_name'))
    )
    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.CheckConstraint("source IN ('paper', 'link')", name=op.f('ck_survey_responses_source_valid')),
    sa.ForeignKeyConstraint(['campaign_id'], ['survey_campaigns.id'], name=op.f('fk_survey_responses_campaign_id_survey_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses'))
    )
    op.create_index(op.f('ix_survey_responses_campaign_id'), 'survey_responses', ['campaign_id'], unique=False)
    op.create_table('trial_crossovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trial_id', sa.Integer(), nullable=False),
    sa.Column('unit_key', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("kind IN ('trained_in_control', 'untrained_in_treatment', 'moved_beat', 'other')", name=op.f('ck_trial_crossovers_kind_valid')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_trial_crossovers_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trial_id'], ['trials.id'], name=op.f('fk_trial_crossovers_trial_id_trials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trial_crossovers'))
    )
    op.create_index(op.f('ix_trial_crossovers_trial_id'), 'trial_crossovers', ['trial_id'], unique=False)
    op.create_table('trial_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trial_id', sa.Integer(), nullable=False),
    sa.Column('unit_key', sa.String(length=80), nullable=False),
    sa.Column('arm', sa.String(length=20), nullable=False),
    sa.Column('stratum', sa.String(length=40), server_default='', nullable=False),
    sa.CheckConstraint("arm IN ('treatment', 'control')", name=op.f('ck_trial_units_arm_valid')),
    sa.ForeignKeyConstraint(['trial_id'], ['trials.id'], name=op.f('fk_trial_units_trial_id_trials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trial_units')),
    sa.UniqueConstraint('trial_id', 'unit_key', name=op.f('uq_trial_units_trial_id_unit_key'))
    )


def downgrade():
    op.drop_table('trial_units')
    op.drop_index(op.f('ix_trial_crossovers_trial_id'), table_name='trial_crossovers')
    op.drop_table('trial_crossovers')
    op.drop_index(op.f('ix_survey_responses_campaign_id'), table_name='survey_responses')
    op.drop_table('survey_responses')
    op.drop_table('trials')
    op.drop_table('training_completions')
    op.drop_index(op.f('ix_survey_campaigns_group_id'), table_name='survey_campaigns')
    op.drop_index(op.f('ix_survey_campaigns_beat_id'), table_name='survey_campaigns')
    op.drop_table('survey_campaigns')
