"""Create the core schema: beats, users, groups, stakeholders, contacts, cases, audit.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 22:50:10.073940

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_username', sa.String(length=80), server_default='', nullable=False),
    sa.Column('ip', sa.String(length=64), server_default='', nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=60), server_default='', nullable=False),
    sa.Column('object_id', sa.String(length=64), server_default='', nullable=False),
    sa.Column('outcome', sa.String(length=20), server_default='success', nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("outcome IN ('success', 'failure', 'denied')", name=op.f('ck_audit_events_outcome_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_id_at', ['actor_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_object_type_object_id', ['object_type', 'object_id'], unique=False)

    op.create_table('community_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), server_default='other', nullable=False),
    sa.Column('stance', sa.String(length=20), server_default='unknown', nullable=False),
    sa.Column('stage', sa.String(length=30), server_default='none', nullable=False),
    sa.Column('size_estimate', sa.Integer(), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('contact_interval_days', sa.Integer(), server_default='30', nullable=False),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("kind IN ('geographic', 'demographic', 'cultural', 'faith', 'business', 'tenants', 'youth', 'advocacy', 'agency', 'informal', 'other')", name=op.f('ck_community_groups_kind_valid')),
    sa.CheckConstraint("stage IN ('none', 'initial_contact', 'rapport', 'working_relationship', 'collaborating_partner')", name=op.f('ck_community_groups_stage_valid')),
    sa.CheckConstraint("stance IN ('receptive', 'neutral', 'wary', 'hostile', 'unknown')", name=op.f('ck_community_groups_stance_valid')),
    sa.CheckConstraint('contact_interval_days > 0', name=op.f('ck_community_groups_interval_positive')),
    sa.CheckConstraint('size_estimate IS NULL OR size_estimate >= 0', name=op.f('ck_community_groups_size_nonnegative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_community_groups_name'))
    )
    op.create_table('districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('geometry', sa.JSON(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts')),
    sa.UniqueConstraint('code', name=op.f('uq_districts_code'))
    )
    op.create_table('stakeholders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('language', sa.String(length=40), nullable=True),
    sa.Column('data_subject_category', sa.String(length=30), server_default='community_member', nullable=False),
    sa.Column('consent_status', sa.String(length=20), server_default='not_asked', nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=True),
    sa.Column('consent_method', sa.String(length=80), nullable=True),
    sa.Column('consent_purpose', sa.String(length=200), nullable=True),
    sa.Column('stage', sa.String(length=30), server_default='none', nullable=False),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("consent_status IN ('given', 'withdrawn', 'not_asked')", name=op.f('ck_stakeholders_consent_status_valid')),
    sa.CheckConstraint("data_subject_category IN ('community_member', 'representative', 'partner_staff', 'business_owner', 'other')", name=op.f('ck_stakeholders_data_subject_category_valid')),
    sa.CheckConstraint("stage IN ('none', 'initial_contact', 'rapport', 'working_relationship', 'collaborating_partner')", name=op.f('ck_stakeholders_stage_valid')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['stakeholders.id'], name=op.f('fk_stakeholders_merged_into_id_stakeholders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholders')),
    sa.UniqueConstraint('external_id', name=op.f('uq_stakeholders_external_id'))
    )
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stakeholders_email'), ['email'], unique=False)
        batch_op.create_index('ix_stakeholders_name', ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_stakeholders_phone'), ['phone'], unique=False)
        batch_op.create_index('ix_stakeholders_review_on', ['review_on'], unique=False)

    op.create_table('beats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('geometry', sa.JSON(), nullable=True),
    sa.Column('centroid_lat', sa.Double(), nullable=True),
    sa.Column('centroid_lon', sa.Double(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_beats_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beats')),
    sa.UniqueConstraint('code', name=op.f('uq_beats_code'))
    )
    with op.batch_alter_table('beats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beats_district_id'), ['district_id'], unique=False)

    op.create_table('group_relations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_a_id', sa.Integer(), nullable=False),
    sa.Column('group_b_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('issue', sa.String(length=300), server_default='', nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("type IN ('allied', 'competing', 'overlapping')", name=op.f('ck_group_relations_type_valid')),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on', name=op.f('ck_group_relations_dates_ordered')),
    sa.CheckConstraint('group_a_id <> group_b_id', name=op.f('ck_group_relations_distinct_groups')),
    sa.ForeignKeyConstraint(['group_a_id'], ['community_groups.id'], name=op.f('fk_group_relations_group_a_id_community_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_b_id'], ['community_groups.id'], name=op.f('fk_group_relations_group_b_id_community_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_relations'))
    )
    with op.batch_alter_table('group_relations', schema=None) as batch_op:
        batch_op.create_index('ix_group_relations_group_a_id', ['group_a_id'], unique=False)
        batch_op.create_index('ix_group_relations_group_b_id', ['group_b_id'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stakeholder_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), server_default='member', nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("role IN ('leader', 'member', 'spokesperson', 'liaison')", name=op.f('ck_memberships_role_valid')),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on', name=op.f('ck_memberships_dates_ordered')),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_memberships_group_id_community_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'], name=op.f('fk_memberships_stakeholder_id_stakeholders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('stakeholder_id', 'group_id', name=op.f('uq_memberships_stakeholder_id_group_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_group_id_stakeholder_id', ['group_id', 'stakeholder_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('session_nonce', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("role IN ('officer', 'unit', 'supervisor', 'admin', 'analyst')", name=op.f('ck_users_role_valid')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_users_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_district_id'), ['district_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('beat_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_beat_assignments_dates_ordered')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_beat_assignments_beat_id_beats')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_beat_assignments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beat_assignments')),
    sa.UniqueConstraint('user_id', 'beat_id', 'starts_on', name=op.f('uq_beat_assignments_user_id_beat_id_starts_on'))
    )
    with op.batch_alter_table('beat_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beat_assignments_beat_id'), ['beat_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=200), server_default='', nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('initiated_by', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=200), server_default='', nullable=False),
    sa.Column('techniques', sa.JSON(), nullable=False),
    sa.Column('stage_after', sa.String(length=30), nullable=True),
    sa.Column('enforcement', sa.String(length=20), server_default='none', nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('follow_up_note', sa.String(length=300), server_default='', nullable=False),
    sa.Column('follow_up_done_at', sa.DateTime(), nullable=True),
    sa.Column('follow_up_done_by_id', sa.Integer(), nullable=True),
    sa.Column('logged_by_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("channel IN ('foot_patrol', 'meeting', 'phone', 'event', 'visit', 'online')", name=op.f('ck_contacts_channel_valid')),
    sa.CheckConstraint("enforcement IN ('none', 'warning', 'citation', 'arrest')", name=op.f('ck_contacts_enforcement_valid')),
    sa.CheckConstraint("initiated_by IN ('proactive', 'requested', 'reactive')", name=op.f('ck_contacts_initiated_by_valid')),
    sa.CheckConstraint("stage_after IN ('none', 'initial_contact', 'rapport', 'working_relationship', 'collaborating_partner')", name=op.f('ck_contacts_stage_after_valid')),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_contacts_beat_id_beats')),
    sa.ForeignKeyConstraint(['follow_up_done_by_id'], ['users.id'], name=op.f('fk_contacts_follow_up_done_by_id_users')),
    sa.ForeignKeyConstraint(['logged_by_id'], ['users.id'], name=op.f('fk_contacts_logged_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_contacts_idempotency_key'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_beat_id_occurred_at', ['beat_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_contacts_follow_up_on', ['follow_up_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_logged_by_id'), ['logged_by_id'], unique=False)
        batch_op.create_index('ix_contacts_occurred_at', ['occurred_at'], unique=False)

    op.create_table('group_beats',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_group_beats_beat_id_beats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_group_beats_group_id_community_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'beat_id', name=op.f('pk_group_beats'))
    )
    with op.batch_alter_table('group_beats', schema=None) as batch_op:
        batch_op.create_index('ix_group_beats_beat_id_group_id', ['beat_id', 'group_id'], unique=False)

    op.create_table('problem_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('problem_statement', sa.Text(), server_default='', nullable=False),
    sa.Column('stage', sa.String(length=20), server_default='scanning', nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.Text(), server_default='', nullable=False),
    sa.Column('place_managers', sa.Text(), server_default='', nullable=False),
    sa.Column('victim_target', sa.Text(), server_default='', nullable=False),
    sa.Column('guardians', sa.Text(), server_default='', nullable=False),
    sa.Column('offender', sa.Text(), server_default='', nullable=False),
    sa.Column('handlers', sa.Text(), server_default='', nullable=False),
    sa.Column('analysis', sa.Text(), server_default='', nullable=False),
    sa.Column('response_plan', sa.Text(), server_default='', nullable=False),
    sa.Column('assessment', sa.Text(), server_default='', nullable=False),
    sa.Column('community_verdict', sa.Text(), server_default='', nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('stage_entered_at', sa.DateTime(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("stage IN ('scanning', 'analysis', 'response', 'assessment', 'closed')", name=op.f('ck_problem_cases_stage_valid')),
    sa.ForeignKeyConstraint(['lead_id'], ['users.id'], name=op.f('fk_problem_cases_lead_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_cases'))
    )
    with op.batch_alter_table('problem_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_cases_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_problem_cases_stage', ['stage'], unique=False)

    op.create_table('case_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_kind', sa.String(length=20), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('owner_stakeholder_id', sa.Integer(), nullable=True),
    sa.Column('owner_group_id', sa.Integer(), nullable=True),
    sa.Column('owner_agency', sa.String(length=200), server_default='', nullable=False),
    sa.Column('liaison_user_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='open', nullable=False),
    sa.Column('outcome', sa.Text(), server_default='', nullable=False),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("(owner_kind = 'officer' AND owner_user_id IS NOT NULL) OR (owner_kind = 'stakeholder' AND owner_stakeholder_id IS NOT NULL) OR (owner_kind = 'group' AND owner_group_id IS NOT NULL) OR (owner_kind = 'agency' AND owner_agency <> '')", name=op.f('ck_case_actions_owner_matches_kind')),
    sa.CheckConstraint("owner_kind IN ('officer', 'stakeholder', 'group', 'agency')", name=op.f('ck_case_actions_owner_kind_valid')),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done', 'dropped')", name=op.f('ck_case_actions_status_valid')),
    sa.ForeignKeyConstraint(['case_id'], ['problem_cases.id'], name=op.f('fk_case_actions_case_id_problem_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['liaison_user_id'], ['users.id'], name=op.f('fk_case_actions_liaison_user_id_users')),
    sa.ForeignKeyConstraint(['owner_group_id'], ['community_groups.id'], name=op.f('fk_case_actions_owner_group_id_community_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_stakeholder_id'], ['stakeholders.id'], name=op.f('fk_case_actions_owner_stakeholder_id_stakeholders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_case_actions_owner_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_actions'))
    )
    with op.batch_alter_table('case_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_actions_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_actions_owner_user_id_due_on', ['owner_user_id', 'due_on'], unique=False)

    op.create_table('case_beats',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['beat_id'], ['beats.id'], name=op.f('fk_case_beats_beat_id_beats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['problem_cases.id'], name=op.f('fk_case_beats_case_id_problem_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'beat_id', name=op.f('pk_case_beats'))
    )
    with op.batch_alter_table('case_beats', schema=None) as batch_op:
        batch_op.create_index('ix_case_beats_beat_id_case_id', ['beat_id', 'case_id'], unique=False)

    op.create_table('case_contacts',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['problem_cases.id'], name=op.f('fk_case_contacts_case_id_problem_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_case_contacts_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'contact_id', name=op.f('pk_case_contacts'))
    )
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('summary', sa.Text(), server_default='', nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['problem_cases.id'], name=op.f('fk_case_events_case_id_problem_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)

    op.create_table('case_ideas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('proposed_by_stakeholder_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_group_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='proposed', nullable=False),
    sa.Column('decline_reason', sa.Text(), server_default='', nullable=False),
    sa.Column('proposer_told_on', sa.Date(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("status <> 'declined' OR decline_reason <> ''", name=op.f('ck_case_ideas_decline_has_reason')),
    sa.CheckConstraint("status IN ('proposed', 'adopted', 'declined')", name=op.f('ck_case_ideas_status_valid')),
    sa.ForeignKeyConstraint(['case_id'], ['problem_cases.id'], name=op.f('fk_case_ideas_case_id_problem_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_group_id'], ['community_groups.id'], name=op.f('fk_case_ideas_proposed_by_group_id_community_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposed_by_stakeholder_id'], ['stakeholders.id'], name=op.f('fk_case_ideas_proposed_by_stakeholder_id_stakeholders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_ideas'))
    )
    with op.batch_alter_table('case_ideas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ideas_case_id'), ['case_id'], unique=False)

    op.create_table('case_measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=60), server_default='', nullable=False),
    sa.Column('baseline_value', sa.Double(), nullable=True),
    sa.Column('baseline_on', sa.Date(), nullable=True),
    sa.Column('version_id', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['problem_cases.id'], name=op.f('fk_case_measures_case_id_problem_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_measures'))
    )
    with op.batch_alter_table('case_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_measures_case_id'), ['case_id'], unique=False)

    op.create_table('case_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('stakeholder_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('agency', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("(kind = 'group' AND group_id IS NOT NULL) OR (kind = 'stakeholder' AND stakeholder_id IS NOT NULL) OR (kind = 'officer' AND user_id IS NOT NULL) OR (kind = 'agency' AND agency <> '')", name=op.f('ck_case_participants_subject_matches_kind')),
    sa.CheckConstraint("kind IN ('group', 'stakeholder', 'officer', 'agency')", name=op.f('ck_case_participants_kind_valid')),
    sa.CheckConstraint("role IN ('co_producer', 'affected_party', 'resource', 'competing_interest')", name=op.f('ck_case_participants_role_valid')),
    sa.ForeignKeyConstraint(['case_id'], ['problem_cases.id'], name=op.f('fk_case_participants_case_id_problem_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_case_participants_group_id_community_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'], name=op.f('fk_case_participants_stakeholder_id_stakeholders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_participants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_participants'))
    )
    with op.batch_alter_table('case_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_participants_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_participants_group_id', ['group_id'], unique=False)
        batch_op.create_index('ix_case_participants_stakeholder_id', ['stakeholder_id'], unique=False)

    op.create_table('contact_groups',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('initiated_by', sa.String(length=20), nullable=False),
    sa.CheckConstraint("initiated_by IN ('proactive', 'requested', 'reactive')", name=op.f('ck_contact_groups_initiated_by_valid')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_groups_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_contact_groups_group_id_community_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'group_id', name=op.f('pk_contact_groups'))
    )
    with op.batch_alter_table('contact_groups', schema=None) as batch_op:
        batch_op.create_index('ix_contact_groups_group_id_initiated_by_occurred_at', ['group_id', 'initiated_by', 'occurred_at'], unique=False)
        batch_op.create_index('ix_contact_groups_group_id_occurred_at', ['group_id', 'occurred_at'], unique=False)

    op.create_table('contact_officers',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_officers_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contact_officers_user_id_users')),
    sa.PrimaryKeyConstraint('contact_id', 'user_id', name=op.f('pk_contact_officers'))
    )
    with op.batch_alter_table('contact_officers', schema=None) as batch_op:
        batch_op.create_index('ix_contact_officers_user_id_occurred_at', ['user_id', 'occurred_at'], unique=False)

    op.create_table('contact_stakeholders',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('stakeholder_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_stakeholders_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'], name=op.f('fk_contact_stakeholders_stakeholder_id_stakeholders')),
    sa.PrimaryKeyConstraint('contact_id', 'stakeholder_id', name=op.f('pk_contact_stakeholders'))
    )
    with op.batch_alter_table('contact_stakeholders', schema=None) as batch_op:
        batch_op.create_index('ix_contact_stakeholders_stakeholder_id_occurred_at', ['stakeholder_id', 'occurred_at'], unique=False)

    op.create_table('relationship_stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stakeholder_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('from_stage', sa.String(length=30), nullable=False),
    sa.Column('to_stage', sa.String(length=30), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("from_stage IN ('none', 'initial_contact', 'rapport', 'working_relationship', 'collaborating_partner')", name=op.f('ck_relationship_stage_changes_from_stage_valid')),
    sa.CheckConstraint("to_stage IN ('none', 'initial_contact', 'rapport', 'working_relationship', 'collaborating_partner')", name=op.f('ck_relationship_stage_changes_to_stage_valid')),
    sa.CheckConstraint('(stakeholder_id IS NULL) <> (group_id IS NULL)', name=op.f('ck_relationship_stage_changes_one_subject')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_relationship_stage_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_relationship_stage_changes_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'], name=op.f('fk_relationship_stage_changes_group_id_community_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'], name=op.f('fk_relationship_stage_changes_stakeholder_id_stakeholders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship_stage_changes'))
    )
    with op.batch_alter_table('relationship_stage_changes', schema=None) as batch_op:
        batch_op.create_index('ix_relationship_stage_changes_group_id_changed_at', ['group_id', 'changed_at'], unique=False)
        batch_op.create_index('ix_relationship_stage_changes_stakeholder_id_changed_at', ['stakeholder_id', 'changed_at'], unique=False)

    op.create_table('wellbeing_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('stress_level', sa.Integer(), nullable=False),
    sa.Column('boundary_crossed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('coping', sa.Text(), server_default='', nullable=False),
    sa.Column('debrief_wanted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('stress_level BETWEEN 1 AND 5', name=op.f('ck_wellbeing_checkins_stress_level_range')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_wellbeing_checkins_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_wellbeing_checkins_officer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wellbeing_checkins'))
    )
    with op.batch_alter_table('wellbeing_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_wellbeing_checkins_officer_id_occurred_at', ['officer_id', 'occurred_at'], unique=False)

    op.create_table('case_measure_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('note', sa.String(length=300), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['case_measures.id'], name=op.f('fk_case_measure_values_measure_id_case_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_measure_values'))
    )
    with op.batch_alter_table('case_measure_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_measure_values_measure_id'), ['measure_id'], unique=False)



def downgrade():
    with op.batch_alter_table('case_measure_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_measure_values_measure_id'))

    op.drop_table('case_measure_values')
    with op.batch_alter_table('wellbeing_checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_wellbeing_checkins_officer_id_occurred_at')

    op.drop_table('wellbeing_checkins')
    with op.batch_alter_table('relationship_stage_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_relationship_stage_changes_stakeholder_id_changed_at')
        batch_op.drop_index('ix_relationship_stage_changes_group_id_changed_at')

    op.drop_table('relationship_stage_changes')
    with op.batch_alter_table('contact_stakeholders', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_stakeholders_stakeholder_id_occurred_at')

    op.drop_table('contact_stakeholders')
    with op.batch_alter_table('contact_officers', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_officers_user_id_occurred_at')

    op.drop_table('contact_officers')
    with op.batch_alter_table('contact_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_groups_group_id_occurred_at')
        batch_op.drop_index('ix_contact_groups_group_id_initiated_by_occurred_at')

    op.drop_table('contact_groups')
    with op.batch_alter_table('case_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_case_participants_stakeholder_id')
        batch_op.drop_index('ix_case_participants_group_id')
        batch_op.drop_index(batch_op.f('ix_case_participants_case_id'))

    op.drop_table('case_participants')
    with op.batch_alter_table('case_measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_measures_case_id'))

    op.drop_table('case_measures')
    with op.batch_alter_table('case_ideas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_ideas_case_id'))

    op.drop_table('case_ideas')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    op.drop_table('case_contacts')
    with op.batch_alter_table('case_beats', schema=None) as batch_op:
        batch_op.drop_index('ix_case_beats_beat_id_case_id')

    op.drop_table('case_beats')
    with op.batch_alter_table('case_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_case_actions_owner_user_id_due_on')
        batch_op.drop_index(batch_op.f('ix_case_actions_case_id'))

    op.drop_table('case_actions')
    with op.batch_alter_table('problem_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_cases_stage')
        batch_op.drop_index(batch_op.f('ix_problem_cases_lead_id'))

    op.drop_table('problem_cases')
    with op.batch_alter_table('group_beats', schema=None) as batch_op:
        batch_op.drop_index('ix_group_beats_beat_id_group_id')

    op.drop_table('group_beats')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_occurred_at')
        batch_op.drop_index(batch_op.f('ix_contacts_logged_by_id'))
        batch_op.drop_index('ix_contacts_follow_up_on')
        batch_op.drop_index('ix_contacts_beat_id_occurred_at')

    op.drop_table('contacts')
    with op.batch_alter_table('beat_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beat_assignments_beat_id'))

    op.drop_table('beat_assignments')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_district_id'))

    op.drop_table('users')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_group_id_stakeholder_id')

    op.drop_table('memberships')
    with op.batch_alter_table('group_relations', schema=None) as batch_op:
        batch_op.drop_index('ix_group_relations_group_b_id')
        batch_op.drop_index('ix_group_relations_group_a_id')

    op.drop_table('group_relations')
    with op.batch_alter_table('beats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beats_district_id'))

    op.drop_table('beats')
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.drop_index('ix_stakeholders_review_on')
        batch_op.drop_index(batch_op.f('ix_stakeholders_phone'))
        batch_op.drop_index('ix_stakeholders_name')
        batch_op.drop_index(batch_op.f('ix_stakeholders_email'))

    op.drop_table('stakeholders')
    op.drop_table('districts')
    op.drop_table('community_groups')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object_type_object_id')
        batch_op.drop_index('ix_audit_events_at')
        batch_op.drop_index('ix_audit_events_actor_id_at')

    op.drop_table('audit_events')
